//! Command-line interface (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::broker::Lane;

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
    /// Read the text in each image (Chinese and English): lines with
    /// confidence and outline, page rotation.
    Ocr(OcrArgs),
    /// Print metadata, fingerprints and quality signals of each image.
    Inspect(InspectArgs),
    /// Convert an image to another format (upright, metadata stripped).
    Convert(ConvertArgs),
    /// Operate the vector index: totals, optimisation, backup and restore.
    Index(IndexArgs),
    /// Process images embedded (no broker): the whole pipeline into the
    /// local index and object store, with a progress bar and a summary.
    Ingest(IngestArgs),
    /// Search a tenant's images by text, by example image or like a stored
    /// image, with filters.
    Search(SearchArgs),
    /// List exact and near duplicates in a tenant, with the reason.
    Duplicates(DuplicatesArgs),
    /// Count a tenant's images by tag, customer, project, format, month.
    Stats(StatsArgs),
    /// List a tenant's documents (ID papers, licences) that expire soon.
    Expiring(ExpiringArgs),
    /// Delete images for good: their index points and stored objects.
    Erase(EraseArgs),
    /// Publish the expiry reminders that are due (`document.expiring`,
    /// `document.expired`), each once per document and threshold: run it
    /// from a timer, or let workers do it (`[reminders] enabled`).
    Reminders(RemindersArgs),
    /// Consume the jobs queue (RabbitMQ) until SIGTERM/SIGINT.
    Worker(WorkerArgs),
    /// Publish upload jobs for files or directories (what a CRM does).
    Publish(PublishArgs),
    /// Re-run a tenant's images whose model versions are not current.
    Reprocess(ReprocessArgs),
    /// Inspect, replay or purge the dead-letter queue.
    Dlq(DlqArgs),
    /// Serve the HTTP API and the search page (with --worker, also consume
    /// the jobs queue in the same process).
    Serve(ServeArgs),
    /// Make a new API key for a tenant and print the lines that configure it.
    ApiKey(ApiKeyArgs),
}

/// Where `search` and `stats` go instead of the local index.
#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// Ask the imgtag server at this URL (`http://host:8080`) instead of
    /// opening the index here; the tenant is the one the API key grants.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The API key for --server.
    #[arg(
        long,
        env = "IMGTAG_API_KEY",
        hide_env_values = true,
        requires = "server"
    )]
    pub api_key: Option<String>,
}

/// Arguments of `imgtag serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default: `[api] listen`).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Also consume the jobs queue (RabbitMQ), so one process holds the
    /// embedded index while serving it.
    #[arg(long)]
    pub worker: bool,
    /// Jobs in flight at once with --worker (default: `[worker] concurrency`).
    #[arg(long, requires = "worker", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: Option<u16>,
}

/// Arguments of `imgtag api-key`.
#[derive(Debug, clap::Args)]
pub struct ApiKeyArgs {
    /// The tenant the key grants.
    #[arg(long)]
    pub tenant: String,
    /// Who will hold the key (for logs).
    #[arg(long)]
    pub name: Option<String>,
    /// Print JSON (`key`, `sha256`, `tenant`) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What a job carries besides its source (ingest and publish).
#[derive(Debug, Clone, clap::Args)]
pub struct JobFields {
    /// The tenant owning the images.
    #[arg(long)]
    pub tenant: String,
    /// CRM customer.
    #[arg(long)]
    pub customer: Option<String>,
    /// CRM project.
    #[arg(long)]
    pub project: Option<String>,
    /// CRM label `key=value` (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A vocabulary configured under `[vocabularies]`.
    #[arg(long)]
    pub vocabulary: Option<String>,
}

/// Arguments of `imgtag ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Image files or directories (walked recursively).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Job fields.
    #[command(flatten)]
    pub job: JobFields,
    /// Images processed at once (default: `[worker] concurrency`).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,
    /// Print one JSON result event per image instead of the summary table
    /// (the totals line then goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag search`.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("query")
        .required(true)
        .multiple(true)
        .args(["text", "image", "like", "contains", "document_types"])
))]
pub struct SearchArgs {
    /// The tenant to search in (with --server: the key's tenant).
    #[arg(long, required_unless_present = "server", conflicts_with = "server")]
    pub tenant: Option<String>,
    /// Ask a server instead of the local index.
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// What to look for, in words.
    #[arg(long)]
    pub text: Option<String>,
    /// Images like this file (decoded under the same limits as uploads).
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    pub image: Option<PathBuf>,
    /// Images like this stored image.
    #[arg(long, value_name = "IMAGE_ID", conflicts_with_all = ["text", "image"])]
    pub like: Option<String>,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How many results.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
    /// Language of tag names in the results: en or zh (tags can be given
    /// to --tag in either).
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: imgtag_models::Lang,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show personal fields (ID numbers, names, birth dates, the text of
    /// ID papers) whole instead of masked.
    #[arg(long)]
    pub show_personal: bool,
}

fn parse_lang(value: &str) -> Result<imgtag_models::Lang, String> {
    imgtag_models::Lang::parse(value).ok_or_else(|| format!("{value:?}: use en or zh"))
}

/// Filters of `imgtag search`.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only images carrying this tag (repeatable: all must hold).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Only this customer's images (repeatable: any of them).
    #[arg(long = "customer")]
    pub customers: Vec<String>,
    /// Only this project's images (repeatable: any of them).
    #[arg(long = "project")]
    pub projects: Vec<String>,
    /// Captured on or after (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Captured before (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Include images the NSFW model flagged.
    #[arg(long)]
    pub include_sensitive: bool,
    /// Include identity papers (ID cards, passports, driving licences).
    #[arg(long)]
    pub include_id_papers: bool,
    /// Only documents of this type (`invoice`, `passport`, `none` for
    /// photos, or a tenant's own; repeatable: any of them).
    #[arg(long = "document-type", value_name = "TYPE")]
    pub document_types: Vec<String>,
    /// Only images whose text (read by OCR) contains this: a substring for
    /// Chinese and Japanese, whole words and numbers otherwise.
    #[arg(long, value_name = "TEXT")]
    pub contains: Option<String>,
}

/// Arguments of `imgtag duplicates`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["image", "all"])))]
pub struct DuplicatesArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// Stored duplicates of this file.
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Every pair of duplicates in the tenant.
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag expiring`.
#[derive(Debug, clap::Args)]
pub struct ExpiringArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// The window: documents expiring within this many days (`30d`, `30`,
    /// `12w`).
    #[arg(long, default_value = "30d", value_parser = parse_days)]
    pub within: u32,
    /// Only this customer's documents.
    #[arg(long)]
    pub customer: Option<String>,
    /// Also list documents that have expired already.
    #[arg(long)]
    pub include_expired: bool,
    /// Count from this day (`YYYY-MM-DD`; default: today, UTC).
    #[arg(long, value_name = "DATE")]
    pub today: Option<chrono::NaiveDate>,
    /// Show personal fields (names, document numbers) whole.
    #[arg(long)]
    pub show_personal: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag erase`.
#[derive(Debug, clap::Args)]
pub struct EraseArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// The images (UUIDs, as in search results and events).
    #[arg(required = true, value_name = "IMAGE_ID")]
    pub images: Vec<crate::index::ImageId>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag reminders`.
#[derive(Debug, clap::Args)]
pub struct RemindersArgs {
    /// The tenants to sweep (repeatable; default: `[reminders] tenants`).
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
    /// Count from this day (`YYYY-MM-DD`; default: `[reminders] today`,
    /// else today, UTC).
    #[arg(long, value_name = "DATE")]
    pub today: Option<chrono::NaiveDate>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A number of days: `30`, `30d` or `4w`.
pub fn parse_days(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (number, factor) = if let Some(weeks) = text.strip_suffix('w') {
        (weeks, 7)
    } else {
        (text.strip_suffix('d').unwrap_or(text), 1)
    };
    number
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|&days| days <= 3660)
        .ok_or_else(|| format!("{text:?}: give days (30, 30d) or weeks (4w), at most 3660 days"))
}

/// Arguments of `imgtag stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The tenant (with --server: the key's tenant).
    #[arg(long, required_unless_present = "server", conflicts_with = "server")]
    pub tenant: Option<String>,
    /// Ask a server instead of the local index.
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Jobs in flight at once (default: `[worker] concurrency`).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: Option<u16>,
}

/// Arguments of `imgtag publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Image files or directories (walked recursively).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Job fields.
    #[command(flatten)]
    pub job: JobFields,
    /// Send the bytes inside the job (base64) instead of a file:// path
    /// the workers must be allowed to read.
    #[arg(long)]
    pub inline: bool,
    /// The lane: `live` (uploads a person waits for), `bulk` (an import:
    /// runs after live work) or `batch` (backfills: runs when nothing
    /// else waits).
    #[arg(long, value_enum, default_value_t = Lane::Live)]
    pub lane: Lane,
    /// Print one JSON line per published job.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag reprocess`.
#[derive(Debug, clap::Args)]
pub struct ReprocessArgs {
    /// The tenant whose images to re-run.
    #[arg(long)]
    pub tenant: String,
    /// Only images whose model versions are not the current ones (the
    /// default re-runs every image).
    #[arg(long)]
    pub only_stale: bool,
    /// Publish reprocessing jobs to the queue instead of running them here.
    #[arg(long)]
    pub via_queue: bool,
    /// Start over instead of resuming an interrupted run.
    #[arg(long)]
    pub restart: bool,
    /// Images processed at once (in-process runs).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `imgtag dlq`.
#[derive(Debug, clap::Args)]
pub struct DlqArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: DlqAction,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `imgtag dlq` actions.
#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// Show dead-lettered jobs with their error codes (left in the queue).
    List {
        /// Most jobs shown.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Move dead-lettered jobs back to the jobs queue (attempt 1).
    Replay {
        /// Most jobs moved.
        #[arg(long, default_value_t = usize::MAX)]
        limit: usize,
    },
    /// Delete every dead-lettered job.
    Purge,
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
    /// Move the store to this version's vector layout after a model change
    /// (deletes retired vectors, creates new ones; every image and its
    /// payload stays). Run it with no worker writing, then
    /// `imgtag reprocess --tenant T --only-stale` for each tenant.
    Migrate,
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

/// Arguments of `imgtag ocr`.
#[derive(Debug, clap::Args)]
pub struct OcrArgs {
    /// Image files; the format is sniffed from the content, not the name.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Print JSON (one object per image, in a list) instead of the text.
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
