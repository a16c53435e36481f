//! The index contract suite: the same checks on every backend. The
//! embedded (`edge`) backend always runs; the server backend runs when
//! `QDRANT_URL` is set, and says it was skipped otherwise.
//!
//! Expected results come from a local oracle, not from the engine itself:
//! [`Written`] keeps every image the suite wrote in each tenant (overwrites
//! and deletes applied), and every expectation (ids, counts, facets, stale
//! images, deletes) is derived from it with the fixtures' oracle
//! (`imgtag_tests::index_fixtures`). The fixtures are the same in every run
//! and on every backend ([`fixture`]): tenant names carry a run prefix, the
//! data does not depend on it.

use std::collections::{BTreeMap, BTreeSet};

use imgtag_tests::index_fixtures::{
    CUSTOMERS, TAGS, async_runtime, current_models, index_config, new_image, normalise,
    oracle_contains, oracle_matches, oracle_stale,
};
use imgtag_workers::index::{
    DuplicateReason, FacetField, ImageFilter, ImageId, Index, NewImage, SearchParams, TenantId,
    VectorName,
};

const PER_TENANT: u64 = 120;

#[test]
fn edge_backend_passes_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("index");
    async_runtime().block_on(async {
        let index = Index::open(&index_config(&data)).await.unwrap();
        let written = contract(&index, "edge").await;
        // Backup, then restore into a new directory and read it back.
        let backup = dir.path().join("backup");
        let report = index.backup(Some(backup.clone())).await.unwrap();
        let points = index.info().await.unwrap().points;
        assert_eq!(points, written.total());
        assert_eq!(report.points, points);
        assert!(report.bytes > 0);
        let error = index.backup(Some(backup.clone())).await.unwrap_err();
        assert_eq!(error.code(), "index.invalid_input", "{error}");
        let restored = dir.path().join("restored");
        imgtag_workers::index::backup::restore(&backup, &restored).unwrap();
        let error = imgtag_workers::index::backup::restore(&backup, &data).unwrap_err();
        assert_eq!(error.code(), "index.restore_refused", "{error}");
        let reopened = Index::open(&index_config(&restored)).await.unwrap();
        assert_eq!(reopened.info().await.unwrap().points, points);
        for tenant in written.tenants() {
            assert_eq!(
                all_ids(&reopened, tenant, &everything()).await,
                written.ids(tenant),
                "{tenant} after restore"
            );
        }
    });
}

#[test]
fn server_backend_passes_the_contract() {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.is_empty()) else {
        skipped("server contract suite (set QDRANT_URL=http://host:6334 to run it)");
        return;
    };
    async_runtime().block_on(async {
        use imgtag_workers::index::{BackendKind, IndexConfig, ServerConfig};
        // A fresh collection per run, so that two opens race to create it.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let run = format!("srv{}x{nanos}", std::process::id());
        let config = IndexConfig {
            backend: BackendKind::Server,
            server: ServerConfig {
                url,
                api_key: std::env::var("QDRANT_API_KEY").ok(),
                collection: format!("imgtag_test_{run}"),
                ..ServerConfig::default()
            },
            ..IndexConfig::default()
        };
        // Two workers starting at the same moment on a new collection: both
        // opens succeed (one creates it, the other finds it being created)
        // and see one layout.
        let (first, second) = tokio::join!(Index::open(&config), Index::open(&config));
        let index = first.unwrap_or_else(|e| panic!("first open: {e}"));
        let other = second.unwrap_or_else(|e| panic!("second open: {e}"));
        let info = other.info().await.unwrap();
        assert_eq!(info.points, 0, "{info:?}");
        assert!(
            info.payload_indexes.iter().any(|f| f == "tenant_id"),
            "{info:?}"
        );
        let written = contract(&index, &run).await;
        // The second handle sees what the first wrote.
        assert_eq!(other.info().await.unwrap().points, written.total());
        let acme = written.tenants().next().unwrap();
        assert_eq!(
            all_ids(&other, acme, &everything()).await,
            written.ids(acme)
        );
        // Opening it again (it exists, layout and indexes in place) succeeds.
        let again = Index::open(&config).await.unwrap();
        assert_eq!(again.info().await.unwrap().points, written.total());
        index.backup(None).await.unwrap();
    });
}

/// Says a suite was skipped where the person running the tests sees it:
/// straight to the process's stderr, which libtest does not capture (it
/// captures only the print macros).
fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

fn everything() -> ImageFilter {
    ImageFilter::everything()
}

/// Fixture `n` of `tenant`, identical in every run and on every backend:
/// drawn (`new_image`) for the tenant's name without its run prefix
/// (`acme` for `srv4242x17-acme` and `edge-acme` alike), then moved to the
/// run's tenant. Its sha256 is that of the unprefixed name too; only the
/// tenant (and so the image id, which derives from it) differs per run.
fn fixture(tenant: &TenantId, n: u64) -> NewImage {
    let name = tenant
        .as_str()
        .rsplit_once('-')
        .map_or(tenant.as_str(), |(_, name)| name);
    let mut image = new_image(&TenantId::new(name).unwrap(), n);
    let (from, to) = (format!("/{name}/"), format!("/{tenant}/"));
    image.tenant_id = tenant.clone();
    image.source_uri = image.source_uri.map(|uri| uri.replace(&from, &to));
    for rendition in image.renditions.values_mut() {
        rendition.uri = rendition.uri.replace(&from, &to);
    }
    image
}

/// Everything the suite wrote, per tenant and image id, as the index must
/// hold it: upserts (an overwrite replaces), deletes. The single source of
/// every expectation.
#[derive(Debug, Default)]
struct Written(BTreeMap<TenantId, BTreeMap<ImageId, NewImage>>);

impl Written {
    /// Writes `images` into `tenant` and, once the index acknowledged them,
    /// records them. Returns their ids.
    async fn upsert(
        &mut self,
        index: &Index,
        tenant: &TenantId,
        images: Vec<NewImage>,
    ) -> Vec<ImageId> {
        let ids = index
            .tenant(tenant.clone())
            .upsert(images.clone())
            .await
            .unwrap();
        assert_eq!(ids.len(), images.len());
        let held = self.0.entry(tenant.clone()).or_default();
        for (id, image) in ids.iter().zip(images) {
            assert_eq!(*id, image.image_id().unwrap());
            held.insert(*id, image);
        }
        ids
    }

    fn tenants(&self) -> impl Iterator<Item = &TenantId> {
        self.0.keys()
    }

    fn images(&self, tenant: &TenantId) -> impl Iterator<Item = &NewImage> {
        self.0.get(tenant).into_iter().flat_map(BTreeMap::values)
    }

    fn get(&self, tenant: &TenantId, id: ImageId) -> Option<&NewImage> {
        self.0.get(tenant).and_then(|images| images.get(&id))
    }

    fn ids(&self, tenant: &TenantId) -> BTreeSet<ImageId> {
        self.0
            .get(tenant)
            .map(|images| images.keys().copied().collect())
            .unwrap_or_default()
    }

    fn count(&self, tenant: &TenantId) -> u64 {
        self.0.get(tenant).map_or(0, |images| images.len() as u64)
    }

    fn total(&self) -> u64 {
        self.0.values().map(|images| images.len() as u64).sum()
    }

    /// Ids of the tenant's images matching `filter`.
    fn matching(&self, tenant: &TenantId, filter: &ImageFilter) -> BTreeSet<ImageId> {
        self.select(tenant, |image| oracle_matches(image, filter))
    }

    fn select(&self, tenant: &TenantId, keep: impl Fn(&NewImage) -> bool) -> BTreeSet<ImageId> {
        self.0
            .get(tenant)
            .into_iter()
            .flatten()
            .filter(|(_, image)| keep(image))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Value counts of the tenant's images (every image, sensitive ones
    /// included), as the index's facets over `everything()`.
    fn facet(
        &self,
        tenant: &TenantId,
        values: impl Fn(&NewImage) -> Vec<String>,
    ) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for image in self.images(tenant) {
            for value in values(image) {
                *counts.entry(value).or_default() += 1;
            }
        }
        counts
    }

    /// Records that `ids` were deleted from `tenant`; returns how many it held.
    fn remove(&mut self, tenant: &TenantId, ids: &BTreeSet<ImageId>) -> u64 {
        let held = self.0.entry(tenant.clone()).or_default();
        ids.iter().filter(|id| held.remove(id).is_some()).count() as u64
    }
}

async fn all_ids(index: &Index, tenant: &TenantId, filter: &ImageFilter) -> BTreeSet<ImageId> {
    let scope = index.tenant(tenant.clone());
    let mut found = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = scope.scroll(filter, cursor, 37, false).await.unwrap();
        for image in page.images {
            assert_eq!(&image.record.tenant_id, tenant);
            assert!(
                found.insert(image.record.image_id),
                "scroll repeated an image"
            );
        }
        cursor = page.next;
        if cursor.is_none() {
            return found;
        }
    }
}

/// The index's facet over every image of `tenant`, as a map.
async fn facet_map(index: &Index, tenant: &TenantId, field: FacetField) -> BTreeMap<String, u64> {
    let facets = index
        .tenant(tenant.clone())
        .facet(field, &everything(), 100)
        .await
        .unwrap();
    assert!(
        facets.windows(2).all(|w| w[0].count >= w[1].count),
        "{field:?} facets are not sorted: {facets:?}"
    );
    facets.into_iter().map(|f| (f.value, f.count)).collect()
}

/// Every image of `tenant` and its count agree with what was written.
async fn assert_holds(index: &Index, written: &Written, tenant: &TenantId, step: &str) {
    assert_eq!(
        index
            .tenant(tenant.clone())
            .count(&everything())
            .await
            .unwrap(),
        written.count(tenant),
        "{tenant}: count {step}"
    );
    assert_eq!(
        all_ids(index, tenant, &everything()).await,
        written.ids(tenant),
        "{tenant}: images {step}"
    );
}

/// Every behaviour of the contract, on tenants prefixed with `run`.
/// Returns what it left in the index.
async fn contract(index: &Index, run: &str) -> Written {
    let tenants: Vec<TenantId> = ["acme", "globex", "initech"]
        .iter()
        .map(|t| TenantId::new(format!("{run}-{t}")).unwrap())
        .collect();
    let mut written = Written::default();
    for tenant in &tenants {
        let images: Vec<NewImage> = (0..PER_TENANT).map(|n| fixture(tenant, n)).collect();
        written.upsert(index, tenant, images).await;
    }
    let acme = &tenants[0];
    let globex = &tenants[1];
    let initech = &tenants[2];
    let scope = index.tenant(acme.clone());
    // The first fixtures, by number (probes for the steps below).
    let images: Vec<NewImage> = (0..PER_TENANT).map(|n| fixture(acme, n)).collect();

    // Counts, scroll paging and the default NSFW exclusion.
    assert_holds(index, &written, acme, "after the first upserts").await;
    let safe = written.matching(acme, &ImageFilter::default()).len() as u64;
    assert!(safe < written.count(acme), "fixtures have flagged images");
    assert_eq!(scope.count(&ImageFilter::default()).await.unwrap(), safe);

    // Filters agree with the oracle.
    let filters = [
        ImageFilter {
            tags_all: vec!["cat".into(), "outdoor".into()],
            ..everything()
        },
        ImageFilter {
            tags_any: vec!["receipt".into(), "document".into()],
            ..ImageFilter::default()
        },
        ImageFilter {
            customers: vec![CUSTOMERS[1].into()],
            projects: vec!["p2".into()],
            ..everything()
        },
        ImageFilter {
            captured_since: Some("2024-03-01".into()),
            captured_until: Some("2024-07-01T00:00:00Z".into()),
            ..ImageFilter::default()
        },
        ImageFilter {
            exclude_quality_flags: vec!["blurry".into()],
            ..everything()
        },
        ImageFilter {
            min_sharpness: Some(100.0),
            ..everything()
        },
        ImageFilter {
            labels: BTreeMap::from([("crm".into(), "case-3".into())]),
            ..everything()
        },
        // Text the images contain: a Chinese substring, a two-character
        // name, an invoice number matched whole, English words in order.
        ImageFilter {
            text_contains: Some("发票号码".into()),
            ..everything()
        },
        ImageFilter {
            text_contains: Some("张伟".into()),
            ..everything()
        },
        ImageFilter {
            text_contains: Some("12345678".into()),
            ..everything()
        },
        ImageFilter {
            text_contains: Some("invoice no".into()),
            tags_any: vec!["cat".into(), "dog".into(), "car".into(), "receipt".into()],
            ..everything()
        },
    ];
    for filter in &filters {
        let expected = written.matching(acme, filter);
        assert!(
            !expected.is_empty(),
            "filter {filter:?} matches nothing in the fixtures"
        );
        assert_eq!(all_ids(index, acme, filter).await, expected, "{filter:?}");
        assert_eq!(
            scope.count(filter).await.unwrap(),
            expected.len() as u64,
            "{filter:?}"
        );
    }

    // Near misses of the text find nothing: part of a number, characters
    // or words out of order, a phrase across two lines that never follow
    // each other.
    for query in ["1234567", "号码发票", "no invoice", "伟张"] {
        let filter = ImageFilter {
            text_contains: Some(query.into()),
            ..everything()
        };
        assert!(
            written.images(acme).all(|i| !oracle_contains(i, query)),
            "{query}: the fixtures should not hold it"
        );
        assert_eq!(scope.count(&filter).await.unwrap(), 0, "{query}");
    }

    // Re-upserting the same bytes overwrites: same id, count unchanged,
    // ingested_at kept, content replaced.
    let first = scope
        .get(images[0].image_id().unwrap(), false)
        .await
        .unwrap();
    let mut again = images[0].clone();
    again.filename = Some("renamed.jpg".into());
    let id = written
        .upsert(index, acme, vec![again.clone(), again])
        .await[0];
    assert_eq!(id, images[0].image_id().unwrap());
    assert_holds(index, &written, acme, "after an overwrite").await;
    let second = scope.get(id, false).await.unwrap();
    assert_eq!(second.record.filename.as_deref(), Some("renamed.jpg"));
    assert_eq!(second.record.ingested_at, first.record.ingested_at);
    assert!(second.record.updated_at >= first.record.updated_at);

    // The same bytes in another tenant are another point; ids do not leak.
    let mut shared = images[1].clone();
    shared.tenant_id = globex.clone();
    let other = written.upsert(index, globex, vec![shared]).await[0];
    assert_ne!(other, images[1].image_id().unwrap());
    assert_eq!(
        scope.get(other, false).await.unwrap_err().code(),
        "index.not_found"
    );
    let error = scope.upsert(vec![fixture(globex, 999)]).await.unwrap_err();
    assert_eq!(error.code(), "index.invalid_input");
    assert_holds(index, &written, globex, "after the shared bytes").await;

    // Nearest by each vector: an image finds itself first, score ~1; the
    // results are sorted and honour the filter.
    for (vector, probe) in [
        (VectorName::Image, &images[5]),
        (VectorName::Semantic, &images[6]),
    ] {
        let values = probe.vectors.get(vector).unwrap().to_vec();
        let hits = scope
            .search(vector, values.clone(), &everything(), 10, 0, None)
            .await
            .unwrap();
        assert_eq!(hits[0].image.record.image_id, probe.image_id().unwrap());
        assert!((hits[0].score - 1.0).abs() < 1e-4, "{}", hits[0].score);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        // Paging: `offset` skips the best results, `limit` bounds the page.
        let page = scope
            .search(vector, values.clone(), &everything(), 3, 4, None)
            .await
            .unwrap();
        assert_eq!(page, hits[4..7]);
        let exact = scope
            .search(
                vector,
                values,
                &everything(),
                10,
                0,
                Some(SearchParams {
                    exact: true,
                    hnsw_ef: None,
                }),
            )
            .await
            .unwrap();
        assert_eq!(
            exact
                .iter()
                .map(|h| h.image.record.image_id)
                .collect::<Vec<_>>(),
            hits.iter()
                .map(|h| h.image.record.image_id)
                .collect::<Vec<_>>()
        );
    }
    let tag = TAGS[0];
    let filter = ImageFilter {
        tags_all: vec![tag.into()],
        ..ImageFilter::default()
    };
    let hits = scope
        .search(
            VectorName::Image,
            images[7].vectors.image.clone(),
            &filter,
            50,
            0,
            None,
        )
        .await
        .unwrap();
    let expected = written.matching(acme, &filter);
    assert_eq!(hits.len(), expected.len().min(50));
    assert!(
        hits.iter()
            .all(|h| expected.contains(&h.image.record.image_id)),
        "{filter:?}"
    );

    // More like this leaves the image itself out.
    let source = images[8].image_id().unwrap();
    let similar = scope
        .more_like_this(source, VectorName::Image, &everything(), 5)
        .await
        .unwrap();
    assert_eq!(similar.len(), 5);
    assert!(similar.iter().all(|h| h.image.record.image_id != source));
    assert_eq!(
        index
            .tenant(globex.clone())
            .more_like_this(source, VectorName::Image, &everything(), 5)
            .await
            .unwrap_err()
            .code(),
        "index.not_found"
    );

    // Duplicates: same bytes; a near copy (3 phash bits, vector nudged);
    // an unrelated image with the same phash but another embedding, which
    // an older classifier wrote (so that the stale step below must find
    // one of these extra images).
    let original = &images[10];
    let phash = u64::from_str_radix(&original.phash, 16).unwrap();
    let mut near = fixture(acme, 10_000);
    near.phash = format!("{:016x}", phash ^ 0b1_0000_0001_0001);
    near.vectors.image = normalise(
        &original
            .vectors
            .image
            .iter()
            .zip(&near.vectors.image)
            .map(|(a, b)| f64::from(*a) + 0.05 * f64::from(*b))
            .collect::<Vec<_>>(),
    );
    let mut lookalike = fixture(acme, 10_001);
    lookalike.phash = original.phash.clone();
    lookalike
        .model_versions
        .insert("classifier".into(), "effnet-lite0@1".into());
    let ids = written.upsert(index, acme, vec![near, lookalike]).await;
    let (near_id, lookalike_id) = (ids[0], ids[1]);
    assert_holds(index, &written, acme, "after the duplicates").await;
    let found = scope
        .duplicates(&original.sha256, phash, &original.vectors.image, None)
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].reason, DuplicateReason::SameBytes);
    assert_eq!(found[0].image.record.image_id, original.image_id().unwrap());
    assert_eq!(found[1].image.record.image_id, near_id);
    assert!(
        matches!(found[1].reason, DuplicateReason::Near { phash_distance: 3, cosine } if cosine > 0.99)
    );
    let of_near = scope.duplicates_of(near_id).await.unwrap();
    assert_eq!(of_near.len(), 1);
    assert_eq!(
        of_near[0].image.record.image_id,
        original.image_id().unwrap()
    );
    assert!(
        index
            .tenant(globex.clone())
            .exact_duplicates(&original.sha256)
            .await
            .unwrap()
            .is_empty()
    );

    // Stale model versions, for reprocessing: every image written, the
    // extra ones included.
    let current = current_models();
    let mut stale = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = scope.stale(&current, cursor, 25).await.unwrap();
        stale.extend(page.images.iter().map(|i| i.record.image_id));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let expected = written.select(acme, |i| oracle_stale(i, &current));
    assert!(
        expected.contains(&lookalike_id),
        "the stale step must cover an image written after the first upserts"
    );
    assert!(expected.len() > 1, "fixtures have stale images");
    assert_eq!(stale, expected);

    // Facets: value counts per tenant equal the oracle's, extra images
    // included.
    let tags = written.facet(acme, |i| i.tag_scores.keys().cloned().collect());
    assert!(TAGS.iter().all(|t| tags.contains_key(*t)), "{tags:?}");
    assert_eq!(facet_map(index, acme, FacetField::Tag).await, tags);
    let months = written.facet(acme, |i| {
        i.metadata
            .captured_at
            .iter()
            .map(|t| t[..7].to_owned())
            .collect()
    });
    assert!(months.keys().all(|m| m.starts_with("2024-")));
    assert_eq!(
        facet_map(index, acme, FacetField::CaptureMonth).await,
        months
    );
    let customers = written.facet(acme, |i| i.customer_id.iter().cloned().collect());
    assert_eq!(
        facet_map(index, acme, FacetField::Customer).await,
        customers
    );
    let flags = written.facet(acme, |i| i.quality.flags.clone());
    assert_eq!(facet_map(index, acme, FacetField::QualityFlag).await, flags);

    // Deletes: by id (another tenant's id is ignored), then by filter.
    let doomed = images[20].image_id().unwrap();
    assert!(written.get(acme, doomed).is_some());
    assert_eq!(scope.delete(&[doomed, other]).await.unwrap(), 1);
    assert_eq!(written.remove(acme, &BTreeSet::from([doomed])), 1);
    assert_holds(index, &written, globex, "after a delete in acme").await;
    assert_eq!(
        scope.get(doomed, false).await.unwrap_err().code(),
        "index.not_found"
    );
    let dogs = ImageFilter {
        tags_all: vec!["dog".into()],
        ..everything()
    };
    let expected = written.matching(acme, &dogs);
    assert!(!expected.is_empty());
    assert_eq!(
        scope.delete_where(&dogs).await.unwrap(),
        expected.len() as u64
    );
    assert_eq!(written.remove(acme, &expected), expected.len() as u64);
    assert_eq!(scope.count(&dogs).await.unwrap(), 0);
    assert_holds(index, &written, acme, "after the deletes").await;

    // Other tenants untouched by all of it.
    assert_holds(index, &written, initech, "at the end").await;
    assert_eq!(
        written.ids(initech),
        (0..PER_TENANT)
            .map(|n| fixture(initech, n).image_id().unwrap())
            .collect()
    );

    // Bad input is refused with a code, never a panic.
    let bad_vector = scope
        .search(VectorName::Image, vec![0.1; 7], &everything(), 5, 0, None)
        .await;
    assert_eq!(bad_vector.unwrap_err().code(), "index.invalid_input");
    let zero = scope
        .search(
            VectorName::Image,
            vec![0.0; 1280],
            &everything(),
            5,
            0,
            None,
        )
        .await;
    assert_eq!(zero.unwrap_err().code(), "index.invalid_input");
    let limit = scope
        .search(
            VectorName::Image,
            images[0].vectors.image.clone(),
            &everything(),
            0,
            0,
            None,
        )
        .await;
    assert_eq!(limit.unwrap_err().code(), "index.invalid_input");
    let mut nan = fixture(acme, 77_777);
    nan.vectors.image[3] = f32::NAN;
    assert_eq!(
        scope.upsert(vec![nan]).await.unwrap_err().code(),
        "index.invalid_input"
    );
    assert_holds(index, &written, acme, "after refused input").await;

    // Optimisation keeps results.
    let probe = images[30].vectors.image.clone();
    let before = scope
        .search(VectorName::Image, probe.clone(), &everything(), 10, 0, None)
        .await
        .unwrap();
    index.optimize().await.unwrap();
    let after = scope
        .search(VectorName::Image, probe, &everything(), 10, 0, None)
        .await
        .unwrap();
    assert_eq!(
        before
            .iter()
            .map(|h| h.image.record.image_id)
            .collect::<Vec<_>>(),
        after
            .iter()
            .map(|h| h.image.record.image_id)
            .collect::<Vec<_>>()
    );
    let info = index.info().await.unwrap();
    assert_eq!(info.points, written.total());
    for tenant in &tenants {
        assert_holds(index, &written, tenant, "after optimisation").await;
    }
    assert!(info.payload_indexes.iter().any(|f| f == "tenant_id"));
    written
}
