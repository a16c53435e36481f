//! The server backend: a Qdrant server or cluster over gRPC, through the
//! `qdrant-client` crate (always built).
//!
//! Same collection layout as the embedded backend ([`super::edge`]): named
//! dense vectors for every [`VectorName`] (cosine), a payload index on every
//! [`Field`] (the tenant field marked `is_tenant`), points keyed by the
//! image's UUID with the [`ImageRecord`] as JSON payload. [`ServerBackend::connect`]
//! creates the collection when it is missing and refuses one whose vectors
//! differ ([`IndexError::LayoutMismatch`]).
//!
//! Opening is safe on a server that is still starting and from several
//! processes at once, within a bounded time ([`connect_budget`]): the health
//! check is retried while the server is unreachable or busy; a collection
//! another process created at the same moment ("already exists") counts as
//! created, and its layout is then checked like any other; the open waits
//! until the collection answers with a usable status and every payload
//! index is listed, retrying index creation while a new collection settles.
//! Transient failures (unreachable, `Unavailable`, `DeadlineExceeded`,
//! `ResourceExhausted`, cancelled or aborted calls) are retried with a
//! doubling backoff (100 ms to 5 s); anything else fails at once.
//!
//! Durability: every write is sent with `wait = true` and strong write
//! ordering, so it has been applied (and written to the server's WAL) when
//! the call returns; [`ServerBackend::flush`] has nothing left to do.
//! Optimisation (HNSW graphs, segment merges) runs inside the server by
//! itself; [`ServerBackend::optimize`] only reports the collection's state.
//!
//! Errors: an unreachable server, a timeout, a cancelled or throttled call
//! become [`IndexError::Unavailable`] (exactly the failures retried while
//! opening); a request the server calls invalid becomes
//! [`IndexError::InvalidInput`]; everything else [`IndexError::Engine`].
//! Every error from a call names the server URL and the collection.
//! Messages carry the gRPC status message only, never request metadata, so
//! the API key cannot reach a log.
//!
//! The API is exercised only against a real server (no server runs on the
//! development machines, `../shared/facts/QDRANT.md`); the conversions
//! between the project's types and the protobuf types are unit-tested here.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use chrono::DateTime;
use qdrant_client::qdrant::{
    self, CollectionStatus, CountPointsBuilder, CreateCollection, CreateCollectionBuilder,
    CreateFieldIndexCollection, CreateFieldIndexCollectionBuilder, CreateVectorNameRequestBuilder,
    DeletePointsBuilder, DeleteVectorNameRequestBuilder, DenseVectorCreationConfigBuilder,
    Distance, FacetCountsBuilder, FieldType, KeywordIndexParamsBuilder, NamedVectors,
    PayloadSchemaType, PointStruct, Query, QueryPointsBuilder, ScrollPointsBuilder,
    SearchParamsBuilder, TextIndexParamsBuilder, TokenizerType, UpsertPointsBuilder, Vector,
    VectorParamsBuilder, VectorsConfigBuilder, WriteOrdering, WriteOrderingType,
    facet_value::Variant as FacetVariant, r#match::MatchValue, point_id::PointIdOptions,
    vector_output, vectors_config, vectors_output::VectorsOptions,
};
use qdrant_client::{Payload, Qdrant, QdrantError};
use uuid::Uuid;

use super::config::ServerConfig;
use super::error::IndexError;
use super::filter::{Condition, ScopedFilter};
use super::ids::ImageId;
use super::layout::{Field, FieldKind, IndexLayout, MigrationPlan, VectorName};
use super::query::{
    BackupReport, FacetCount, Hit, IndexInfo, OptimizeReport, Page, SearchParams, StoredImage,
    StoredPoint, VectorSearch,
};
use super::record::{ImageRecord, ImageVectors};

/// The backend's name in reports and errors.
const BACKEND: &str = "server";

/// Most points sent in one upsert request. 256 points of 1280 + 512 floats
/// and a few KiB of payload stay well below gRPC's message size limits.
const UPSERT_CHUNK: usize = 256;

/// The server backend; cheap to clone (the gRPC channel pool is shared).
#[derive(Clone)]
pub struct ServerBackend {
    client: Qdrant,
    url: String,
    collection: String,
    layout: IndexLayout,
}

impl fmt::Debug for ServerBackend {
    // Hand-written: the client holds the API key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBackend")
            .field("url", &self.url)
            .field("collection", &self.collection)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl ServerBackend {
    /// Connects to the server, creates the collection if it is missing,
    /// checks its vectors against `layout` and creates the payload indexes
    /// it lacks, all within [`connect_budget`]: a server still starting or
    /// busy is waited for, a collection created by another process at the
    /// same moment is used, and the open returns once the collection is
    /// usable. An unreachable server fails as [`IndexError::Unavailable`]
    /// once the budget is spent. Safe to run from several processes at once.
    pub async fn connect(config: &ServerConfig, layout: IndexLayout) -> Result<Self, IndexError> {
        let deadline = Instant::now() + connect_budget(config);
        let backend = Self::connect_unchecked(config, layout, deadline).await?;
        backend.ensure_collection(deadline).await?;
        Ok(backend)
    }

    /// The client, after a health check (retried until `deadline` while
    /// the server is unreachable or busy); nothing checked or created.
    async fn connect_unchecked(
        config: &ServerConfig,
        layout: IndexLayout,
        deadline: Instant,
    ) -> Result<Self, IndexError> {
        config
            .validate()
            .map_err(|e| IndexError::InvalidInput(format!("index.server.{e}")))?;
        layout
            .validate()
            .map_err(|e| IndexError::InvalidInput(format!("index.layout.{e}")))?;
        let timeout = Duration::from_secs(config.timeout_secs);
        // The client's own compatibility check blocks a thread on a private
        // runtime and prints to stdout; the health check below replaces it.
        let client = Qdrant::from_url(&config.url)
            .api_key(config.api_key.clone())
            .timeout(timeout)
            .connect_timeout(timeout)
            .skip_compatibility_check()
            .build()
            .map_err(|e| {
                server_error(
                    &during("creating the client", &config.url, &config.collection),
                    e,
                )
            })?;
        let backend = Self {
            client,
            url: config.url.clone(),
            collection: config.collection.clone(),
            layout,
        };
        let health = backend
            .retry(
                "health check",
                deadline,
                &[Failure::Transient],
                async || backend.client.health_check().await,
            )
            .await?;
        tracing::info!(
            url = %backend.url,
            collection = %backend.collection,
            server_version = %health.version,
            "connected to the Qdrant server"
        );
        Ok(backend)
    }

    /// The collection's name.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Writes points (insert or overwrite by id), `UPSERT_CHUNK` per request.
    /// Returns once the server has applied them. If a later chunk fails,
    /// earlier ones stay written; retrying the whole call is safe because
    /// ids are deterministic (an overwrite, never a duplicate).
    pub async fn upsert(&self, points: Vec<StoredPoint>) -> Result<(), IndexError> {
        let mut rest = points
            .into_iter()
            .map(server_point)
            .collect::<Result<Vec<_>, _>>()?;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(UPSERT_CHUNK));
            let chunk = std::mem::replace(&mut rest, tail);
            let request = UpsertPointsBuilder::new(&self.collection, chunk)
                .wait(true)
                .ordering(strong_ordering());
            self.client
                .upsert_points(request)
                .await
                .map_err(|e| server_error(&self.during("upsert"), e))?;
        }
        Ok(())
    }

    /// Nearest neighbours (the Query API).
    pub async fn search(&self, request: VectorSearch) -> Result<Vec<Hit>, IndexError> {
        let filter = server_filter(&request.filter)?;
        let query = QueryPointsBuilder::new(&self.collection)
            .query(Query::new_nearest(request.values))
            .using(request.vector.as_str())
            .filter(filter)
            .limit(request.limit as u64)
            .offset(request.offset as u64)
            .params(search_params(request.params))
            .with_payload(true)
            .with_vectors(request.with_vectors);
        let response = self
            .client
            .query(query)
            .await
            .map_err(|e| server_error(&self.during("search"), e))?;
        response
            .result
            .into_iter()
            .map(|point| {
                Ok(Hit {
                    score: point.score,
                    image: stored_image(point.id, point.payload, point.vectors)?,
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
        let limit = u32::try_from(limit.max(1)).unwrap_or(u32::MAX);
        let mut request = ScrollPointsBuilder::new(&self.collection)
            .filter(server_filter(&filter)?)
            .limit(limit)
            .with_payload(true)
            .with_vectors(with_vectors);
        if let Some(cursor) = cursor {
            request = request.offset(point_id(cursor));
        }
        let response = self
            .client
            .scroll(request)
            .await
            .map_err(|e| server_error(&self.during("scroll"), e))?;
        let images = response
            .result
            .into_iter()
            .map(|point| stored_image(point.id, point.payload, point.vectors))
            .collect::<Result<Vec<_>, _>>()?;
        let next = response
            .next_page_offset
            .map(|id| image_id(Some(id)))
            .transpose()?;
        Ok(Page { images, next })
    }

    /// Exact number of points matching `filter`.
    pub async fn count(&self, filter: ScopedFilter) -> Result<u64, IndexError> {
        self.count_matching(Some(server_filter(&filter)?)).await
    }

    /// Exact counts of the values of `field` among points matching `filter`,
    /// most frequent first (ties by value).
    pub async fn facet(
        &self,
        field: Field,
        filter: ScopedFilter,
        limit: usize,
    ) -> Result<Vec<FacetCount>, IndexError> {
        let request = FacetCountsBuilder::new(&self.collection, field.path())
            .filter(server_filter(&filter)?)
            .limit(limit.max(1) as u64)
            .exact(true);
        let response = self
            .client
            .facet(request)
            .await
            .map_err(|e| server_error(&self.during("facet"), e))?;
        let mut counts = response
            .hits
            .into_iter()
            .map(|hit| {
                let value = match hit.value.and_then(|value| value.variant) {
                    Some(FacetVariant::StringValue(value)) => value,
                    Some(FacetVariant::IntegerValue(value)) => value.to_string(),
                    Some(FacetVariant::BoolValue(value)) => value.to_string(),
                    None => {
                        return Err(IndexError::Engine(format!(
                            "{}: the server sent a hit without a value",
                            self.during(&format!("facet of {}", field.path()))
                        )));
                    }
                };
                Ok(FacetCount {
                    value,
                    count: hit.count,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        sort_facets(&mut counts);
        Ok(counts)
    }

    /// Deletes the points matching `filter`; returns how many matched just
    /// before (count and delete are two requests: a point written between
    /// them is deleted but not counted).
    pub async fn delete(&self, filter: ScopedFilter) -> Result<u64, IndexError> {
        let server = server_filter(&filter)?;
        let count = self.count_matching(Some(server.clone())).await?;
        if count > 0 {
            let request = DeletePointsBuilder::new(&self.collection)
                .points(server)
                .wait(true)
                .ordering(strong_ordering());
            self.client
                .delete_points(request)
                .await
                .map_err(|e| server_error(&self.during("delete"), e))?;
        }
        Ok(count)
    }

    /// Nothing to do: the server acknowledges a write (`wait = true`) only
    /// after applying it and appending it to its write-ahead log.
    pub async fn flush(&self) -> Result<(), IndexError> {
        Ok(())
    }

    /// Reports the collection's optimisation state; changes nothing. The
    /// server builds HNSW graphs and merges segments in the background by
    /// itself (status yellow while it does; grey when optimisations wait for
    /// the next write to start them). A collection whose optimiser failed
    /// (status red) is an [`IndexError::Engine`] carrying the server's reason.
    pub async fn optimize(&self) -> Result<OptimizeReport, IndexError> {
        let started = Instant::now();
        let info = self.collection_info().await?;
        let status = CollectionStatus::try_from(info.status)
            .unwrap_or(CollectionStatus::UnknownCollectionStatus);
        if status == CollectionStatus::Red {
            let reason = info
                .optimizer_status
                .map(|status| status.error)
                .filter(|error| !error.is_empty())
                .unwrap_or_else(|| "no reason given".into());
            return Err(IndexError::Engine(format!(
                "{}: the collection is red (optimisation failed): {reason}",
                self.during("optimize")
            )));
        }
        tracing::info!(
            collection = %self.collection,
            status = status.as_str_name(),
            "the Qdrant server optimises by itself; nothing to do"
        );
        Ok(OptimizeReport {
            changed: false,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Totals and indexes of the whole collection (`points` is exact).
    pub async fn info(&self) -> Result<IndexInfo, IndexError> {
        let info = self.collection_info().await?;
        let points = self.count_matching(None).await?;
        let mut payload_indexes: Vec<String> = info.payload_schema.keys().cloned().collect();
        payload_indexes.sort();
        Ok(IndexInfo {
            backend: BACKEND,
            location: format!("{}/{}", self.url.trim_end_matches('/'), self.collection),
            points,
            indexed_vectors: info.indexed_vectors_count.unwrap_or(0),
            segments: info.segments_count,
            payload_indexes,
        })
    }

    /// Creates a snapshot of the collection on the server (node-local: a
    /// cluster needs one per node). `location` is the snapshot's name,
    /// `points` the count just before it was taken.
    pub async fn backup(&self) -> Result<BackupReport, IndexError> {
        let points = self.count_matching(None).await?;
        let response = self
            .client
            .create_snapshot(&self.collection)
            .await
            .map_err(|e| server_error(&self.during("snapshot"), e))?;
        let snapshot = response.snapshot_description.ok_or_else(|| {
            IndexError::Engine(format!(
                "{}: the server did not describe the snapshot",
                self.during("snapshot")
            ))
        })?;
        tracing::info!(
            collection = %self.collection,
            snapshot = %snapshot.name,
            bytes = snapshot.size,
            "collection snapshot created"
        );
        Ok(BackupReport {
            location: snapshot.name,
            points,
            bytes: u64::try_from(snapshot.size).unwrap_or(0),
        })
    }

    async fn count_matching(&self, filter: Option<qdrant::Filter>) -> Result<u64, IndexError> {
        let mut request = CountPointsBuilder::new(&self.collection).exact(true);
        if let Some(filter) = filter {
            request = request.filter(filter);
        }
        let response = self
            .client
            .count(request)
            .await
            .map_err(|e| server_error(&self.during("count"), e))?;
        response.result.map(|result| result.count).ok_or_else(|| {
            IndexError::Engine(format!(
                "{}: the server sent no result",
                self.during("count")
            ))
        })
    }

    async fn collection_info(&self) -> Result<qdrant::CollectionInfo, IndexError> {
        let response = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(|e| server_error(&self.during("collection info"), e))?;
        response.result.ok_or_else(|| {
            IndexError::Engine(format!(
                "{}: the server sent nothing",
                self.during("collection info")
            ))
        })
    }

    /// Creates the collection unless it exists (or another process creates
    /// it at the same moment), waits until it is usable, checks its vectors
    /// and creates the payload indexes it lacks.
    async fn ensure_collection(&self, deadline: Instant) -> Result<(), IndexError> {
        let exists = self
            .retry(
                "collection exists",
                deadline,
                &[Failure::Transient],
                async || self.client.collection_exists(&self.collection).await,
            )
            .await?;
        if !exists {
            self.create_collection(deadline).await?;
        }
        let info = self.wait_until_usable(deadline).await?;
        let plan = migration_plan(&self.location(), &info, self.layout)?;
        if !plan.is_empty() {
            return Err(IndexError::LayoutMismatch {
                location: self.location(),
                reason: format!("{}: run `imgtag index migrate`", plan.describe()),
            });
        }
        self.ensure_payload_indexes(info, deadline).await
    }

    /// Creates the collection with the layout's vectors. "Already exists"
    /// (another process created it first, or an earlier attempt that timed
    /// out went through) counts as created: the caller checks the layout.
    async fn create_collection(&self, deadline: Instant) -> Result<(), IndexError> {
        let mut vectors = VectorsConfigBuilder::default();
        for name in VectorName::ALL {
            vectors.add_named_vector_params(
                name.as_str(),
                VectorParamsBuilder::new(self.layout.dimensions(name) as u64, Distance::Cosine),
            );
        }
        let request: CreateCollection = CreateCollectionBuilder::new(&self.collection)
            .vectors_config(vectors)
            .into();
        let created = self
            .attempt(
                "create collection",
                deadline,
                &[Failure::Transient],
                async || self.client.create_collection(request.clone()).await,
            )
            .await;
        match created {
            Ok(_) => {
                tracing::info!(url = %self.url, collection = %self.collection, "created the collection");
                Ok(())
            }
            Err(refused) if refused.failure == Failure::AlreadyExists => {
                tracing::info!(
                    url = %self.url,
                    collection = %self.collection,
                    "the collection was created by another process at the same moment; using it"
                );
                Ok(())
            }
            Err(refused) => {
                // Another process may have created it in between, and the
                // server said so in another way.
                let exists_now = self
                    .retry(
                        "collection exists",
                        deadline,
                        &[Failure::Transient],
                        async || self.client.collection_exists(&self.collection).await,
                    )
                    .await?;
                if exists_now {
                    Ok(())
                } else {
                    Err(refused.error)
                }
            }
        }
    }

    /// The collection's info once it can take requests: it answers (a new
    /// collection may be missing from a node for a moment) with a known
    /// status: green, yellow (optimising), grey (optimisation pending) or
    /// red (optimisation failed; logged). Anything else is waited out until
    /// `deadline`.
    async fn wait_until_usable(
        &self,
        deadline: Instant,
    ) -> Result<qdrant::CollectionInfo, IndexError> {
        let started = Instant::now();
        let mut backoff = Backoff::default();
        loop {
            let response = self
                .retry("collection info", deadline, SETTLING, async || {
                    self.client.collection_info(&self.collection).await
                })
                .await?;
            let status = response.result.as_ref().map_or(
                CollectionStatus::UnknownCollectionStatus,
                |info| {
                    CollectionStatus::try_from(info.status)
                        .unwrap_or(CollectionStatus::UnknownCollectionStatus)
                },
            );
            match (status, response.result) {
                (
                    CollectionStatus::Green | CollectionStatus::Yellow | CollectionStatus::Grey,
                    Some(info),
                ) => return Ok(info),
                // Its optimiser failed: it still answers reads and writes,
                // and `imgtag index optimize` reports the reason.
                (CollectionStatus::Red, Some(info)) => {
                    tracing::warn!(
                        url = %self.url,
                        collection = %self.collection,
                        reason = info
                            .optimizer_status
                            .as_ref()
                            .map_or("", |status| status.error.as_str()),
                        "the collection is red (optimisation failed)"
                    );
                    return Ok(info);
                }
                _ => {}
            }
            let Some(delay) = backoff.next_delay(Instant::now(), deadline) else {
                return Err(IndexError::Unavailable(format!(
                    "{}: the collection is not usable after {:.1} s (status {})",
                    self.during("opening the collection"),
                    started.elapsed().as_secs_f64(),
                    status.as_str_name()
                )));
            };
            tracing::info!(
                url = %self.url,
                collection = %self.collection,
                status = status.as_str_name(),
                "waiting for the new collection to be usable"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Moves the collection's vectors to the layout: deletes retired ones,
    /// creates missing ones. Run by `imgtag index migrate` while no worker
    /// writes (a worker of the old version would write retired vectors).
    pub async fn migrate(
        config: &ServerConfig,
        layout: IndexLayout,
    ) -> Result<MigrationPlan, IndexError> {
        let deadline = Instant::now() + connect_budget(config);
        let backend = Self::connect_unchecked(config, layout, deadline).await?;
        let info = backend.collection_info().await?;
        let plan = migration_plan(&backend.location(), &info, layout)?;
        for name in &plan.delete {
            backend
                .client
                .delete_vector_name(
                    DeleteVectorNameRequestBuilder::new(&backend.collection, name.as_str())
                        .wait(true),
                )
                .await
                .map_err(|e| server_error(&backend.during("delete vector name"), e))?;
            tracing::info!(vector = %name, "index migration: vector deleted");
        }
        for name in &plan.create {
            backend
                .client
                .create_vector_name(
                    CreateVectorNameRequestBuilder::new(
                        &backend.collection,
                        name.as_str(),
                        DenseVectorCreationConfigBuilder::new(
                            layout.dimensions(*name) as u64,
                            Distance::Cosine,
                        ),
                    )
                    .wait(true),
                )
                .await
                .map_err(|e| server_error(&backend.during("create vector name"), e))?;
            tracing::info!(vector = name.as_str(), "index migration: vector created");
        }
        Ok(plan)
    }

    /// Creates the payload indexes `info` lacks, then reads the collection
    /// again until every index is listed with its type (another process may
    /// be creating the same ones; a new collection may refuse them for a
    /// moment). An index of another type is a layout mismatch.
    async fn ensure_payload_indexes(
        &self,
        mut info: qdrant::CollectionInfo,
        deadline: Instant,
    ) -> Result<(), IndexError> {
        let started = Instant::now();
        let mut backoff = Backoff::default();
        let mut created_once = false;
        loop {
            let missing = self.missing_payload_indexes(&info)?;
            if missing.is_empty() {
                return Ok(());
            }
            if created_once {
                // Created, yet not listed: wait for the server to show them.
                let Some(delay) = backoff.next_delay(Instant::now(), deadline) else {
                    let names: Vec<&str> = missing.iter().map(|field| field.path()).collect();
                    return Err(IndexError::Unavailable(format!(
                        "{}: payload indexes still missing after {:.1} s: {}",
                        self.during("opening the collection"),
                        started.elapsed().as_secs_f64(),
                        names.join(", ")
                    )));
                };
                tokio::time::sleep(delay).await;
            }
            for field in missing {
                let request = self.payload_index_request(field);
                let what = format!("create payload index on {}", field.path());
                let created = self
                    .attempt(&what, deadline, SETTLING, async || {
                        self.client.create_field_index(request.clone()).await
                    })
                    .await;
                match created {
                    Ok(_) => tracing::info!(
                        url = %self.url,
                        collection = %self.collection,
                        field = field.path(),
                        "created payload index"
                    ),
                    // Checked with the others on the next read.
                    Err(refused) if refused.failure == Failure::AlreadyExists => {}
                    Err(refused) => return Err(refused.error),
                }
            }
            created_once = true;
            info = self
                .retry("collection info", deadline, SETTLING, async || {
                    self.client.collection_info(&self.collection).await
                })
                .await?
                .result
                .ok_or_else(|| {
                    IndexError::Engine(format!(
                        "{}: the server sent nothing",
                        self.during("collection info")
                    ))
                })?;
        }
    }

    /// The fields without a payload index in `info`; an index of the wrong
    /// type is a layout mismatch.
    fn missing_payload_indexes(
        &self,
        info: &qdrant::CollectionInfo,
    ) -> Result<Vec<Field>, IndexError> {
        let mut missing = Vec::new();
        for field in Field::ALL {
            let Some(existing) = info.payload_schema.get(field.path()) else {
                missing.push(field);
                continue;
            };
            let expected = schema_type(field.kind());
            if existing.data_type != expected as i32 {
                let found = PayloadSchemaType::try_from(existing.data_type)
                    .map_or("unknown", |t| t.as_str_name());
                return Err(IndexError::LayoutMismatch {
                    location: self.location(),
                    reason: format!(
                        "payload index on `{}` is {found}, expected {}",
                        field.path(),
                        expected.as_str_name()
                    ),
                });
            }
        }
        Ok(missing)
    }

    /// The request creating `field`'s payload index.
    fn payload_index_request(&self, field: Field) -> CreateFieldIndexCollection {
        let kind = field.kind();
        let mut request = CreateFieldIndexCollectionBuilder::new(
            &self.collection,
            field.path(),
            field_type(kind),
        )
        .wait(true);
        match kind {
            FieldKind::Keyword { tenant } => {
                request = request.field_index_params(
                    KeywordIndexParamsBuilder::default()
                        .is_tenant(tenant)
                        .enable_hnsw(hnsw_links(field)),
                );
            }
            // As the embedded backend: imgtag makes the terms
            // (index/text.rs); the server splits on spaces and keeps
            // positions for phrase matches.
            FieldKind::Text => {
                request = request.field_index_params(
                    TextIndexParamsBuilder::new(TokenizerType::Whitespace)
                        .lowercase(true)
                        .phrase_matching(true),
                );
            }
            _ => {}
        }
        request.into()
    }

    /// `what`, naming the server and the collection (for error messages).
    fn during(&self, what: &str) -> String {
        during(what, &self.url, &self.collection)
    }

    /// [`retrying`] a call of the client, its errors classified and named.
    async fn attempt<T>(
        &self,
        what: &str,
        deadline: Instant,
        retry_on: &[Failure],
        mut call: impl AsyncFnMut() -> Result<T, QdrantError>,
    ) -> Result<T, Refused> {
        let context = self.during(what);
        retrying(deadline, retry_on, async || {
            call().await.map_err(|error| {
                let failure = classify(&error);
                (failure, server_error(&context, error))
            })
        })
        .await
    }

    /// [`ServerBackend::attempt`] when no failure needs telling apart.
    async fn retry<T>(
        &self,
        what: &str,
        deadline: Instant,
        retry_on: &[Failure],
        call: impl AsyncFnMut() -> Result<T, QdrantError>,
    ) -> Result<T, IndexError> {
        self.attempt(what, deadline, retry_on, call)
            .await
            .map_err(|refused| refused.error)
    }

    fn location(&self) -> String {
        format!("{}/{}", self.url.trim_end_matches('/'), self.collection)
    }
}

/// How long opening may keep retrying a server that is starting, busy or
/// unreachable, and wait for a new collection: three request timeouts, at
/// least 30 s (30 s with the default `timeout_secs = 10`).
pub fn connect_budget(config: &ServerConfig) -> Duration {
    Duration::from_secs(config.timeout_secs.saturating_mul(3).max(30))
}

/// `what`, naming the server and the collection.
fn during(what: &str, url: &str, collection: &str) -> String {
    format!("{what} (server {url}, collection {collection})")
}

/// What a failed call says about calling again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Unreachable, starting, overloaded, timed out, cancelled or aborted:
    /// the same call may pass later.
    Transient,
    /// The collection (or a shard of it) is not there: expected for a
    /// moment after it was created, an error otherwise.
    NotReady,
    /// What the call creates exists already.
    AlreadyExists,
    /// Retrying cannot help (invalid request, refused key, ...).
    Permanent,
}

/// Failures worth another attempt while a new collection settles.
const SETTLING: &[Failure] = &[Failure::Transient, Failure::NotReady];

/// The failure of a client call.
fn classify(error: &QdrantError) -> Failure {
    match error {
        QdrantError::ResponseError { status } => {
            classify_status(status.code() as i32, status.message())
        }
        QdrantError::ResourceExhaustedError { .. } => Failure::Transient,
        _ => Failure::Permanent,
    }
}

/// The failure a gRPC status reports.
fn classify_status(code: i32, message: &str) -> Failure {
    use grpc_code::*;
    match code {
        CANCELLED | DEADLINE_EXCEEDED | RESOURCE_EXHAUSTED | ABORTED | UNAVAILABLE => {
            Failure::Transient
        }
        // The client reports a failed connection as INTERNAL, a broken
        // transport sometimes as UNKNOWN.
        INTERNAL | UNKNOWN
            if message.starts_with("Failed to connect") || message.contains("transport error") =>
        {
            Failure::Transient
        }
        ALREADY_EXISTS => Failure::AlreadyExists,
        // Older servers answer "Wrong input: Collection `x` already exists!".
        INVALID_ARGUMENT if message.contains("already exists") => Failure::AlreadyExists,
        NOT_FOUND => Failure::NotReady,
        _ => Failure::Permanent,
    }
}

/// A call that failed for good: how, and the error to report.
#[derive(Debug)]
struct Refused {
    failure: Failure,
    error: IndexError,
}

/// Calls `call` until it succeeds, fails in a way not in `retry_on`, or
/// the next wait would pass `deadline`; waits by [`Backoff`] in between.
/// A failure after several attempts says how many and for how long.
async fn retrying<T>(
    deadline: Instant,
    retry_on: &[Failure],
    mut call: impl AsyncFnMut() -> Result<T, (Failure, IndexError)>,
) -> Result<T, Refused> {
    let started = Instant::now();
    let mut backoff = Backoff::default();
    let mut attempts = 0_u32;
    loop {
        attempts += 1;
        let (failure, error) = match call().await {
            Ok(value) => return Ok(value),
            Err(failed) => failed,
        };
        let delay = if retry_on.contains(&failure) {
            backoff.next_delay(Instant::now(), deadline)
        } else {
            None
        };
        let Some(delay) = delay else {
            let error = if attempts > 1 {
                annotate(
                    error,
                    &format!(
                        "gave up after {attempts} attempts in {:.1} s",
                        started.elapsed().as_secs_f64()
                    ),
                )
            } else {
                error
            };
            return Err(Refused { failure, error });
        };
        tracing::warn!(
            attempt = attempts,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            %error,
            "index server call failed; retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

/// `error` with `note` appended to its message (same variant, same code).
fn annotate(error: IndexError, note: &str) -> IndexError {
    match error {
        IndexError::Unavailable(text) => IndexError::Unavailable(format!("{text}; {note}")),
        IndexError::Engine(text) => IndexError::Engine(format!("{text}; {note}")),
        IndexError::InvalidInput(text) => IndexError::InvalidInput(format!("{text}; {note}")),
        other => other,
    }
}

/// Waits between attempts: 100 ms, doubling up to 5 s, never past the
/// deadline.
#[derive(Debug, Clone)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(5);

    /// The wait before the next attempt, cut to what is left before
    /// `deadline`; `None` once nothing is left.
    fn next_delay(&mut self, now: Instant, deadline: Instant) -> Option<Duration> {
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            return None;
        }
        let delay = self.next.min(left);
        self.next = (self.next * 2).min(Self::MAX);
        Some(delay)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: Self::FIRST }
    }
}

/// Keyword fields that filters combine with vector search get extra HNSW
/// links per value (as in the embedded backend); the others do not need them.
fn hnsw_links(field: Field) -> bool {
    matches!(
        field,
        Field::Tenant | Field::Tags | Field::Customer | Field::Project
    )
}

fn field_type(kind: FieldKind) -> FieldType {
    match kind {
        FieldKind::Keyword { .. } => FieldType::Keyword,
        FieldKind::Datetime => FieldType::Datetime,
        FieldKind::Geo => FieldType::Geo,
        FieldKind::Bool => FieldType::Bool,
        FieldKind::Float => FieldType::Float,
        FieldKind::Text => FieldType::Text,
    }
}

/// What collection info reports for an index created with [`field_type`]
/// (a different enum with different numbers).
fn schema_type(kind: FieldKind) -> PayloadSchemaType {
    match kind {
        FieldKind::Keyword { .. } => PayloadSchemaType::Keyword,
        FieldKind::Datetime => PayloadSchemaType::Datetime,
        FieldKind::Geo => PayloadSchemaType::Geo,
        FieldKind::Bool => PayloadSchemaType::Bool,
        FieldKind::Float => PayloadSchemaType::Float,
        FieldKind::Text => PayloadSchemaType::Text,
    }
}

/// What moves the collection's vectors to `layout`.
fn migration_plan(
    location: &str,
    info: &qdrant::CollectionInfo,
    layout: IndexLayout,
) -> Result<MigrationPlan, IndexError> {
    let mismatch = |reason: String| IndexError::LayoutMismatch {
        location: location.to_owned(),
        reason,
    };
    let config = info
        .config
        .as_ref()
        .and_then(|config| config.params.as_ref())
        .and_then(|params| params.vectors_config.as_ref())
        .and_then(|vectors| vectors.config.as_ref());
    let vectors = match config {
        Some(vectors_config::Config::ParamsMap(map)) => &map.map,
        Some(vectors_config::Config::Params(_)) => {
            return Err(mismatch(
                "the collection has one unnamed vector, not named vectors".into(),
            ));
        }
        None => {
            return Err(mismatch(
                "the collection reports no vector configuration".into(),
            ));
        }
    };
    let existing = vectors
        .iter()
        .map(|(name, params)| {
            (
                name.clone(),
                (
                    params.size as usize,
                    params.distance == Distance::Cosine as i32,
                ),
            )
        })
        .collect();
    layout.migration(&existing).map_err(mismatch)
}

fn strong_ordering() -> WriteOrdering {
    WriteOrdering {
        r#type: WriteOrderingType::Strong as i32,
    }
}

fn search_params(params: SearchParams) -> qdrant::SearchParams {
    let mut builder = SearchParamsBuilder::default().exact(params.exact);
    if let Some(ef) = params.hnsw_ef {
        builder = builder.hnsw_ef(ef as u64);
    }
    builder.into()
}

fn point_id(id: ImageId) -> qdrant::PointId {
    qdrant::PointId::from(id.uuid().to_string())
}

/// The protobuf point of a stored point: UUID id, named vectors, the record
/// as payload.
fn server_point(point: StoredPoint) -> Result<PointStruct, IndexError> {
    let payload = serde_json::to_value(&point.record)
        .map_err(|e| IndexError::InvalidInput(format!("record {}: {e}", point.id)))?;
    let payload = Payload::try_from(payload).map_err(|_| {
        IndexError::InvalidInput(format!("record {} is not a JSON object", point.id))
    })?;
    let mut vectors = NamedVectors::default().add_vector(
        VectorName::Image.as_str(),
        Vector::new_dense(point.vectors.image),
    );
    if let Some(semantic) = point.vectors.semantic {
        vectors = vectors.add_vector(VectorName::Semantic.as_str(), Vector::new_dense(semantic));
    }
    Ok(PointStruct::new(point_id(point.id), vectors, payload))
}

/// The filter in protobuf form: the tenant condition first, as in
/// [`ScopedFilter::to_qdrant_json`].
fn server_filter(filter: &ScopedFilter) -> Result<qdrant::Filter, IndexError> {
    let must = filter
        .must()
        .iter()
        .map(server_condition)
        .collect::<Result<Vec<_>, _>>()?;
    let must_not = filter
        .must_not()
        .iter()
        .map(server_condition)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(qdrant::Filter {
        must,
        must_not,
        ..qdrant::Filter::default()
    })
}

fn server_condition(condition: &Condition) -> Result<qdrant::Condition, IndexError> {
    // MatchValue is built explicitly: the client's `From<String>` turns a
    // string containing whitespace into a full-text match.
    Ok(match condition {
        Condition::Keyword { field, any_of } => match any_of.as_slice() {
            [one] => qdrant::Condition::matches(field.path(), MatchValue::Keyword(one.clone())),
            many => qdrant::Condition::matches(
                field.path(),
                MatchValue::Keywords(qdrant::RepeatedStrings {
                    strings: many.to_vec(),
                }),
            ),
        },
        Condition::Ids(ids) => qdrant::Condition::has_id(ids.iter().copied().map(point_id)),
        Condition::DatetimeRange { field, gte, lt } => qdrant::Condition::datetime_range(
            field.path(),
            qdrant::DatetimeRange {
                gte: gte.as_deref().map(timestamp).transpose()?,
                lt: lt.as_deref().map(timestamp).transpose()?,
                ..qdrant::DatetimeRange::default()
            },
        ),
        Condition::FloatRange { field, gte, lte } => qdrant::Condition::range(
            field.path(),
            qdrant::Range {
                gte: *gte,
                lte: *lte,
                ..qdrant::Range::default()
            },
        ),
        Condition::Flag { field, value } => {
            qdrant::Condition::matches(field.path(), MatchValue::Boolean(*value))
        }
        Condition::Phrase { field, terms } => {
            qdrant::Condition::matches_phrase(field.path(), terms.clone())
        }
        Condition::MissingAny { field, values } => qdrant::Condition::from(qdrant::Filter {
            should: values
                .iter()
                .map(|value| {
                    qdrant::Condition::from(qdrant::Filter {
                        must_not: vec![qdrant::Condition::matches(
                            field.path(),
                            MatchValue::Keyword(value.clone()),
                        )],
                        ..qdrant::Filter::default()
                    })
                })
                .collect(),
            ..qdrant::Filter::default()
        }),
        Condition::GeoRadius {
            field,
            center,
            radius_m,
        } => qdrant::Condition::geo_radius(
            field.path(),
            qdrant::GeoRadius {
                center: Some(qdrant::GeoPoint {
                    lon: center.lon,
                    lat: center.lat,
                }),
                radius: *radius_m as f32,
            },
        ),
    })
}

/// An RFC 3339 time as a protobuf timestamp.
fn timestamp(text: &str) -> Result<qdrant::Timestamp, IndexError> {
    let time = DateTime::parse_from_rfc3339(text)
        .map_err(|e| IndexError::InvalidInput(format!("time {text:?} is not RFC 3339: {e}")))?;
    // Only a leap second has more than 999,999,999 ns; the protobuf type
    // allows no more.
    let nanos = time.timestamp_subsec_nanos().min(999_999_999);
    Ok(qdrant::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(nanos).unwrap_or(999_999_999),
    })
}

fn image_id(id: Option<qdrant::PointId>) -> Result<ImageId, IndexError> {
    match id.and_then(|id| id.point_id_options) {
        Some(PointIdOptions::Uuid(text)) => match Uuid::parse_str(&text) {
            Ok(uuid) => Ok(ImageId::from_uuid(uuid)),
            Err(e) => Err(IndexError::CorruptRecord {
                id: text,
                reason: format!("point id is not a UUID: {e}"),
            }),
        },
        Some(PointIdOptions::Num(number)) => Err(IndexError::CorruptRecord {
            id: number.to_string(),
            reason: "numeric point id (imgtag writes UUIDs only)".into(),
        }),
        None => Err(IndexError::CorruptRecord {
            id: "(none)".into(),
            reason: "the server sent a point without an id".into(),
        }),
    }
}

fn stored_image(
    id: Option<qdrant::PointId>,
    payload: HashMap<String, qdrant::Value>,
    vectors: Option<qdrant::VectorsOutput>,
) -> Result<StoredImage, IndexError> {
    let id = image_id(id)?;
    let corrupt = |reason: String| IndexError::CorruptRecord {
        id: id.to_string(),
        reason,
    };
    if payload.is_empty() {
        return Err(corrupt("no payload".into()));
    }
    let json = serde_json::Value::from(Payload::from(payload));
    let record: ImageRecord = serde_json::from_value(json).map_err(|e| corrupt(e.to_string()))?;
    if record.image_id != id {
        return Err(corrupt(format!("payload says image {}", record.image_id)));
    }
    let vectors = vectors
        .map(|vectors| image_vectors(vectors).map_err(corrupt))
        .transpose()?;
    Ok(StoredImage { record, vectors })
}

fn image_vectors(vectors: qdrant::VectorsOutput) -> Result<ImageVectors, String> {
    let Some(VectorsOptions::Vectors(named)) = vectors.vectors_options else {
        return Err("vectors are not named".into());
    };
    let mut named = named.vectors;
    let mut dense = |name: VectorName| match named.remove(name.as_str()).map(|v| v.into_vector()) {
        Some(vector_output::Vector::Dense(dense)) => Ok(Some(dense.data)),
        Some(_) => Err(format!("`{}` is not a dense vector", name.as_str())),
        None => Ok(None),
    };
    let image = dense(VectorName::Image)?.ok_or("no `image` vector")?;
    let semantic = dense(VectorName::Semantic)?;
    Ok(ImageVectors { image, semantic })
}

fn sort_facets(counts: &mut [FacetCount]) {
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
}

/// gRPC status codes (stable numbers of the gRPC specification).
mod grpc_code {
    pub const CANCELLED: i32 = 1;
    pub const UNKNOWN: i32 = 2;
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const DEADLINE_EXCEEDED: i32 = 4;
    pub const NOT_FOUND: i32 = 5;
    pub const ALREADY_EXISTS: i32 = 6;
    pub const PERMISSION_DENIED: i32 = 7;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const FAILED_PRECONDITION: i32 = 9;
    pub const ABORTED: i32 = 10;
    pub const INTERNAL: i32 = 13;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}

fn server_error(what: &str, error: QdrantError) -> IndexError {
    match error {
        // `as i32`: tonic's `Code` carries the gRPC numbers as discriminants.
        QdrantError::ResponseError { status } => {
            status_error(what, status.code() as i32, status.message())
        }
        QdrantError::ResourceExhaustedError {
            status,
            retry_after_seconds,
        } => IndexError::Unavailable(format!(
            "{what}: the server is busy ({}); retry after {retry_after_seconds} s",
            status.message()
        )),
        QdrantError::InvalidUri(e) => {
            IndexError::InvalidInput(format!("{what}: invalid server URL: {e}"))
        }
        other => IndexError::Engine(format!("{what}: {other}")),
    }
}

/// Classifies a gRPC status: can a retry help, and whose fault is it.
/// Exactly the transient failures ([`classify_status`]) are
/// [`IndexError::Unavailable`].
fn status_error(what: &str, code: i32, message: &str) -> IndexError {
    use grpc_code::*;
    let text = format!("{what}: {} ({message})", code_name(code));
    if classify_status(code, message) == Failure::Transient {
        return IndexError::Unavailable(text);
    }
    match code {
        INVALID_ARGUMENT => IndexError::InvalidInput(text),
        UNAUTHENTICATED | PERMISSION_DENIED => {
            IndexError::Engine(format!("{text}; check index.server.api_key"))
        }
        _ => IndexError::Engine(text),
    }
}

fn code_name(code: i32) -> &'static str {
    use grpc_code::*;
    match code {
        CANCELLED => "cancelled or timed out",
        UNKNOWN => "unknown error",
        INVALID_ARGUMENT => "invalid argument",
        DEADLINE_EXCEEDED => "deadline exceeded",
        NOT_FOUND => "not found",
        ALREADY_EXISTS => "already exists",
        PERMISSION_DENIED => "permission denied",
        RESOURCE_EXHAUSTED => "resource exhausted",
        FAILED_PRECONDITION => "failed precondition",
        ABORTED => "aborted",
        INTERNAL => "internal error",
        UNAVAILABLE => "unavailable",
        UNAUTHENTICATED => "unauthenticated",
        _ => "gRPC error",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use qdrant_client::qdrant::condition::ConditionOneOf;
    use serde_json::json;

    use super::*;
    use crate::index::ids::TenantId;
    use crate::index::record::{GeoPoint, MetadataRecord, NsfwRecord, QualityRecord};

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn field_condition(condition: &qdrant::Condition) -> &qdrant::FieldCondition {
        match &condition.condition_one_of {
            Some(ConditionOneOf::Field(field)) => field,
            other => panic!("not a field condition: {other:?}"),
        }
    }

    fn match_value(condition: &qdrant::Condition) -> (&str, &MatchValue) {
        let field = field_condition(condition);
        let value = field
            .r#match
            .as_ref()
            .and_then(|m| m.match_value.as_ref())
            .expect("a match");
        (field.key.as_str(), value)
    }

    #[test]
    fn a_scoped_filter_becomes_the_same_qdrant_filter() {
        let tenant = TenantId::new("acme").unwrap();
        let id = ImageId::derive(&tenant, SHA).unwrap();
        let must = vec![
            Condition::Keyword {
                field: Field::Tags,
                any_of: vec!["cat".into()],
            },
            Condition::Keyword {
                field: Field::Labels,
                // Whitespace must stay a keyword match, not full text.
                any_of: vec!["site=north yard".into(), "site=south".into()],
            },
            Condition::Ids(vec![id]),
            Condition::DatetimeRange {
                field: Field::CapturedAt,
                gte: Some("2024-01-01T00:00:00Z".into()),
                lt: Some("2024-02-01T00:00:00Z".into()),
            },
            Condition::FloatRange {
                field: Field::Sharpness,
                gte: Some(12.5),
                lte: None,
            },
            Condition::GeoRadius {
                field: Field::Gps,
                center: GeoPoint {
                    lon: 13.4,
                    lat: 52.5,
                },
                radius_m: 1500.0,
            },
        ];
        let must_not = vec![Condition::Flag {
            field: Field::NsfwFlagged,
            value: true,
        }];
        let scoped = ScopedFilter::new(tenant).with(must, must_not);
        let filter = server_filter(&scoped).unwrap();

        assert!(filter.should.is_empty() && filter.min_should.is_none());
        assert_eq!(filter.must.len(), 7);
        assert_eq!(
            match_value(&filter.must[0]),
            ("tenant_id", &MatchValue::Keyword("acme".into()))
        );
        assert_eq!(
            match_value(&filter.must[1]),
            ("tags", &MatchValue::Keyword("cat".into()))
        );
        assert_eq!(
            match_value(&filter.must[2]),
            (
                "label_pairs",
                &MatchValue::Keywords(qdrant::RepeatedStrings {
                    strings: vec!["site=north yard".into(), "site=south".into()],
                })
            )
        );
        match &filter.must[3].condition_one_of {
            Some(ConditionOneOf::HasId(has_id)) => {
                assert_eq!(has_id.has_id, vec![qdrant::PointId::from(id.to_string())]);
            }
            other => panic!("expected has_id, got {other:?}"),
        }
        let dates = field_condition(&filter.must[4]);
        assert_eq!(dates.key, "metadata.captured_at");
        let range = dates.datetime_range.unwrap();
        assert_eq!(
            range.gte,
            Some(qdrant::Timestamp {
                seconds: 1_704_067_200,
                nanos: 0
            })
        );
        assert_eq!(
            range.lt,
            Some(qdrant::Timestamp {
                seconds: 1_706_745_600,
                nanos: 0
            })
        );
        assert_eq!((range.gt, range.lte), (None, None));
        let sharp = field_condition(&filter.must[5]);
        assert_eq!(sharp.key, "quality.sharpness");
        assert_eq!(
            sharp.range,
            Some(qdrant::Range {
                gte: Some(12.5),
                ..qdrant::Range::default()
            })
        );
        let geo = field_condition(&filter.must[6]);
        assert_eq!(geo.key, "metadata.gps");
        assert_eq!(
            geo.geo_radius,
            Some(qdrant::GeoRadius {
                center: Some(qdrant::GeoPoint {
                    lon: 13.4,
                    lat: 52.5
                }),
                radius: 1500.0,
            })
        );
        assert_eq!(filter.must_not.len(), 1);
        assert_eq!(
            match_value(&filter.must_not[0]),
            ("nsfw.flagged", &MatchValue::Boolean(true))
        );
    }

    #[test]
    fn phrase_and_missing_any_become_the_same_qdrant_conditions() {
        let scoped = ScopedFilter::new(TenantId::new("acme").unwrap()).with(
            vec![
                Condition::Phrase {
                    field: Field::OcrTerms,
                    terms: "发 票 no 123".into(),
                },
                Condition::MissingAny {
                    field: Field::AnalyzerKeys,
                    values: vec!["ocr@1".into(), "nsfw@2".into()],
                },
            ],
            Vec::new(),
        );
        let filter = server_filter(&scoped).unwrap();
        assert_eq!(filter.must.len(), 3);
        assert_eq!(
            match_value(&filter.must[1]),
            ("ocr_terms", &MatchValue::Phrase("发 票 no 123".into()))
        );
        let stale = match &filter.must[2].condition_one_of {
            Some(ConditionOneOf::Filter(nested)) => nested,
            other => panic!("expected a nested filter, got {other:?}"),
        };
        assert!(stale.must.is_empty() && stale.must_not.is_empty());
        let missing: Vec<_> = stale
            .should
            .iter()
            .map(|branch| match &branch.condition_one_of {
                Some(ConditionOneOf::Filter(inner)) => {
                    assert!(inner.must.is_empty() && inner.should.is_empty());
                    assert_eq!(inner.must_not.len(), 1);
                    match_value(&inner.must_not[0])
                }
                other => panic!("expected must_not branch, got {other:?}"),
            })
            .collect();
        assert_eq!(
            missing,
            vec![
                ("analyzer_keys", &MatchValue::Keyword("ocr@1".into())),
                ("analyzer_keys", &MatchValue::Keyword("nsfw@2".into())),
            ]
        );
    }

    #[test]
    fn an_unparseable_time_is_invalid_input() {
        let scoped = ScopedFilter::new(TenantId::new("acme").unwrap()).with(
            vec![Condition::DatetimeRange {
                field: Field::IngestedAt,
                gte: Some("yesterday".into()),
                lt: None,
            }],
            Vec::new(),
        );
        assert_eq!(
            server_filter(&scoped).unwrap_err().code(),
            "index.invalid_input"
        );
    }

    fn record(id: ImageId, tenant: TenantId) -> ImageRecord {
        ImageRecord {
            tenant_id: tenant,
            customer_id: Some("cust-1".into()),
            project_id: None,
            image_id: id,
            sha256: SHA.into(),
            phash: "0123456789abcdef".into(),
            phash_bands: vec!["0:ef".into()],
            tags: vec!["cat".into()],
            tag_scores: BTreeMap::new(),
            nsfw: NsfwRecord {
                score: 0.25,
                flagged: false,
            },
            quality: QualityRecord {
                sharpness: 5.0,
                mean_luma: 120.5,
                flags: vec!["blurry".into()],
            },
            metadata: MetadataRecord {
                captured_at: Some("2024-05-06T07:08:09Z".into()),
                captured_month: Some("2024-05".into()),
                camera: None,
                gps: Some(GeoPoint {
                    lon: 13.4,
                    lat: 52.5,
                }),
                width: 640,
                height: 480,
                format: "jpeg".into(),
            },
            renditions: BTreeMap::new(),
            source_uri: None,
            filename: Some("cat.jpg".into()),
            job_id: Some("job-7".into()),
            labels: BTreeMap::from([("site".into(), "north yard".into())]),
            label_pairs: vec!["site=north yard".into()],
            model_versions: BTreeMap::new(),
            analyzer_keys: Vec::new(),
            ocr: None,
            ocr_terms: None,
            faces: None,
            document: None,
            ingested_at: "2024-05-07T00:00:00Z".into(),
            updated_at: "2024-05-07T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_point_survives_the_protobuf_round_trip() {
        let tenant = TenantId::new("acme").unwrap();
        let id = ImageId::derive(&tenant, SHA).unwrap();
        let stored = StoredPoint {
            id,
            record: record(id, tenant),
            vectors: ImageVectors {
                image: vec![0.5, -0.25, 1.0],
                semantic: Some(vec![0.125, 0.75]),
            },
        };
        let point = server_point(stored.clone()).unwrap();
        assert_eq!(point.id, Some(qdrant::PointId::from(id.to_string())));

        // What the server sends back has the same payload map and the
        // vectors as `VectorsOutput`.
        let named = match point.vectors.and_then(|v| v.vectors_options) {
            Some(qdrant::vectors::VectorsOptions::Vectors(named)) => named.vectors,
            other => panic!("expected named vectors, got {other:?}"),
        };
        assert_eq!(named.len(), 2);
        let output = qdrant::VectorsOutput {
            vectors_options: Some(VectorsOptions::Vectors(qdrant::NamedVectorsOutput {
                vectors: HashMap::from([
                    (
                        VectorName::Image.as_str().to_owned(),
                        dense_output(vec![0.5, -0.25, 1.0]),
                    ),
                    (
                        VectorName::Semantic.as_str().to_owned(),
                        dense_output(vec![0.125, 0.75]),
                    ),
                ]),
            })),
        };
        let image = stored_image(point.id, point.payload, Some(output)).unwrap();
        assert_eq!(image.record, stored.record);
        assert_eq!(image.vectors, Some(stored.vectors));
    }

    fn dense_output(data: Vec<f32>) -> qdrant::VectorOutput {
        qdrant::VectorOutput {
            vector: Some(vector_output::Vector::Dense(qdrant::DenseVector { data })),
            ..qdrant::VectorOutput::default()
        }
    }

    #[test]
    fn unreadable_points_are_corrupt_records() {
        let numeric = image_id(Some(qdrant::PointId::from(7_u64))).unwrap_err();
        assert_eq!(numeric.code(), "index.corrupt_record");
        let garbage = image_id(Some(qdrant::PointId::from("not-a-uuid"))).unwrap_err();
        assert_eq!(garbage.code(), "index.corrupt_record");
        let tenant = TenantId::new("acme").unwrap();
        let id = ImageId::derive(&tenant, SHA).unwrap();
        let payload = Payload::try_from(json!({"tenant_id": "acme"})).unwrap();
        let error = stored_image(Some(point_id(id)), payload.into(), None).unwrap_err();
        assert_eq!(error.code(), "index.corrupt_record");
    }

    #[test]
    fn facets_sort_by_count_then_value() {
        let facet = |value: &str, count| FacetCount {
            value: value.into(),
            count,
        };
        let mut counts = vec![facet("b", 2), facet("c", 5), facet("a", 2)];
        sort_facets(&mut counts);
        assert_eq!(counts, vec![facet("c", 5), facet("a", 2), facet("b", 2)]);
    }

    #[test]
    fn errors_say_whether_a_retry_can_help() {
        let unreachable = status_error(
            "search",
            grpc_code::INTERNAL,
            "Failed to connect to http://127.0.0.1:6334/: ConnectError",
        );
        assert_eq!(unreachable.code(), "index.unavailable");
        assert_eq!(
            status_error("x", grpc_code::CANCELLED, "Timeout expired").code(),
            "index.unavailable"
        );
        assert_eq!(
            status_error("x", grpc_code::UNAVAILABLE, "").code(),
            "index.unavailable"
        );
        let refused = status_error("upsert", grpc_code::INVALID_ARGUMENT, "wrong vector size");
        assert_eq!(refused.code(), "index.invalid_input");
        assert!(!refused.is_retryable());
        assert_eq!(
            status_error("x", grpc_code::NOT_FOUND, "no collection").code(),
            "index.engine_error"
        );
    }

    #[test]
    fn the_api_key_is_never_printed() {
        let config = ServerConfig {
            api_key: Some("s3cr3t-key".into()),
            ..ServerConfig::default()
        };
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("s3cr3t-key") && printed.contains("***"),
            "{printed}"
        );
        // The backend's Debug neither (the client inside holds the key).
        let client = Qdrant::from_url(&config.url)
            .api_key(config.api_key.clone())
            .skip_compatibility_check()
            .build()
            .unwrap();
        let backend = ServerBackend {
            client,
            url: config.url.clone(),
            collection: config.collection.clone(),
            layout: IndexLayout::default(),
        };
        let printed = format!("{backend:?}");
        assert!(!printed.contains("s3cr3t-key"), "{printed}");
        assert!(printed.contains("imgtag_images"), "{printed}");
    }

    #[test]
    fn failures_are_classified_for_retrying() {
        use grpc_code::*;
        for code in [
            UNAVAILABLE,
            DEADLINE_EXCEEDED,
            RESOURCE_EXHAUSTED,
            CANCELLED,
            ABORTED,
        ] {
            assert_eq!(classify_status(code, "x"), Failure::Transient, "{code}");
        }
        assert_eq!(
            classify_status(INTERNAL, "Failed to connect to http://127.0.0.1:6334/"),
            Failure::Transient
        );
        assert_eq!(
            classify_status(UNKNOWN, "transport error"),
            Failure::Transient
        );
        assert_eq!(
            classify_status(INTERNAL, "Service internal error: disk full"),
            Failure::Permanent
        );
        // A concurrent creator: the current code, and older servers' words.
        assert_eq!(
            classify_status(ALREADY_EXISTS, "Collection `c` already exists!"),
            Failure::AlreadyExists
        );
        assert_eq!(
            classify_status(
                INVALID_ARGUMENT,
                "Wrong input: Collection `c` already exists!"
            ),
            Failure::AlreadyExists
        );
        assert_eq!(
            classify_status(INVALID_ARGUMENT, "Wrong input: vector size"),
            Failure::Permanent
        );
        assert_eq!(
            classify_status(NOT_FOUND, "Collection `c` doesn't exist!"),
            Failure::NotReady
        );
        for code in [UNAUTHENTICATED, PERMISSION_DENIED, FAILED_PRECONDITION] {
            assert_eq!(classify_status(code, "x"), Failure::Permanent, "{code}");
        }
        assert_eq!(
            classify(&QdrantError::ConversionError("sparse".into())),
            Failure::Permanent
        );
        // Retried exactly when the error's code says a retry can help.
        for code in 0..=16 {
            for message in ["x", "Failed to connect to http://h:6334/", "already exists"] {
                let transient = classify_status(code, message) == Failure::Transient;
                let error = status_error("x", code, message);
                assert_eq!(
                    transient,
                    error.code() == "index.unavailable",
                    "{code} {message}: {error}"
                );
                if transient {
                    assert!(error.is_retryable());
                }
            }
        }
    }

    #[test]
    fn the_backoff_doubles_to_five_seconds_and_stops_at_the_deadline() {
        let now = Instant::now();
        let mut backoff = Backoff::default();
        let far = now + Duration::from_secs(3600);
        let delays: Vec<u64> = (0..9)
            .map(|_| backoff.next_delay(now, far).unwrap().as_millis() as u64)
            .collect();
        assert_eq!(
            delays,
            vec![100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]
        );
        // The last wait is cut to the deadline; then nothing is left.
        let mut backoff = Backoff::default();
        let near = now + Duration::from_millis(250);
        assert_eq!(
            backoff.next_delay(now, near),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            backoff.next_delay(now + Duration::from_millis(100), near),
            Some(Duration::from_millis(150))
        );
        assert_eq!(backoff.next_delay(near, near), None);
        assert_eq!(
            backoff.next_delay(near + Duration::from_secs(1), near),
            None
        );
        // The budget of a whole open.
        assert_eq!(
            connect_budget(&ServerConfig::default()),
            Duration::from_secs(30)
        );
        let slow = ServerConfig {
            timeout_secs: 60,
            ..ServerConfig::default()
        };
        assert_eq!(connect_budget(&slow), Duration::from_secs(180));
    }

    fn unavailable(n: u32) -> (Failure, IndexError) {
        (
            Failure::Transient,
            IndexError::Unavailable(format!(
                "health check (server http://h:6334, collection c): try {n}"
            )),
        )
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_the_call_passes() {
        let mut calls = 0;
        let started = Instant::now();
        let result = retrying(
            Instant::now() + Duration::from_secs(30),
            &[Failure::Transient],
            async || {
                calls += 1;
                if calls < 3 {
                    Err(unavailable(calls))
                } else {
                    Ok(calls)
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), 3);
        // Waited 100 ms, then 200 ms.
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn other_failures_are_not_retried() {
        let mut calls = 0;
        let refused = retrying(
            Instant::now() + Duration::from_secs(30),
            &[Failure::Transient],
            async || -> Result<(), _> {
                calls += 1;
                Err((
                    Failure::AlreadyExists,
                    IndexError::Engine("create collection: already exists".into()),
                ))
            },
        )
        .await
        .unwrap_err();
        assert_eq!(calls, 1);
        assert_eq!(refused.failure, Failure::AlreadyExists);
        assert_eq!(refused.error.code(), "index.engine_error");
    }

    #[tokio::test]
    async fn retries_stop_at_the_deadline_with_the_last_error() {
        let mut calls = 0;
        let started = Instant::now();
        let refused = retrying(
            Instant::now() + Duration::from_millis(350),
            &[Failure::Transient],
            async || -> Result<(), _> {
                calls += 1;
                Err(unavailable(calls))
            },
        )
        .await
        .unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        // 100 + 200 + 50 ms of waits: four attempts (fewer on a machine
        // too busy to wake up on time).
        assert!((2..=4).contains(&calls), "{calls}");
        assert_eq!(refused.failure, Failure::Transient);
        assert_eq!(refused.error.code(), "index.unavailable");
        let message = refused.error.to_string();
        assert!(message.contains(&format!("try {calls}")), "{message}");
        assert!(
            message.contains(&format!("gave up after {calls} attempts")),
            "{message}"
        );
        assert!(
            message.contains("http://h:6334") && message.contains("collection c"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_within_the_budget_naming_url_and_collection() {
        // A port that was free a moment ago: connections are refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let config = ServerConfig {
            url: url.clone(),
            collection: "imgtag_unreachable".into(),
            timeout_secs: 1,
            ..ServerConfig::default()
        };
        let started = Instant::now();
        let deadline = Instant::now() + Duration::from_millis(700);
        let error = ServerBackend::connect_unchecked(&config, IndexLayout::default(), deadline)
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(error.code(), "index.unavailable", "{error}");
        let message = error.to_string();
        assert!(
            message.contains(&url) && message.contains("imgtag_unreachable"),
            "{message}"
        );
        assert!(message.contains("attempts"), "{message}");
    }

    #[test]
    fn error_messages_name_the_server_and_the_collection() {
        let config = ServerConfig::default();
        let client = Qdrant::from_url(&config.url)
            .skip_compatibility_check()
            .build()
            .unwrap();
        let backend = ServerBackend {
            client,
            url: config.url.clone(),
            collection: "photos".into(),
            layout: IndexLayout::default(),
        };
        let error = status_error(&backend.during("upsert"), grpc_code::UNAVAILABLE, "");
        let message = error.to_string();
        assert!(
            message.contains("upsert (server http://127.0.0.1:6334, collection photos)"),
            "{message}"
        );
    }

    #[test]
    fn config_validation_refuses_bad_values() {
        assert!(ServerConfig::default().validate().is_ok());
        let bad_url = ServerConfig {
            url: "127.0.0.1:6334".into(),
            ..ServerConfig::default()
        };
        assert!(bad_url.validate().is_err());
        let bad_collection = ServerConfig {
            collection: "a/b".into(),
            ..ServerConfig::default()
        };
        assert!(bad_collection.validate().is_err());
    }
}
