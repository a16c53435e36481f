//! Fingerprints: SHA-256 of the original bytes (exact duplicates, and the
//! image id) and a 64-bit perceptual hash (near duplicates: re-encoded,
//! resized, slightly edited copies), compared by Hamming distance.
//!
//! The perceptual hash is pHash (DCT of a 16x16 greyscale reduction, the 8x8
//! lowest frequencies compared with their median) from the `image_hasher`
//! crate, computed on the small analysis image so its cost does not grow
//! with the photo's size.

use image::GrayImage;
use image_hasher::{HashAlg, HasherConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The fingerprints of one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// SHA-256 of the original bytes, lower-case hex.
    pub sha256: String,
    /// 64-bit perceptual hash, 16 lower-case hex digits.
    pub phash: String,
}

impl Fingerprints {
    /// Fingerprints of `bytes`, whose decoded analysis image is `analysis`.
    pub fn compute(bytes: &[u8], analysis: &GrayImage) -> Self {
        Self {
            sha256: sha256_hex(bytes),
            phash: format!("{:016x}", perceptual_hash(analysis)),
        }
    }
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// pHash of a greyscale image.
pub fn perceptual_hash(image: &GrayImage) -> u64 {
    let hasher = HasherConfig::with_bytes_type::<[u8; 8]>()
        .hash_alg(HashAlg::Median)
        .preproc_dct()
        .hash_size(8, 8)
        .to_hasher();
    u64::from_be_bytes(hasher.hash_image(image).into_inner())
}

/// Number of differing bits between two perceptual hashes.
pub fn hamming_distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(width: u32, height: u32, shift: u8) -> GrayImage {
        GrayImage::from_fn(width, height, |x, y| {
            let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
            let circle = ((fx - 0.4).powi(2) + (fy - 0.5).powi(2)) < 0.05;
            image::Luma([if circle {
                220
            } else {
                (40.0 + 120.0 * fx) as u8
            }
            .saturating_add(shift)])
        })
    }

    #[test]
    fn sha256_matches_a_known_value() {
        assert_eq!(
            sha256_hex(b"hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn resized_and_brightened_copies_stay_close_other_scenes_do_not() {
        let original = perceptual_hash(&scene(256, 192, 0));
        let smaller = perceptual_hash(&scene(128, 96, 0));
        let brighter = perceptual_hash(&scene(256, 192, 20));
        // A different scene: the gradient runs down, the disc sits bottom right.
        let other = perceptual_hash(&GrayImage::from_fn(256, 192, |x, y| {
            let (fx, fy) = (x as f32 / 256.0, y as f32 / 192.0);
            let disc = ((fx - 0.75).powi(2) + (fy - 0.7).powi(2)) < 0.03;
            image::Luma([if disc { 30 } else { (60.0 + 150.0 * fy) as u8 }])
        }));
        assert!(
            hamming_distance(original, smaller) <= 6,
            "{original:x} {smaller:x}"
        );
        assert!(
            hamming_distance(original, brighter) <= 6,
            "{original:x} {brighter:x}"
        );
        assert!(
            hamming_distance(original, other) > 16,
            "{original:x} {other:x}"
        );
    }
}
