//! [`TenantIndex`]: every query and write of one tenant. Each method builds
//! its [`ScopedFilter`] from the tenant it was made for, so nothing here
//! can read, count, facet or delete another tenant's points.

use std::collections::{BTreeMap, HashMap};

use imgtag_models::vector::{dot, l2_normalised};
use imgtag_pipeline::fingerprint::hamming_distance;
use serde::Serialize;

use super::Index;
use super::error::IndexError;
use super::filter::{Condition, ImageFilter, ScopedFilter};
use super::ids::{ImageId, TenantId, normalise_sha256};
use super::layout::{FacetField, Field, VectorName};
use super::query::{
    FacetCount, Hit, MAX_LIMIT, Page, SearchParams, StoredImage, StoredPoint, VectorSearch,
};
use super::record::{NewImage, analyzer_keys, phash_bands};

/// Most near-duplicate candidates examined per look-up.
const MAX_DUPLICATE_CANDIDATES: usize = 2_000;
/// Most points written in one call.
pub const MAX_UPSERT_BATCH: usize = 1_000;

/// The index as seen by one tenant.
#[derive(Debug, Clone)]
pub struct TenantIndex<'a> {
    index: &'a Index,
    tenant: TenantId,
}

/// Why an image is a duplicate of the one looked up.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Same sha256: the very same bytes.
    SameBytes,
    /// Perceptual hashes close and image embeddings alike.
    Near {
        /// Hamming distance of the 64-bit perceptual hashes.
        phash_distance: u32,
        /// Cosine of the `image` vectors.
        cosine: f32,
    },
}

/// One duplicate found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateMatch {
    /// The stored image.
    pub image: StoredImage,
    /// Why it matches.
    pub reason: DuplicateReason,
}

impl<'a> TenantIndex<'a> {
    pub(super) fn new(index: &'a Index, tenant: TenantId) -> Self {
        Self { index, tenant }
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    fn scoped(&self, filter: &ImageFilter) -> Result<ScopedFilter, IndexError> {
        let (must, must_not) = filter.conditions()?;
        Ok(ScopedFilter::new(self.tenant.clone()).with(must, must_not))
    }

    fn scoped_raw(&self, must: Vec<Condition>, must_not: Vec<Condition>) -> ScopedFilter {
        ScopedFilter::new(self.tenant.clone()).with(must, must_not)
    }

    /// Writes images (insert, or overwrite the point with the same id: the
    /// id derives from tenant and sha256). Every image must belong to this
    /// tenant. A point written before keeps its `ingested_at`. Returns the
    /// ids in input order.
    pub async fn upsert(&self, images: Vec<NewImage>) -> Result<Vec<ImageId>, IndexError> {
        if images.len() > MAX_UPSERT_BATCH {
            return Err(IndexError::InvalidInput(format!(
                "{} images in one write, at most {MAX_UPSERT_BATCH}",
                images.len()
            )));
        }
        let mut ids = Vec::with_capacity(images.len());
        for image in &images {
            if image.tenant_id != self.tenant {
                return Err(IndexError::InvalidInput(format!(
                    "image of tenant {} written through tenant {}",
                    image.tenant_id, self.tenant
                )));
            }
            ids.push(image.image_id()?);
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        let earlier: HashMap<ImageId, String> = self
            .get_many(&unique)
            .await?
            .into_iter()
            .map(|stored| (stored.record.image_id, stored.record.ingested_at))
            .collect();
        let now = chrono::Utc::now();
        // The same image twice in one call: the later one wins, as it would
        // in two calls.
        let mut points: BTreeMap<ImageId, StoredPoint> = BTreeMap::new();
        for (image, id) in images.into_iter().zip(&ids) {
            let first = earlier.get(id).cloned();
            let (id, record, vectors) = image.into_record(&self.index.layout, now, first)?;
            points.insert(
                id,
                StoredPoint {
                    id,
                    record,
                    vectors,
                },
            );
        }
        self.index.upsert(points.into_values().collect()).await?;
        Ok(ids)
    }

    /// One image, or `index.not_found` (also for another tenant's id).
    pub async fn get(&self, id: ImageId, with_vectors: bool) -> Result<StoredImage, IndexError> {
        let filter = self.scoped_raw(vec![Condition::Ids(vec![id])], Vec::new());
        let page = self.index.scroll(filter, None, 1, with_vectors).await?;
        page.images
            .into_iter()
            .next()
            .ok_or_else(|| IndexError::NotFound(id.to_string()))
    }

    /// The images among `ids` that exist in this tenant (others are left out).
    pub async fn get_many(&self, ids: &[ImageId]) -> Result<Vec<StoredImage>, IndexError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > MAX_LIMIT {
            return Err(IndexError::InvalidInput(format!(
                "{} ids in one look-up, at most {MAX_LIMIT}",
                ids.len()
            )));
        }
        let filter = self.scoped_raw(vec![Condition::Ids(ids.to_vec())], Vec::new());
        Ok(self
            .index
            .scroll(filter, None, ids.len(), false)
            .await?
            .images)
    }

    /// Nearest images to `values` by the `vector` vector, among those
    /// matching `filter`, best first. `params` overrides the configured
    /// search knobs.
    pub async fn search(
        &self,
        vector: VectorName,
        values: Vec<f32>,
        filter: &ImageFilter,
        limit: usize,
        offset: usize,
        params: Option<SearchParams>,
    ) -> Result<Vec<Hit>, IndexError> {
        self.search_scoped(
            vector,
            values,
            self.scoped(filter)?,
            limit,
            offset,
            params,
            false,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn search_scoped(
        &self,
        vector: VectorName,
        values: Vec<f32>,
        filter: ScopedFilter,
        limit: usize,
        offset: usize,
        params: Option<SearchParams>,
        with_vectors: bool,
    ) -> Result<Vec<Hit>, IndexError> {
        check_limit(limit)?;
        if offset > 10 * MAX_LIMIT {
            return Err(IndexError::InvalidInput(format!(
                "offset {offset}: at most {}",
                10 * MAX_LIMIT
            )));
        }
        self.index.layout.check_vector(vector, &values)?;
        self.index
            .search(VectorSearch {
                vector,
                values,
                filter,
                limit,
                offset,
                params: params.unwrap_or(self.index.search),
                with_vectors,
            })
            .await
    }

    /// Images like the stored image `id` (itself left out), by `vector`.
    pub async fn more_like_this(
        &self,
        id: ImageId,
        vector: VectorName,
        filter: &ImageFilter,
        limit: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let source = self.get(id, true).await?;
        let values = source
            .vectors
            .as_ref()
            .and_then(|v| v.get(vector))
            .ok_or_else(|| {
                IndexError::InvalidInput(format!("image {id} has no `{}` vector", vector.as_str()))
            })?
            .to_vec();
        let (must, mut must_not) = filter.conditions()?;
        must_not.push(Condition::Ids(vec![id]));
        let scoped = self.scoped_raw(must, must_not);
        self.search_scoped(vector, values, scoped, limit, 0, None, false)
            .await
    }

    /// Stored images with exactly these bytes (by sha256).
    pub async fn exact_duplicates(&self, sha256: &str) -> Result<Vec<StoredImage>, IndexError> {
        let sha256 = normalise_sha256(sha256)?;
        let filter = self.scoped_raw(
            vec![Condition::Keyword {
                field: Field::Sha256,
                any_of: vec![sha256],
            }],
            Vec::new(),
        );
        Ok(self
            .index
            .scroll(filter, None, MAX_LIMIT, false)
            .await?
            .images)
    }

    /// Exact and near duplicates of an image given by its sha256, perceptual
    /// hash and `image` vector (stored or not): same bytes first, then near
    /// ones by phash distance, each confirmed by the embedding cosine.
    /// `exclude` leaves one id out (the image itself).
    pub async fn duplicates(
        &self,
        sha256: &str,
        phash: u64,
        image_vector: &[f32],
        exclude: Option<ImageId>,
    ) -> Result<Vec<DuplicateMatch>, IndexError> {
        self.index
            .layout
            .check_vector(VectorName::Image, image_vector)?;
        let settings = self.index.duplicates;
        let mut found: Vec<DuplicateMatch> = self
            .exact_duplicates(sha256)
            .await?
            .into_iter()
            .filter(|image| Some(image.record.image_id) != exclude)
            .map(|image| DuplicateMatch {
                image,
                reason: DuplicateReason::SameBytes,
            })
            .collect();
        let mut must_not = Vec::new();
        let mut skip: Vec<ImageId> = found.iter().map(|m| m.image.record.image_id).collect();
        skip.extend(exclude);
        if !skip.is_empty() {
            must_not.push(Condition::Ids(skip));
        }
        let filter = self.scoped_raw(
            vec![Condition::Keyword {
                field: Field::PhashBands,
                any_of: phash_bands(phash),
            }],
            must_not,
        );
        let query = l2_normalised(image_vector.iter().copied());
        let mut near = Vec::new();
        let mut cursor = None;
        let mut examined = 0;
        loop {
            let page = self.index.scroll(filter.clone(), cursor, 256, true).await?;
            examined += page.images.len();
            for image in page.images {
                let distance = hamming_distance(image.record.phash_value()?, phash);
                if distance > settings.phash_max_distance {
                    continue;
                }
                let Some(vectors) = &image.vectors else {
                    continue;
                };
                let cosine = dot(&query, &l2_normalised(vectors.image.iter().copied()));
                if cosine >= settings.min_cosine {
                    near.push(DuplicateMatch {
                        image,
                        reason: DuplicateReason::Near {
                            phash_distance: distance,
                            cosine,
                        },
                    });
                }
            }
            cursor = page.next;
            if cursor.is_none() || examined >= MAX_DUPLICATE_CANDIDATES {
                if cursor.is_some() {
                    tracing::warn!(
                        tenant = %self.tenant,
                        examined,
                        "near-duplicate look-up stopped at its candidate bound"
                    );
                }
                break;
            }
        }
        near.sort_by(|a, b| match (&a.reason, &b.reason) {
            (
                DuplicateReason::Near {
                    phash_distance: da,
                    cosine: ca,
                },
                DuplicateReason::Near {
                    phash_distance: db,
                    cosine: cb,
                },
            ) => da.cmp(db).then(cb.total_cmp(ca)),
            _ => std::cmp::Ordering::Equal,
        });
        for m in &mut near {
            m.image.vectors = None;
        }
        found.extend(near);
        Ok(found)
    }

    /// Duplicates of the stored image `id` (itself left out).
    pub async fn duplicates_of(&self, id: ImageId) -> Result<Vec<DuplicateMatch>, IndexError> {
        let image = self.get(id, true).await?;
        let vector = image
            .vectors
            .as_ref()
            .map(|v| v.image.clone())
            .ok_or_else(|| IndexError::CorruptRecord {
                id: id.to_string(),
                reason: "no image vector".into(),
            })?;
        self.duplicates(
            &image.record.sha256,
            image.record.phash_value()?,
            &vector,
            Some(id),
        )
        .await
    }

    /// One page of the images matching `filter`, in id order; feed `next`
    /// back as `cursor` for the following page.
    pub async fn scroll(
        &self,
        filter: &ImageFilter,
        cursor: Option<ImageId>,
        limit: usize,
        with_vectors: bool,
    ) -> Result<Page, IndexError> {
        check_limit(limit)?;
        self.index
            .scroll(self.scoped(filter)?, cursor, limit, with_vectors)
            .await
    }

    /// One page of the images (sensitive ones included) that lack at least
    /// one of the `current` analyzer versions (by analyzer name): what a
    /// reprocessing job walks.
    pub async fn stale(
        &self,
        current: &BTreeMap<String, String>,
        cursor: Option<ImageId>,
        limit: usize,
    ) -> Result<Page, IndexError> {
        check_limit(limit)?;
        if current.is_empty() {
            return Ok(Page {
                images: Vec::new(),
                next: None,
            });
        }
        let filter = self.scoped_raw(
            vec![Condition::MissingAny {
                field: Field::AnalyzerKeys,
                values: analyzer_keys(current),
            }],
            Vec::new(),
        );
        self.index.scroll(filter, cursor, limit, false).await
    }

    /// Exact number of images matching `filter`.
    pub async fn count(&self, filter: &ImageFilter) -> Result<u64, IndexError> {
        self.index.count(self.scoped(filter)?).await
    }

    /// Counts per value of `field` among images matching `filter`, most
    /// frequent first (at most `limit` values).
    pub async fn facet(
        &self,
        field: FacetField,
        filter: &ImageFilter,
        limit: usize,
    ) -> Result<Vec<FacetCount>, IndexError> {
        check_limit(limit)?;
        self.index
            .facet(field.field(), self.scoped(filter)?, limit)
            .await
    }

    /// Deletes these images (ids of other tenants are ignored); returns how
    /// many were deleted.
    pub async fn delete(&self, ids: &[ImageId]) -> Result<u64, IndexError> {
        if ids.is_empty() {
            return Ok(0);
        }
        if ids.len() > MAX_LIMIT {
            return Err(IndexError::InvalidInput(format!(
                "{} ids in one delete, at most {MAX_LIMIT}",
                ids.len()
            )));
        }
        let filter = self.scoped_raw(vec![Condition::Ids(ids.to_vec())], Vec::new());
        self.index.delete(filter).await
    }

    /// Deletes every image matching `filter`; returns how many.
    pub async fn delete_where(&self, filter: &ImageFilter) -> Result<u64, IndexError> {
        self.index.delete(self.scoped(filter)?).await
    }
}

fn check_limit(limit: usize) -> Result<(), IndexError> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(IndexError::InvalidInput(format!(
            "limit {limit}: must be 1..={MAX_LIMIT}"
        )));
    }
    Ok(())
}
