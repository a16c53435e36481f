//! The image and layout signals rules can name: a closed set, each seen or
//! not in a document's evidence.

use serde::{Deserialize, Serialize};

use super::layout;
use crate::DocumentEvidence;

/// A yes/no fact about the image beyond its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// EXIF names no camera: a screenshot, a render or a scan.
    NoCameraExif,
    /// Text makes up the image (the analyzer's judgement).
    TextDominant,
    /// At least [`layout::MANY_LINES`] OCR lines.
    ManyLines,
    /// Many lines, most of them short (chat messages, app screens).
    ManyShortLines,
    /// A small face among lines of text (the photo on an ID card or a
    /// passport).
    FaceOnDocument,
    /// A clock time (9:41, 12:30) in a short line at the very top: a phone's
    /// status bar.
    StatusBar,
    /// A percentage at the very top: a phone's battery level.
    BatteryLevel,
    /// Short lines alternating between the left and the right of the image,
    /// one per row: chat bubbles.
    ChatBubbles,
}

impl Signal {
    /// Every signal.
    pub const ALL: &'static [Signal] = &[
        Self::NoCameraExif,
        Self::TextDominant,
        Self::ManyLines,
        Self::ManyShortLines,
        Self::FaceOnDocument,
        Self::StatusBar,
        Self::BatteryLevel,
        Self::ChatBubbles,
    ];

    /// Its name in the rule file and in evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoCameraExif => "no_camera_exif",
            Self::TextDominant => "text_dominant",
            Self::ManyLines => "many_lines",
            Self::ManyShortLines => "many_short_lines",
            Self::FaceOnDocument => "face_on_document",
            Self::StatusBar => "status_bar",
            Self::BatteryLevel => "battery_level",
            Self::ChatBubbles => "chat_bubbles",
        }
    }

    /// Whether the evidence shows it.
    pub fn seen(self, evidence: &DocumentEvidence) -> bool {
        match self {
            Self::NoCameraExif => !evidence.camera_exif,
            Self::TextDominant => evidence.text_dominant,
            Self::ManyLines => evidence.lines.len() >= layout::MANY_LINES,
            Self::ManyShortLines => layout::many_short_lines(&evidence.lines),
            Self::FaceOnDocument => layout::face_on_document(evidence),
            Self::StatusBar => layout::status_bar(&evidence.lines),
            Self::BatteryLevel => layout::battery_level(&evidence.lines),
            Self::ChatBubbles => layout::chat_bubbles(&evidence.lines),
        }
    }

    /// The signals the evidence shows, in [`Signal::ALL`] order.
    pub fn all_seen(evidence: &DocumentEvidence) -> Vec<Signal> {
        Self::ALL
            .iter()
            .copied()
            .filter(|signal| signal.seen(evidence))
            .collect()
    }
}
