//! HEIF containers: HEIC (HEVC) and AVIF (AV1), through libheif (1.23, built
//! from the source `libheif-sys` bundles) with Debian's libde265 (HEVC) and
//! libdav1d (AV1) as its decoders. See docs/IMAGE_FORMATS.md for why.
//!
//! The same limits as every other format: the display size (after the
//! container's rotation and mirroring) and the stored size are checked
//! before any pixel is decoded, and libheif's own security limits get the
//! pixel and memory budgets. libheif applies the container's `irot`/`imir`
//! transforms itself, so the EXIF orientation (informational in HEIF) is not
//! applied again. The primary image is the image; grid tiles, thumbnails,
//! depth and auxiliary images are libheif's business.

use std::sync::OnceLock;

use image::{DynamicImage, ImageBuffer, Rgb, Rgba};
use image::{ExtendedColorType, metadata::Orientation};
use libheif_rs::{
    ColorSpace, HeifContext, HeifError, HeifErrorCode, HeifErrorSubCode, LibHeif, RgbChroma,
    SecurityLimits,
};

use super::{DecodeLimits, Header, check_dimensions};
use crate::error::PipelineError;

/// Which HEIF flavour the `ftyp` box announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// AV1 payload (`avif`, `avis` brands).
    Avif,
    /// HEVC payload (`heic`, `heix`, `hevc`, ... brands).
    Heic,
    /// A HEIF container of another or unannounced codec (`mif1`, `msf1`).
    Heif,
}

impl Kind {
    /// Stable lower-case format name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Avif => "avif",
            Self::Heic => "heic",
            Self::Heif => "heif",
        }
    }
}

/// The HEIF flavour of `bytes`, from the brands of a leading `ftyp` box.
pub(super) fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.get(4..8)? != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let end = size.clamp(16, 256).min(bytes.len());
    // The major brand, then (after the minor version) the compatible brands.
    let brands: Vec<&[u8]> = std::iter::once(bytes.get(8..12)?)
        .chain(bytes.get(16..end)?.chunks_exact(4))
        .collect();
    let any = |names: &[&[u8; 4]]| brands.iter().any(|b| names.iter().any(|n| *b == *n));
    if any(&[b"avif", b"avis"]) {
        Some(Kind::Avif)
    } else if any(&[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"]) {
        Some(Kind::Heic)
    } else if any(&[b"mif1", b"msf1"]) {
        Some(Kind::Heif)
    } else {
        None
    }
}

/// The one libheif initialisation of the process (decoders registered once).
fn libheif() -> &'static LibHeif {
    static LIBHEIF: OnceLock<LibHeif> = OnceLock::new();
    LIBHEIF.get_or_init(LibHeif::new)
}

/// Decodes the primary image of a HEIF container within `limits`.
pub(super) fn decode(
    bytes: &[u8],
    limits: &DecodeLimits,
    kind: Kind,
) -> Result<(DynamicImage, Header), PipelineError> {
    let fail = |error: HeifError| classify(error, kind);
    let mut context: HeifContext<'_> = HeifContext::new().map_err(fail)?;
    let mut security = SecurityLimits::new();
    security.set_max_image_size_pixels(limits.max_pixels);
    security.set_max_total_memory(limits.max_decoder_bytes);
    security.set_max_memory_block_size(limits.max_decoder_bytes);
    context.set_security_limits(&security).map_err(fail)?;
    context.read_bytes(bytes).map_err(fail)?;
    let handle = context.primary_image_handle().map_err(fail)?;
    let (width, height) = (handle.width(), handle.height());
    check_dimensions(width, height, limits)?;
    let stored = |v: i32| u32::try_from(v).unwrap_or(0);
    let (stored_width, stored_height) = (stored(handle.ispe_width()), stored(handle.ispe_height()));
    if stored_width > 0 && stored_height > 0 {
        check_dimensions(stored_width, stored_height, limits)?;
    }
    let alpha = handle.has_alpha_channel();
    // 8, or 9-16 (10 and 12 in practice), decoded as 16-bit.
    let bits = match handle.luma_bits_per_pixel() {
        0..=8 => 8,
        deep => deep.min(16),
    };
    let exif = handle
        .all_metadata()
        .into_iter()
        .find(|m| m.item_type.0 == *b"Exif")
        .and_then(|m| exif_tiff(&m.raw_data));
    let header = Header {
        width,
        height,
        color_type: match (alpha, bits > 8) {
            (false, false) => ExtendedColorType::Rgb8,
            (true, false) => ExtendedColorType::Rgba8,
            (false, true) => ExtendedColorType::Rgb16,
            (true, true) => ExtendedColorType::Rgba16,
        },
        stored_bits: Some(bits),
        icc_profile: handle.color_profile_raw().map(|p| p.data),
        orientation: Orientation::NoTransforms,
        exif,
    };
    let chroma = match (alpha, bits > 8) {
        (false, false) => RgbChroma::Rgb,
        (true, false) => RgbChroma::Rgba,
        (false, true) => RgbChroma::HdrRgbLe,
        (true, true) => RgbChroma::HdrRgbaLe,
    };
    let decoded = libheif()
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(fail)?;
    let corrupt = |what: &str| PipelineError::Corrupt(format!("{}: {what}", kind.name()));
    let plane = decoded
        .planes()
        .interleaved
        .ok_or_else(|| corrupt("no interleaved RGB plane"))?;
    let channels: usize = if alpha { 4 } else { 3 };
    let (w, h) = (plane.width, plane.height);
    let row_bytes = w as usize * channels * if bits > 8 { 2 } else { 1 };
    let rows = (0..h as usize).map(|y| {
        plane
            .data
            .get(y * plane.stride..y * plane.stride + row_bytes)
    });
    let image = if bits > 8 {
        // Little-endian samples of `bits` bits, widened to the full 16-bit
        // range by repeating their high bits (1023 -> 65535).
        let shift = 16 - u32::from(bits);
        let widen = |v: u16| match shift {
            0 => v,
            _ => (v << shift) | (v >> (u32::from(bits) - shift)),
        };
        let mut samples = Vec::with_capacity(w as usize * h as usize * channels);
        for row in rows {
            let row = row.ok_or_else(|| corrupt("short plane"))?;
            samples.extend(
                row.chunks_exact(2)
                    .map(|s| widen(u16::from_le_bytes([s[0], s[1]]))),
            );
        }
        if alpha {
            ImageBuffer::<Rgba<u16>, _>::from_raw(w, h, samples).map(DynamicImage::ImageRgba16)
        } else {
            ImageBuffer::<Rgb<u16>, _>::from_raw(w, h, samples).map(DynamicImage::ImageRgb16)
        }
    } else {
        let mut samples = Vec::with_capacity(w as usize * h as usize * channels);
        for row in rows {
            samples.extend_from_slice(row.ok_or_else(|| corrupt("short plane"))?);
        }
        if alpha {
            ImageBuffer::<Rgba<u8>, _>::from_raw(w, h, samples).map(DynamicImage::ImageRgba8)
        } else {
            ImageBuffer::<Rgb<u8>, _>::from_raw(w, h, samples).map(DynamicImage::ImageRgb8)
        }
    };
    Ok((image.ok_or_else(|| corrupt("short plane"))?, header))
}

/// HEIF's EXIF item starts with the offset of the TIFF header (usually 0,
/// or 6 to skip `Exif\0\0`); the EXIF parser wants the TIFF structure.
fn exif_tiff(item: &[u8]) -> Option<Vec<u8>> {
    let offset = u32::from_be_bytes(item.get(0..4)?.try_into().ok()?) as usize;
    item.get(4usize.checked_add(offset)?..).map(<[u8]>::to_vec)
}

fn classify(error: HeifError, kind: Kind) -> PipelineError {
    let message = format!("{}: {}", kind.name(), error.message);
    match (error.code, error.sub_code) {
        (_, HeifErrorSubCode::SecurityLimitExceeded) => PipelineError::MemoryLimit(message),
        (_, HeifErrorSubCode::EndOfData) => PipelineError::Truncated(message),
        (HeifErrorCode::MemoryAllocationError, _) => PipelineError::MemoryLimit(message),
        (HeifErrorCode::UnsupportedFeature | HeifErrorCode::UnsupportedFileType, _) => {
            PipelineError::UnsupportedFormat(Some(message))
        }
        _ => PipelineError::Corrupt(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_decide_the_flavour() {
        let ftyp = |major: &[u8; 4], compatible: &[&[u8; 4]]| {
            let size = 16 + 4 * compatible.len() as u32;
            let mut bytes = size.to_be_bytes().to_vec();
            bytes.extend(b"ftyp");
            bytes.extend(major);
            bytes.extend([0; 4]);
            compatible.iter().for_each(|b| bytes.extend(*b));
            bytes.extend(b"\0\0\0\x08meta");
            bytes
        };
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1"])), Some(Kind::Heic));
        assert_eq!(sniff(&ftyp(b"avif", &[b"mif1", b"miaf"])), Some(Kind::Avif));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"avif"])), Some(Kind::Avif));
        assert_eq!(sniff(&ftyp(b"mif1", &[b"miaf"])), Some(Kind::Heif));
        assert_eq!(sniff(&ftyp(b"isom", &[b"mp41"])), None, "an MP4 video");
        assert_eq!(sniff(b"\0\0\0\x0cftyp"), None, "too short");
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn exif_items_give_the_tiff_structure() {
        assert_eq!(exif_tiff(b"\0\0\0\0II*\0"), Some(b"II*\0".to_vec()));
        assert_eq!(
            exif_tiff(b"\0\0\0\x06Exif\0\0MM\0*"),
            Some(b"MM\0*".to_vec())
        );
        assert_eq!(exif_tiff(b"\xff\xff\xff\xffII"), None);
        assert_eq!(exif_tiff(b"\0\0"), None);
    }
}
