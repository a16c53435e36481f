//! The embedded backend: Qdrant's own engine (`qdrant-edge`) in process,
//! on a data directory that one process holds at a time ([`DirLock`]).
//!
//! The engine is synchronous; every call runs on tokio's blocking pool.
//! Its `flush` (also run on drop) must not overlap other calls, so the shard
//! sits behind a read-write gate: queries, writes and optimisation share it,
//! flush and backup take it alone.
//!
//! Durability: this engine version does not replay its write-ahead log when
//! it opens a store, so a write is only safe once the engine has flushed
//! (and fsynced) its segments. A write therefore returns only after a flush
//! that covers it: group commit, where one flush serves every write that
//! finished before it started, so concurrent writers share the cost. The
//! kill -9 test in `tests/` checks that every acknowledged write is there
//! after the writer is killed.
//!
//! Concurrency with the engine: `EdgeShard::flush` (also run on drop)
//! panics instead of waiting when a write holds the WAL, so writes and
//! flushes take one mutex; queries and optimisation run beside both.
//! Backups take the gate alone.
//!
//! Optimisation (building HNSW graphs) is manual in the engine. Here it
//! runs by itself, in the background, once `optimize_after_points` points
//! were written since the last run, and on demand.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use qdrant_edge::{
    CountRequest, CreateVectorName, DeleteVectorName, Distance, EdgeConfig, EdgeShard,
    EdgeVectorParams, FacetRequest, FacetValue, FieldIndexOperations, Filter, JsonPath, NamedQuery,
    PayloadFieldSchema, PointId, PointInsertOperations, PointOperations, PointStruct, QueryEnum,
    QueryRequest, ScoringQuery, ScrollRequest, UpdateOperation, VectorInternal, VectorNameConfig,
    VectorNameOperations, VectorStructInternal, Vectors, WithPayloadInterface, WithVector,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::IndexError;
use super::filter::ScopedFilter;
use super::ids::ImageId;
use super::layout::{Field, FieldKind, IndexLayout, MigrationPlan, VectorName};
use super::lock::DirLock;
use super::query::{
    BackupReport, FacetCount, Hit, IndexInfo, OptimizeReport, Page, StoredImage, StoredPoint,
    VectorSearch,
};
use super::record::{ImageRecord, ImageVectors};

/// Name of the engine's own config file in the data directory.
const ENGINE_CONFIG_FILE: &str = "edge_config.json";

/// `[index.edge]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeSettings {
    /// Data directory (created if missing; one process at a time); by
    /// default `index` in imgtag's data directory (`imgtag_models::home`).
    pub dir: PathBuf,
    /// Optimise (build HNSW graphs) in the background after this many
    /// points were written since the last optimisation; 0 = only on demand.
    pub optimize_after_points: u64,
    /// HNSW links per node (`m`).
    pub hnsw_m: usize,
    /// HNSW build beam width (`ef_construct`).
    pub hnsw_ef_construct: usize,
    /// Filtered searches whose candidates hold less than this many KiB of
    /// vectors are answered exactly instead of through the graph.
    pub full_scan_threshold_kb: usize,
}

impl Default for EdgeSettings {
    fn default() -> Self {
        Self {
            dir: imgtag_models::home::data_dir().join("index"),
            optimize_after_points: 5_000,
            hnsw_m: 16,
            hnsw_ef_construct: 100,
            full_scan_threshold_kb: 10_000,
        }
    }
}

impl EdgeSettings {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.dir.as_os_str().is_empty() {
            return Err("dir must not be empty".into());
        }
        if !(4..=128).contains(&self.hnsw_m) {
            return Err(format!("hnsw_m = {}: must be 4..=128", self.hnsw_m));
        }
        if !(8..=4096).contains(&self.hnsw_ef_construct) {
            return Err(format!(
                "hnsw_ef_construct = {}: must be 8..=4096",
                self.hnsw_ef_construct
            ));
        }
        Ok(())
    }
}

/// The embedded backend; cheap to clone (shared).
#[derive(Clone)]
pub struct EdgeBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EdgeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeBackend")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

struct Inner {
    // Field order matters: the shard flushes on drop, before the lock goes.
    shard: RwLock<EdgeShard>,
    /// Held for its drop: the directory stays ours while the shard lives.
    _lock: DirLock,
    /// Held by every write and every flush (they must not overlap).
    writes: Mutex<()>,
    /// Group commit: writes done and writes flushed.
    commit: Mutex<CommitState>,
    committed: Condvar,
    dir: PathBuf,
    written_since_optimize: AtomicU64,
    optimizing: AtomicBool,
    optimize_after_points: u64,
}

impl EdgeBackend {
    /// Opens (or creates) the store in `settings.dir`, checks its layout and
    /// creates missing payload indexes. Blocking.
    pub fn open(settings: &EdgeSettings, layout: IndexLayout) -> Result<Self, IndexError> {
        Self::open_with(settings, layout, false).map(|(backend, _)| backend)
    }

    /// Opens the store and moves its vectors to `layout` ([`MigrationPlan`]),
    /// returning what was changed. Blocking.
    pub fn open_migrating(
        settings: &EdgeSettings,
        layout: IndexLayout,
    ) -> Result<(Self, MigrationPlan), IndexError> {
        Self::open_with(settings, layout, true)
    }

    fn open_with(
        settings: &EdgeSettings,
        layout: IndexLayout,
        migrate: bool,
    ) -> Result<(Self, MigrationPlan), IndexError> {
        let dir = settings.dir.clone();
        let lock = DirLock::acquire(&dir)?;
        let engine = |e: qdrant_edge::OperationError| IndexError::Engine(e.to_string());
        let mut plan = MigrationPlan::default();
        let shard = if dir.join(ENGINE_CONFIG_FILE).is_file() {
            let shard = EdgeShard::load(&dir, None).map_err(engine)?;
            plan = migration_plan(&dir, &shard.config(), layout)?;
            if !plan.is_empty() && !migrate {
                return Err(IndexError::LayoutMismatch {
                    location: dir.display().to_string(),
                    reason: format!("{}: run `imgtag index migrate`", plan.describe()),
                });
            }
            apply_migration(&shard, &plan, layout)?;
            shard
        } else {
            EdgeShard::new(&dir, engine_config(settings, layout)?).map_err(engine)?
        };
        ensure_payload_indexes(&shard)?;
        tracing::debug!(dir = %dir.display(), lock = %lock.path().display(), "edge index open");
        let backend = Self {
            inner: Arc::new(Inner {
                shard: RwLock::new(shard),
                _lock: lock,
                writes: Mutex::new(()),
                commit: Mutex::new(CommitState::default()),
                committed: Condvar::new(),
                dir,
                written_since_optimize: AtomicU64::new(0),
                optimizing: AtomicBool::new(false),
                optimize_after_points: settings.optimize_after_points,
            }),
        };
        Ok((backend, plan))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Writes points (insert or overwrite by id).
    pub async fn upsert(&self, points: Vec<StoredPoint>) -> Result<(), IndexError> {
        if points.is_empty() {
            return Ok(());
        }
        let count = points.len() as u64;
        let engine_points = points
            .into_iter()
            .map(engine_point)
            .collect::<Result<Vec<_>, _>>()?;
        self.write(UpdateOperation::PointOperation(
            PointOperations::UpsertPoints(PointInsertOperations::PointsList(engine_points)),
        ))
        .await?;
        let written = self
            .inner
            .written_since_optimize
            .fetch_add(count, Ordering::Relaxed)
            + count;
        if self.inner.optimize_after_points > 0 && written >= self.inner.optimize_after_points {
            self.optimize_in_background();
        }
        Ok(())
    }

    /// Nearest neighbours.
    pub async fn search(&self, request: VectorSearch) -> Result<Vec<Hit>, IndexError> {
        let filter = engine_filter(&request.filter)?;
        let params: qdrant_edge::SearchParams = serde_json::from_value(json!({
            "hnsw_ef": request.params.hnsw_ef,
            "exact": request.params.exact,
        }))
        .map_err(|e| IndexError::Engine(format!("search params: {e}")))?;
        let query = QueryRequest {
            prefetches: Vec::new(),
            query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery::new(
                VectorInternal::Dense(request.values),
                request.vector.as_str(),
            )))),
            filter: Some(filter),
            score_threshold: None,
            limit: request.limit,
            offset: request.offset,
            params: Some(params),
            with_vector: WithVector::Bool(request.with_vectors),
            with_payload: WithPayloadInterface::Bool(true),
        };
        let (offset, limit) = (request.offset, request.limit);
        let points = self
            .shared(move |shard| shard.query(query).map_err(engine_error))
            .await?;
        // A shard answers the best `offset + limit` points and leaves the
        // skipping to Qdrant's collection layer, which the embedded engine
        // does not have: skip here (qdrant-edge is pinned, so this holds).
        points
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|point| {
                Ok(Hit {
                    score: point.score,
                    image: stored_image(point.id, point.payload, point.vector)?,
                })
            })
            .collect()
    }

    /// One page of the points matching `filter`, in id order.
    pub async fn scroll(
        &self,
        filter: ScopedFilter,
        cursor: Option<ImageId>,
        limit: usize,
        with_vectors: bool,
    ) -> Result<Page, IndexError> {
        let request = ScrollRequest {
            offset: cursor.map(|id| PointId::Uuid(id.uuid())),
            limit: Some(limit.max(1)),
            filter: Some(engine_filter(&filter)?),
            with_payload: Some(WithPayloadInterface::Bool(true)),
            with_vector: WithVector::Bool(with_vectors),
            order_by: None,
        };
        let (records, next) = self
            .shared(move |shard| shard.scroll(request).map_err(engine_error))
            .await?;
        let images = records
            .into_iter()
            .map(|record| stored_image(record.id, record.payload, record.vector))
            .collect::<Result<Vec<_>, _>>()?;
        let next = next.map(image_id).transpose()?;
        Ok(Page { images, next })
    }

    /// Exact number of points matching `filter`.
    pub async fn count(&self, filter: ScopedFilter) -> Result<u64, IndexError> {
        let request = CountRequest {
            filter: Some(engine_filter(&filter)?),
            exact: true,
        };
        let count = self
            .shared(move |shard| shard.count(request).map_err(engine_error))
            .await?;
        Ok(count as u64)
    }

    /// Exact counts of the values of `field` among points matching `filter`.
    pub async fn facet(
        &self,
        field: Field,
        filter: ScopedFilter,
        limit: usize,
    ) -> Result<Vec<FacetCount>, IndexError> {
        let request = FacetRequest {
            key: json_path(field)?,
            limit: limit.max(1),
            filter: Some(engine_filter(&filter)?),
            exact: true,
        };
        let response = self
            .shared(move |shard| shard.facet(request).map_err(engine_error))
            .await?;
        let mut counts: Vec<FacetCount> = response
            .hits
            .into_iter()
            .map(|hit| FacetCount {
                value: match hit.value {
                    FacetValue::Keyword(value) => value,
                    FacetValue::Int(value) => value.to_string(),
                    FacetValue::Uuid(value) => uuid::Uuid::from_u128(value).to_string(),
                    FacetValue::Bool(value) => value.to_string(),
                },
                count: hit.count as u64,
            })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        Ok(counts)
    }

    /// Deletes the points matching `filter`; returns how many there were.
    pub async fn delete(&self, filter: ScopedFilter) -> Result<u64, IndexError> {
        let engine = engine_filter(&filter)?;
        let count = self.count(filter).await?;
        if count > 0 {
            self.write(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(engine),
            ))
            .await?;
        }
        Ok(count)
    }

    /// Flushes the WAL and segments to disk (every write already returns
    /// flushed; this is for callers that want a checkpoint).
    pub async fn flush(&self) -> Result<(), IndexError> {
        let inner = self.inner.clone();
        run_blocking(move || flush_shard(&inner)).await?
    }

    /// Applies one update, then waits for a flush that covers it.
    async fn write(&self, operation: UpdateOperation) -> Result<(), IndexError> {
        let inner = self.inner.clone();
        run_blocking(move || {
            let generation = {
                let shard = read_gate(&inner);
                let _writes = lock(&inner.writes);
                shard.update(operation).map_err(engine_error)?;
                let mut state = lock(&inner.commit);
                state.written += 1;
                state.written
            };
            commit(&inner, generation)
        })
        .await?
    }

    /// Builds HNSW graphs and merges segments now (blocking until done).
    pub async fn optimize(&self) -> Result<OptimizeReport, IndexError> {
        let inner = self.inner.clone();
        run_blocking(move || optimize_now(&inner)).await?
    }

    /// Totals and indexes.
    pub async fn info(&self) -> Result<IndexInfo, IndexError> {
        let location = self.inner.dir.display().to_string();
        self.shared(move |shard| {
            let info = shard.info();
            let mut payload_indexes: Vec<String> = info
                .payload_schema
                .keys()
                .map(ToString::to_string)
                .collect();
            payload_indexes.sort();
            Ok(IndexInfo {
                backend: "edge",
                location,
                points: info.points_count as u64,
                indexed_vectors: info.indexed_vectors_count as u64,
                segments: info.segments_count as u64,
                payload_indexes,
            })
        })
        .await
    }

    /// Flushes, then copies the data directory to `destination` (which must
    /// not exist) while writes wait. See [`super::backup`].
    pub async fn backup(&self, destination: PathBuf) -> Result<BackupReport, IndexError> {
        let source = self.inner.dir.clone();
        self.exclusive(move |shard| {
            flush_engine(shard)?;
            let points = shard.info().points_count as u64;
            let bytes = super::backup::copy_store(&source, &destination, points)?;
            Ok(BackupReport {
                location: destination.display().to_string(),
                points,
                bytes,
            })
        })
        .await
    }

    fn optimize_in_background(&self) {
        if self.inner.optimizing.load(Ordering::Relaxed) {
            return;
        }
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || match optimize_now(&inner) {
            Ok(report) => tracing::info!(
                seconds = report.seconds,
                "background index optimisation done"
            ),
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "background index optimisation failed")
            }
        });
    }

    async fn shared<T, F>(&self, work: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&EdgeShard) -> Result<T, IndexError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || work(&read_gate(&inner))).await?
    }

    async fn exclusive<T, F>(&self, work: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&EdgeShard) -> Result<T, IndexError> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || work(&write_gate(&inner))).await?
    }
}

/// Group-commit bookkeeping.
#[derive(Debug, Default)]
struct CommitState {
    /// Writes applied so far.
    written: u64,
    /// Writes covered by a finished flush.
    flushed: u64,
    /// A flush is running.
    flushing: bool,
}

/// Returns once write number `generation` is flushed: runs the flush if
/// none is running, else waits for the running one (and runs the next if
/// that one started before this write).
fn commit(inner: &Inner, generation: u64) -> Result<(), IndexError> {
    let mut state = lock(&inner.commit);
    while state.flushed < generation {
        if state.flushing {
            state = inner
                .committed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            continue;
        }
        state.flushing = true;
        let target = state.written;
        drop(state);
        let result = flush_shard(inner);
        state = lock(&inner.commit);
        state.flushing = false;
        if result.is_ok() {
            state.flushed = state.flushed.max(target);
        }
        inner.committed.notify_all();
        result?;
    }
    Ok(())
}

/// Flushes with writes held off.
fn flush_shard(inner: &Inner) -> Result<(), IndexError> {
    let shard = read_gate(inner);
    let _writes = lock(&inner.writes);
    flush_engine(&shard)
}

/// `EdgeShard::flush` panics when it cannot take a lock at once (an
/// optimisation swapping segments holds one briefly) or when the disk
/// fails; both become retries and then an error, never a dead process.
fn flush_engine(shard: &EdgeShard) -> Result<(), IndexError> {
    let mut attempt = 0;
    loop {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shard.flush()));
        match outcome {
            Ok(()) => return Ok(()),
            Err(_) if attempt < 20 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(5 * attempt));
            }
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "unknown".into());
                return Err(IndexError::Engine(format!(
                    "flushing the index failed: {why}"
                )));
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn optimize_now(inner: &Inner) -> Result<OptimizeReport, IndexError> {
    if inner.optimizing.swap(true, Ordering::AcqRel) {
        // Another optimisation is running: wait for it by taking the gate
        // exclusively once, then report that this call changed nothing.
        drop(write_gate(inner));
        return Ok(OptimizeReport {
            changed: false,
            seconds: 0.0,
        });
    }
    let started = Instant::now();
    inner.written_since_optimize.store(0, Ordering::Relaxed);
    let result = read_gate(inner).optimize().map_err(engine_error);
    inner.optimizing.store(false, Ordering::Release);
    Ok(OptimizeReport {
        changed: result?,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn read_gate(inner: &Inner) -> RwLockReadGuard<'_, EdgeShard> {
    // A panic in another call cannot leave the engine half-updated from our
    // side (the gate guards no data of ours), so poisoning is ignored.
    inner
        .shard
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_gate(inner: &Inner) -> RwLockWriteGuard<'_, EdgeShard> {
    inner
        .shard
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, IndexError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        IndexError::Engine(if e.is_panic() {
            "the index engine panicked (see the log)".to_owned()
        } else {
            format!("index task cancelled: {e}")
        })
    })
}

fn engine_error(error: qdrant_edge::OperationError) -> IndexError {
    IndexError::Engine(error.to_string())
}

fn engine_config(settings: &EdgeSettings, layout: IndexLayout) -> Result<EdgeConfig, IndexError> {
    let hnsw = serde_json::from_value(json!({
        "m": settings.hnsw_m,
        "ef_construct": settings.hnsw_ef_construct,
        "full_scan_threshold": settings.full_scan_threshold_kb,
    }))
    .map_err(|e| IndexError::Engine(format!("HNSW config: {e}")))?;
    let mut builder = EdgeConfig::builder().hnsw_config(hnsw);
    for name in VectorName::ALL {
        builder = builder.vector(
            name.as_str(),
            EdgeVectorParams::builder(layout.dimensions(name), Distance::Cosine).build(),
        );
    }
    Ok(builder.build())
}

/// What moves the store's vectors to `layout` (an error when it cannot).
fn migration_plan(
    dir: &Path,
    config: &EdgeConfig,
    layout: IndexLayout,
) -> Result<MigrationPlan, IndexError> {
    let existing = config
        .vectors
        .iter()
        .map(|(name, params)| {
            (
                name.clone(),
                (params.size, params.distance == Distance::Cosine),
            )
        })
        .collect();
    layout
        .migration(&existing)
        .map_err(|reason| IndexError::LayoutMismatch {
            location: dir.display().to_string(),
            reason,
        })
}

/// Deletes and creates the plan's vectors (each point loses its values of
/// the deleted ones).
fn apply_migration(
    shard: &EdgeShard,
    plan: &MigrationPlan,
    layout: IndexLayout,
) -> Result<(), IndexError> {
    for name in &plan.delete {
        shard
            .update(UpdateOperation::VectorNameOperation(
                VectorNameOperations::DeleteVectorName(DeleteVectorName {
                    vector_name: name.clone(),
                }),
            ))
            .map_err(engine_error)?;
        tracing::info!(vector = %name, "index migration: vector deleted");
    }
    for name in &plan.create {
        let config: VectorNameConfig = serde_json::from_value(json!({
            "dense": {"size": layout.dimensions(*name), "distance": "Cosine"}
        }))
        .map_err(|e| IndexError::Engine(format!("vector config: {e}")))?;
        shard
            .update(UpdateOperation::VectorNameOperation(
                VectorNameOperations::CreateVectorName(CreateVectorName {
                    vector_name: name.as_str().to_owned(),
                    config,
                }),
            ))
            .map_err(engine_error)?;
        tracing::info!(vector = name.as_str(), "index migration: vector created");
    }
    if !plan.is_empty() {
        flush_engine(shard)?;
    }
    Ok(())
}

/// The engine's schema of one indexed field. Keyword fields that filters
/// combine with vector search (tenant, tags, customer, project) get extra
/// HNSW links per value; the others (hashes, labels...) do not need them.
fn field_schema(field: Field) -> Result<PayloadFieldSchema, IndexError> {
    let schema = match field.kind() {
        FieldKind::Keyword { tenant } => {
            let links = matches!(
                field,
                Field::Tenant | Field::Tags | Field::Customer | Field::Project
            );
            json!({"type": "keyword", "is_tenant": tenant, "enable_hnsw": links})
        }
        FieldKind::Datetime => json!("datetime"),
        FieldKind::Geo => json!("geo"),
        FieldKind::Bool => json!("bool"),
        FieldKind::Float => json!("float"),
        // Terms are made by imgtag (index/text.rs): the engine splits on
        // spaces only, keeps positions for phrase matches, and keeps
        // numbers (the word tokenizer would too, but the multilingual one
        // drops them).
        FieldKind::Text => json!({
            "type": "text",
            "tokenizer": "whitespace",
            "lowercase": true,
            "phrase_matching": true,
        }),
    };
    serde_json::from_value(schema)
        .map_err(|e| IndexError::Engine(format!("payload schema of {}: {e}", field.path())))
}

fn json_path(field: Field) -> Result<JsonPath, IndexError> {
    field
        .path()
        .parse()
        .map_err(|_| IndexError::Engine(format!("bad payload path {}", field.path())))
}

fn ensure_payload_indexes(shard: &EdgeShard) -> Result<(), IndexError> {
    let existing: HashSet<String> = shard
        .info()
        .payload_schema
        .keys()
        .map(ToString::to_string)
        .collect();
    for field in Field::ALL {
        if existing.contains(field.path()) {
            continue;
        }
        let operation = FieldIndexOperations::CreateIndex(qdrant_edge::CreateIndex {
            field_name: json_path(field)?,
            field_schema: Some(field_schema(field)?),
        });
        shard
            .update(UpdateOperation::FieldIndexOperation(operation))
            .map_err(engine_error)?;
    }
    Ok(())
}

fn engine_filter(filter: &ScopedFilter) -> Result<Filter, IndexError> {
    serde_json::from_value(filter.to_qdrant_json())
        .map_err(|e| IndexError::InvalidInput(format!("filter: {e}")))
}

fn engine_point(point: StoredPoint) -> Result<qdrant_edge::PointStructPersisted, IndexError> {
    let payload = serde_json::to_value(&point.record)
        .map_err(|e| IndexError::InvalidInput(format!("record: {e}")))?;
    if !payload.is_object() {
        return Err(IndexError::InvalidInput(
            "record is not a JSON object".into(),
        ));
    }
    let mut vectors = vec![(VectorName::Image.as_str(), point.vectors.image)];
    if let Some(semantic) = point.vectors.semantic {
        vectors.push((VectorName::Semantic.as_str(), semantic));
    }
    Ok(PointStruct::new(
        PointId::Uuid(point.id.uuid()),
        Vectors::new_named(vectors),
        payload,
    )
    .into())
}

fn image_id(id: PointId) -> Result<ImageId, IndexError> {
    match id {
        PointId::Uuid(uuid) => Ok(ImageId::from_uuid(uuid)),
        PointId::NumId(number) => Err(IndexError::CorruptRecord {
            id: number.to_string(),
            reason: "numeric point id (imgtag writes UUIDs only)".into(),
        }),
    }
}

fn stored_image(
    id: PointId,
    payload: Option<qdrant_edge::Payload>,
    vector: Option<VectorStructInternal>,
) -> Result<StoredImage, IndexError> {
    let id = image_id(id)?;
    let corrupt = |reason: String| IndexError::CorruptRecord {
        id: id.to_string(),
        reason,
    };
    let payload = payload.ok_or_else(|| corrupt("no payload".into()))?;
    let record: ImageRecord =
        serde_json::from_value(Value::Object(payload.0.into_iter().collect()))
            .map_err(|e| corrupt(e.to_string()))?;
    if record.image_id != id {
        return Err(corrupt(format!("payload says image {}", record.image_id)));
    }
    let vectors = vector
        .map(|vector| image_vectors(vector).map_err(corrupt))
        .transpose()?;
    Ok(StoredImage { record, vectors })
}

fn image_vectors(vector: VectorStructInternal) -> Result<ImageVectors, String> {
    let VectorStructInternal::Named(mut named) = vector else {
        return Err("vectors are not named".into());
    };
    let mut dense = |name: VectorName| match named.remove(name.as_str()) {
        Some(VectorInternal::Dense(values)) => Ok(Some(values)),
        Some(_) => Err(format!("`{}` is not a dense vector", name.as_str())),
        None => Ok(None),
    };
    let image = dense(VectorName::Image)?.ok_or("no `image` vector")?;
    let semantic = dense(VectorName::Semantic)?;
    Ok(ImageVectors { image, semantic })
}
