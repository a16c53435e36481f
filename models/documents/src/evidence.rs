//! What the document reader looks at: the OCR lines and a few signals about
//! the image, gathered by the `document` analyzer from the analyzers before
//! it.

use serde::{Deserialize, Serialize};

/// One OCR line, in reading order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceLine {
    /// The text as recognised.
    pub text: String,
    /// The recogniser's confidence, 0-1.
    pub confidence: f32,
    /// Axis-aligned box of the line, as fractions of the image: x, y,
    /// width, height (0-1).
    pub rect: [f32; 4],
}

/// Everything the reader gets about one image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentEvidence {
    /// OCR lines in reading order (empty when no text was read).
    pub lines: Vec<EvidenceLine>,
    /// Image width and height in pixels.
    pub size: (u32, u32),
    /// The classifier's top ImageNet classes (lemma names such as `menu`,
    /// `envelope`, `web_site`) with probabilities, best first.
    pub classes: Vec<(String, f32)>,
    /// Whether EXIF names a camera (make or model): photos have it,
    /// screenshots and renders do not.
    pub camera_exif: bool,
    /// Faces found, as fractions of the image: x, y, width, height.
    pub faces: Vec<[f32; 4]>,
    /// Whether text makes up the image (many lines or much of its area).
    pub text_dominant: bool,
}
