//! What an image says about itself: format, dimensions, colour type, bit
//! depth, ICC profile (and whether it was applied), frame count, EXIF orientation, and the EXIF
//! fields a business cares about (capture time, camera, lens, exposure, GPS).
//!
//! EXIF is parsed with `kamadak-exif`. A damaged EXIF block does not reject
//! the image: the pixels are still good. It is reported in `exif_error`.

use exif::{Exif, In, Tag, Value};

use serde::{Deserialize, Serialize};

use crate::color::IccReport;

/// Everything known about an image besides its pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageMetadata {
    /// Format sniffed from the content (`jpeg`, `png`, `webp`, `gif`, `tiff`,
    /// `bmp`, `avif`, `heic`, `heif`).
    pub format: String,
    /// Width of the upright image (after EXIF orientation), in pixels.
    pub width: u32,
    /// Height of the upright image (after EXIF orientation), in pixels.
    pub height: u32,
    /// Colour type as stored (`rgb8`, `rgba16`, `l8`, `cmyk8`, `rgb10`, ...).
    pub color_type: String,
    /// Bits per channel as stored.
    pub bit_depth: u8,
    /// The embedded ICC profile: present, applied (pixels converted to
    /// sRGB), its description, or why it was not applied.
    pub icc: IccReport,
    /// Number of frames (1 for still images); animations are decoded up to
    /// the configured frame limit.
    pub frame_count: u32,
    /// EXIF orientation (1-8) that was applied; 1 when absent.
    pub orientation: u8,
    /// EXIF fields, when the image has an EXIF block.
    pub exif: Option<ExifFields>,
    /// Why the EXIF block could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exif_error: Option<String>,
}

/// The EXIF fields imgtag keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExifFields {
    /// Capture time as `YYYY-MM-DDTHH:MM:SS`, with the UTC offset appended
    /// when the camera recorded one (`+02:00`).
    pub captured_at: Option<String>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Lens model.
    pub lens: Option<String>,
    /// Exposure time in seconds.
    pub exposure_time_s: Option<f64>,
    /// Aperture (f-number).
    pub f_number: Option<f64>,
    /// ISO sensitivity.
    pub iso: Option<u32>,
    /// Focal length in millimetres.
    pub focal_length_mm: Option<f64>,
    /// GPS position, when recorded.
    pub gps: Option<GpsPosition>,
}

/// A GPS position in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsPosition {
    /// Latitude, positive north.
    pub latitude: f64,
    /// Longitude, positive east.
    pub longitude: f64,
    /// Altitude in metres above sea level, when recorded.
    pub altitude_m: Option<f64>,
}

/// Parses a raw EXIF block (TIFF structure, as decoders return it).
pub fn parse_exif(raw: Vec<u8>) -> Result<ExifFields, String> {
    let exif = exif::Reader::new()
        .read_raw(raw)
        .map_err(|e| e.to_string())?;
    Ok(ExifFields {
        captured_at: captured_at(&exif),
        make: text(&exif, Tag::Make),
        model: text(&exif, Tag::Model),
        lens: text(&exif, Tag::LensModel),
        exposure_time_s: rational(&exif, Tag::ExposureTime, 0),
        f_number: rational(&exif, Tag::FNumber, 0),
        iso: field(&exif, Tag::PhotographicSensitivity).and_then(|v| v.get_uint(0)),
        focal_length_mm: rational(&exif, Tag::FocalLength, 0),
        gps: gps(&exif),
    })
}

fn field(exif: &Exif, tag: Tag) -> Option<&Value> {
    exif.get_field(tag, In::PRIMARY).map(|f| &f.value)
}

fn text(exif: &Exif, tag: Tag) -> Option<String> {
    match field(exif, tag)? {
        Value::Ascii(parts) => {
            let joined: Vec<String> = parts
                .iter()
                .map(|p| {
                    String::from_utf8_lossy(p)
                        .trim_matches(['\0', ' '])
                        .to_owned()
                })
                .filter(|p| !p.is_empty())
                .collect();
            (!joined.is_empty()).then(|| joined.join(" "))
        }
        _ => None,
    }
}

fn rational(exif: &Exif, tag: Tag, index: usize) -> Option<f64> {
    let value = match field(exif, tag)? {
        Value::Rational(values) => values.get(index).map(|r| r.to_f64()),
        Value::SRational(values) => values.get(index).map(|r| r.to_f64()),
        _ => None,
    }?;
    value.is_finite().then_some(value)
}

fn captured_at(exif: &Exif) -> Option<String> {
    let raw = text(exif, Tag::DateTimeOriginal).or_else(|| text(exif, Tag::DateTime))?;
    // EXIF: "YYYY:MM:DD HH:MM:SS"
    let bytes = raw.as_bytes();
    let shape_ok = bytes.len() >= 19
        && bytes[4] == b':'
        && bytes[7] == b':'
        && bytes[10] == b' '
        && bytes[13] == b':'
        && bytes[16] == b':'
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .into_iter()
            .all(|r| bytes[r].iter().all(u8::is_ascii_digit));
    if !shape_ok || raw.starts_with("0000") {
        return None;
    }
    let mut iso = format!(
        "{}-{}-{}T{}",
        &raw[0..4],
        &raw[5..7],
        &raw[8..10],
        &raw[11..19]
    );
    if let Some(offset) =
        text(exif, Tag::OffsetTimeOriginal).or_else(|| text(exif, Tag::OffsetTime))
    {
        let valid = offset.len() == 6
            && matches!(offset.as_bytes()[0], b'+' | b'-')
            && offset.as_bytes()[3] == b':';
        if valid {
            iso.push_str(&offset);
        }
    }
    Some(iso)
}

fn gps(exif: &Exif) -> Option<GpsPosition> {
    let degrees = |tag: Tag| -> Option<f64> {
        match field(exif, tag)? {
            Value::Rational(v) if v.len() >= 3 => {
                Some(v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0)
            }
            _ => None,
        }
    };
    let sign = |tag: Tag, negative: &str| match text(exif, tag) {
        Some(r) if r.eq_ignore_ascii_case(negative) => -1.0,
        _ => 1.0,
    };
    let latitude = degrees(Tag::GPSLatitude)? * sign(Tag::GPSLatitudeRef, "S");
    let longitude = degrees(Tag::GPSLongitude)? * sign(Tag::GPSLongitudeRef, "W");
    if !(latitude.is_finite() && longitude.is_finite())
        || latitude.abs() > 90.0
        || longitude.abs() > 180.0
    {
        return None;
    }
    let below_sea =
        matches!(field(exif, Tag::GPSAltitudeRef), Some(Value::Byte(b)) if b.first() == Some(&1));
    let altitude_m = rational(exif, Tag::GPSAltitude, 0).map(|a| if below_sea { -a } else { a });
    Some(GpsPosition {
        latitude,
        longitude,
        altitude_m,
    })
}
