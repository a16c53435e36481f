//! Command-line interface (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// imgtag: turns customer images into organised, searchable, safe data.
#[derive(Debug, Parser)]
#[command(name = "imgtag", version, about)]
pub struct Cli {
    /// Configuration file (default: $IMGTAG_CONFIG, else ./imgtag.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tag each image: classes, friendly tags, zero-shot tags of a custom
    /// vocabulary, quality and EXIF tags, NSFW score, time per stage.
    Tag(TagArgs),
    /// Print the most probable ImageNet classes of each image.
    Classify(ClassifyArgs),
    /// Print metadata, fingerprints and quality signals of each image.
    Inspect(InspectArgs),
    /// Convert an image to another format (upright, metadata stripped).
    Convert(ConvertArgs),
    /// Operate the vector index: totals, optimisation, backup and restore.
    Index(IndexArgs),
}

/// Arguments of `imgtag index`.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: IndexAction,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `imgtag index` actions.
#[derive(Debug, Subcommand)]
pub enum IndexAction {
    /// Points, indexed vectors, segments and payload indexes of the store.
    Info,
    /// Build the HNSW graphs now (embedded store; blocks until done).
    Optimize,
    /// Back the store up: embedded, flush and copy into DIR (a new
    /// directory); server, a collection snapshot on the server.
    Backup {
        /// Destination directory (embedded store only; must not exist).
        #[arg(value_name = "DIR")]
        destination: Option<PathBuf>,
    },
    /// Restore an embedded-store backup into the configured data directory,
    /// which must be missing or empty (no imgtag may be running on it).
    Restore {
        /// A directory written by `imgtag index backup`.
        #[arg(value_name = "BACKUP")]
        backup: PathBuf,
    },
}

/// Arguments of `imgtag convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The image to convert.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// Bound on the long side, in pixels (default: original size; never upscaled).
    #[arg(long, value_name = "PIXELS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_side: Option<u32>,
    /// Quality 1-100 for lossy output.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Lossless WebP (PNG is always lossless).
    #[arg(long)]
    pub lossless: bool,
    /// Where to write the result.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: PathBuf,
}

/// Output formats on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// WebP (libwebp).
    Webp,
    /// AVIF (rav1e).
    Avif,
    /// JPEG.
    Jpeg,
    /// PNG (lossless).
    Png,
}

/// Arguments of `imgtag inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Image files; the format is sniffed from the content, not the name.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Print JSON (an array, one object per image) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag classify`.
#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// Image files (JPEG, PNG, WebP, GIF, TIFF, BMP).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// How many classes to print per image.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub top: u16,
    /// Print JSON (an array, one object per image) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag tag`.
#[derive(Debug, clap::Args)]
pub struct TagArgs {
    /// Image files; the format is sniffed from the content, not the name.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Custom vocabulary (TOML: `[tags]` name = "description") scored as
    /// zero-shot tags.
    #[arg(long, value_name = "FILE")]
    pub vocab: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
