//! The crate's one error type. Every variant has a stable code string and
//! says whether retrying can help (for bad images: never).

/// Everything that can go wrong processing an image.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Zero bytes were given.
    #[error("the image is empty (0 bytes)")]
    Empty,
    /// The input is larger than the configured byte limit.
    #[error("the image is {size} bytes, over the limit of {limit} bytes")]
    TooManyBytes {
        /// Size of the input.
        size: u64,
        /// Configured limit.
        limit: u64,
    },
    /// The declared dimensions exceed a limit (decompression-bomb guard).
    #[error("the image is {width}x{height} pixels, over the limit ({limit})")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Which limit was exceeded, in words.
        limit: String,
    },
    /// An animation has more frames than allowed.
    #[error("the animation has more than {limit} frames")]
    TooManyFrames {
        /// Configured limit.
        limit: u32,
    },
    /// The decoder needed more memory than allowed.
    #[error("decoding needs more memory than the limit allows: {0}")]
    MemoryLimit(String),
    /// The content is not an image format imgtag decodes.
    #[error("unsupported or unrecognised image format{}", detail(.0))]
    UnsupportedFormat(Option<String>),
    /// The data ends before the image does.
    #[error("the image data is truncated: {0}")]
    Truncated(String),
    /// The decoder panicked on this input (a decoder bug, contained).
    #[error("the decoder failed on this image: {0}")]
    DecoderPanic(String),
    /// An output could not be encoded (or its options are invalid).
    #[error("cannot encode the image: {0}")]
    Encode(String),
    /// The pipeline's configuration is invalid.
    #[error("invalid pipeline configuration: {0}")]
    InvalidConfig(String),
    /// The pipeline could not run the work (shutting down, task lost).
    #[error("the pipeline is unavailable: {0}")]
    Unavailable(String),
    /// The data is not a valid image of its format.
    #[error("the image data is corrupt: {0}")]
    Corrupt(String),
}

fn detail(format: &Option<String>) -> String {
    format
        .as_ref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default()
}

impl PipelineError {
    /// Stable machine-readable code; never changes once published.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "image.empty",
            Self::TooManyBytes { .. } | Self::TooManyPixels { .. } | Self::MemoryLimit(_) => {
                "image.too_large"
            }
            Self::TooManyFrames { .. } => "image.too_many_frames",
            Self::UnsupportedFormat(_) => "image.unsupported_format",
            Self::Truncated(_) => "image.truncated",
            Self::Corrupt(_) => "image.corrupt",
            Self::DecoderPanic(_) => "image.decoder_failed",
            Self::Encode(_) => "image.encode_failed",
            Self::InvalidConfig(_) => "config.invalid",
            Self::Unavailable(_) => "pipeline.unavailable",
        }
    }

    /// Whether retrying the same input could help: never for a bad image
    /// (the bytes will not change); yes when the pipeline was unavailable.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
