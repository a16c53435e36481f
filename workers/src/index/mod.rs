//! The vector index: tags, vectors and metadata of every image, in Qdrant.
//!
//! One contract in the project's own types, two backends:
//! - [`edge::EdgeBackend`]: Qdrant's engine in process on a data directory
//!   (the default: a newcomer needs no server);
//! - `server::ServerBackend`: a Qdrant
//!   server or cluster over gRPC.
//!
//! Isolation by construction: [`Index`] has no read method. Reads go through
//! [`Index::tenant`], whose [`TenantIndex`] adds the tenant condition to
//! every filter it hands a backend ([`filter::ScopedFilter`] cannot be built
//! outside this module). Administrative calls (flush, optimise, info,
//! backup) return no records.
//!
//! See `docs/INDEX.md` for the collection layout and operations.

pub mod backup;
pub mod config;
pub mod document_record;
pub mod edge;
pub mod error;
pub mod filter;
pub mod ids;
pub mod layout;
pub mod lock;
pub mod query;
pub mod record;
mod scope;
pub mod server;
pub mod text;

use std::path::PathBuf;

pub use config::{BackendKind, DuplicateSettings, IndexConfig, ServerConfig};
pub use error::IndexError;
pub use filter::{GeoRadius, ImageFilter};
pub use ids::{ImageId, TenantId};
pub use layout::{FacetField, IndexLayout, MigrationPlan, VectorName};
pub use query::{
    BackupReport, FacetCount, Hit, IndexInfo, OptimizeReport, Page, SearchParams, StoredImage,
};
pub use record::{
    DocumentRecord, FaceRecord, FacesRecord, GeoPoint, ImageRecord, ImageVectors, MetadataRecord,
    NewImage, NsfwRecord, OcrLineRecord, OcrRecord, QualityRecord, RenditionRecord, TagScore,
};
pub use scope::{DuplicateMatch, DuplicateReason, TenantIndex};

use edge::EdgeBackend;
use filter::ScopedFilter;
use layout::Field;
use query::{StoredPoint, VectorSearch};

/// The index, on whichever backend the configuration names.
#[derive(Debug, Clone)]
pub struct Index {
    backend: Backend,
    layout: IndexLayout,
    search: SearchParams,
    duplicates: DuplicateSettings,
}

/// The closed set of backends.
#[derive(Debug, Clone)]
enum Backend {
    Edge(EdgeBackend),
    Server(server::ServerBackend),
}

impl Index {
    /// Opens the configured backend (embedded: takes the directory lock,
    /// creates or checks the layout; server: connects and creates or checks
    /// the collection).
    pub async fn open(config: &IndexConfig) -> Result<Self, IndexError> {
        config
            .validate()
            .map_err(|e| IndexError::InvalidInput(format!("index.{e}")))?;
        let backend = match config.backend {
            BackendKind::Edge => {
                let settings = config.edge.clone();
                let layout = config.layout;
                let edge =
                    tokio::task::spawn_blocking(move || EdgeBackend::open(&settings, layout))
                        .await
                        .map_err(|e| IndexError::Engine(format!("opening the index: {e}")))??;
                Backend::Edge(edge)
            }
            BackendKind::Server => Backend::Server(
                server::ServerBackend::connect(&config.server, config.layout).await?,
            ),
        };
        Ok(Self {
            backend,
            layout: config.layout,
            search: config.search,
            duplicates: config.duplicates,
        })
    }

    /// Moves an existing store's vectors to the configured layout (deletes
    /// retired vectors, creates missing ones; every point keeps its payload
    /// and its other vectors) and returns what changed. Points get the new
    /// vectors when `imgtag reprocess --only-stale` re-runs their stale
    /// analyzers. Run it while no worker writes.
    pub async fn migrate(config: &IndexConfig) -> Result<MigrationPlan, IndexError> {
        config
            .validate()
            .map_err(|e| IndexError::InvalidInput(format!("index.{e}")))?;
        match config.backend {
            BackendKind::Edge => {
                let settings = config.edge.clone();
                let layout = config.layout;
                let (edge, plan) = tokio::task::spawn_blocking(move || {
                    EdgeBackend::open_migrating(&settings, layout)
                })
                .await
                .map_err(|e| IndexError::Engine(format!("migrating the index: {e}")))??;
                edge.flush().await?;
                Ok(plan)
            }
            BackendKind::Server => {
                server::ServerBackend::migrate(&config.server, config.layout).await
            }
        }
    }

    /// The API for one tenant: every read and write through it is confined
    /// to `tenant`.
    pub fn tenant(&self, tenant: TenantId) -> TenantIndex<'_> {
        TenantIndex::new(self, tenant)
    }

    /// Vector sizes.
    pub fn layout(&self) -> IndexLayout {
        self.layout
    }

    /// `edge` or `server`.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Edge(_) => "edge",
            Backend::Server(_) => "server",
        }
    }

    /// Makes every acknowledged write durable on disk (embedded; the server
    /// acknowledges durable writes already).
    pub async fn flush(&self) -> Result<(), IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.flush().await,
            Backend::Server(server) => server.flush().await,
        }
    }

    /// Builds HNSW graphs now (embedded; the server optimises by itself).
    pub async fn optimize(&self) -> Result<OptimizeReport, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.optimize().await,
            Backend::Server(server) => server.optimize().await,
        }
    }

    /// Totals of the whole store.
    pub async fn info(&self) -> Result<IndexInfo, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.info().await,
            Backend::Server(server) => server.info().await,
        }
    }

    /// Backs the store up: embedded, into `destination` (a new directory;
    /// required); server, as a collection snapshot on the server.
    pub async fn backup(&self, destination: Option<PathBuf>) -> Result<BackupReport, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => {
                let destination = destination.ok_or_else(|| {
                    IndexError::InvalidInput(
                        "an embedded backup needs a destination directory".into(),
                    )
                })?;
                edge.backup(destination).await
            }
            Backend::Server(server) => server.backup().await,
        }
    }

    async fn upsert(&self, points: Vec<StoredPoint>) -> Result<(), IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.upsert(points).await,
            Backend::Server(server) => server.upsert(points).await,
        }
    }

    async fn search(&self, request: VectorSearch) -> Result<Vec<Hit>, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.search(request).await,
            Backend::Server(server) => server.search(request).await,
        }
    }

    async fn scroll(
        &self,
        filter: ScopedFilter,
        cursor: Option<ImageId>,
        limit: usize,
        with_vectors: bool,
    ) -> Result<Page, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.scroll(filter, cursor, limit, with_vectors).await,
            Backend::Server(server) => server.scroll(filter, cursor, limit, with_vectors).await,
        }
    }

    async fn count(&self, filter: ScopedFilter) -> Result<u64, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.count(filter).await,
            Backend::Server(server) => server.count(filter).await,
        }
    }

    async fn facet(
        &self,
        field: Field,
        filter: ScopedFilter,
        limit: usize,
    ) -> Result<Vec<FacetCount>, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.facet(field, filter, limit).await,
            Backend::Server(server) => server.facet(field, filter, limit).await,
        }
    }

    async fn delete(&self, filter: ScopedFilter) -> Result<u64, IndexError> {
        match &self.backend {
            Backend::Edge(edge) => edge.delete(filter).await,
            Backend::Server(server) => server.delete(filter).await,
        }
    }
}
