//! The index contract suite: the same checks on every backend. The
//! embedded (`edge`) backend always runs; the server backend runs when the
//! tests are built with `--features qdrant-server` and `QDRANT_URL` is set,
//! and says it was skipped otherwise.
//!
//! Expected results come from a local oracle over the fixtures
//! (`imgtag_tests::index_fixtures`), not from the engine itself.

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
        contract(&index, "edge").await;
        // Backup, then restore into a new directory and read it back.
        let backup = dir.path().join("backup");
        let report = index.backup(Some(backup.clone())).await.unwrap();
        let points = index.info().await.unwrap().points;
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
        let tenant = TenantId::new("edge-acme").unwrap();
        let original = index
            .tenant(tenant.clone())
            .count(&everything())
            .await
            .unwrap();
        assert_eq!(
            reopened.tenant(tenant).count(&everything()).await.unwrap(),
            original
        );
    });
}

#[test]
fn server_backend_passes_the_contract() {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.is_empty()) else {
        skipped("server contract suite (set QDRANT_URL=http://host:6334 to run it)");
        return;
    };
    #[cfg(not(feature = "qdrant-server"))]
    {
        skipped(&format!(
            "server contract suite against {url}: build with \
             `cargo test -p imgtag-tests --features qdrant-server`"
        ));
    }
    #[cfg(feature = "qdrant-server")]
    async_runtime().block_on(async {
        use imgtag_workers::index::{BackendKind, IndexConfig, ServerConfig};
        let run = format!("srv{}", std::process::id());
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
        let index = Index::open(&config).await.unwrap();
        contract(&index, &run).await;
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

fn ids(images: &[NewImage]) -> BTreeSet<ImageId> {
    images.iter().map(|i| i.image_id().unwrap()).collect()
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

/// Every behaviour of the contract, on tenants prefixed with `run`.
async fn contract(index: &Index, run: &str) {
    let tenants: Vec<TenantId> = ["acme", "globex", "initech"]
        .iter()
        .map(|t| TenantId::new(format!("{run}-{t}")).unwrap())
        .collect();
    let mut data: BTreeMap<TenantId, Vec<NewImage>> = BTreeMap::new();
    for tenant in &tenants {
        let images: Vec<NewImage> = (0..PER_TENANT).map(|n| new_image(tenant, n)).collect();
        let written = index
            .tenant(tenant.clone())
            .upsert(images.clone())
            .await
            .unwrap();
        assert_eq!(written.len(), images.len());
        data.insert(tenant.clone(), images);
    }
    let acme = &tenants[0];
    let globex = &tenants[1];
    let scope = index.tenant(acme.clone());
    let images = &data[acme];

    // Counts, scroll paging and the default NSFW exclusion.
    assert_eq!(scope.count(&everything()).await.unwrap(), PER_TENANT);
    assert_eq!(all_ids(index, acme, &everything()).await, ids(images));
    let safe = images.iter().filter(|i| !i.nsfw.flagged).count() as u64;
    assert!(safe < PER_TENANT, "fixtures have flagged images");
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
        let expected: BTreeSet<ImageId> = images
            .iter()
            .filter(|i| oracle_matches(i, filter))
            .map(|i| i.image_id().unwrap())
            .collect();
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
            images.iter().all(|i| !oracle_contains(i, query)),
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
    let id = scope.upsert(vec![again.clone(), again]).await.unwrap()[0];
    assert_eq!(id, images[0].image_id().unwrap());
    assert_eq!(scope.count(&everything()).await.unwrap(), PER_TENANT);
    let second = scope.get(id, false).await.unwrap();
    assert_eq!(second.record.filename.as_deref(), Some("renamed.jpg"));
    assert_eq!(second.record.ingested_at, first.record.ingested_at);
    assert!(second.record.updated_at >= first.record.updated_at);

    // The same bytes in another tenant are another point; ids do not leak.
    let mut shared = images[1].clone();
    shared.tenant_id = globex.clone();
    let other = index
        .tenant(globex.clone())
        .upsert(vec![shared])
        .await
        .unwrap()[0];
    assert_ne!(other, images[1].image_id().unwrap());
    assert_eq!(
        scope.get(other, false).await.unwrap_err().code(),
        "index.not_found"
    );
    let error = scope
        .upsert(vec![new_image(globex, 999)])
        .await
        .unwrap_err();
    assert_eq!(error.code(), "index.invalid_input");

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
    let expected = images
        .iter()
        .filter(|i| oracle_matches(i, &filter))
        .count()
        .min(50);
    assert_eq!(hits.len(), expected);
    assert!(
        hits.iter()
            .all(|h| h.image.record.tags.iter().any(|t| t == tag) && !h.image.record.nsfw.flagged)
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
    // an unrelated image with the same phash but another embedding.
    let original = &images[10];
    let phash = u64::from_str_radix(&original.phash, 16).unwrap();
    let mut near = new_image(acme, 10_000);
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
    let mut lookalike = new_image(acme, 10_001);
    lookalike.phash = original.phash.clone();
    let near_id = near.image_id().unwrap();
    scope.upsert(vec![near, lookalike]).await.unwrap();
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

    // Stale model versions, for reprocessing.
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
    let expected: BTreeSet<ImageId> = images
        .iter()
        .filter(|i| oracle_stale(i, &current))
        .map(|i| i.image_id().unwrap())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(stale, expected);

    // Facets: tag counts per tenant equal the oracle's.
    let facets = scope
        .facet(FacetField::Tag, &everything(), 100)
        .await
        .unwrap();
    for tag in TAGS {
        let expected = images
            .iter()
            .filter(|i| i.tag_scores.contains_key(tag))
            .count() as u64
            + extra_with_tag(acme, tag);
        let got = facets
            .iter()
            .find(|f| f.value == tag)
            .map_or(0, |f| f.count);
        assert_eq!(got, expected, "tag {tag}");
    }
    assert!(facets.windows(2).all(|w| w[0].count >= w[1].count));
    let months = scope
        .facet(FacetField::CaptureMonth, &everything(), 100)
        .await
        .unwrap();
    assert!(months.iter().all(|m| m.value.starts_with("2024-")));
    assert_eq!(months.iter().map(|m| m.count).sum::<u64>(), PER_TENANT + 2);

    // Deletes: by id (another tenant's id is ignored), then by filter.
    let doomed = images[20].image_id().unwrap();
    assert_eq!(scope.delete(&[doomed, other]).await.unwrap(), 1);
    assert_eq!(
        index
            .tenant(globex.clone())
            .count(&everything())
            .await
            .unwrap(),
        PER_TENANT + 1
    );
    assert_eq!(
        scope.get(doomed, false).await.unwrap_err().code(),
        "index.not_found"
    );
    let blurry = ImageFilter {
        tags_all: vec!["dog".into()],
        ..everything()
    };
    let before = scope.count(&everything()).await.unwrap();
    let removed = scope.delete_where(&blurry).await.unwrap();
    assert!(removed > 0);
    assert_eq!(scope.count(&everything()).await.unwrap(), before - removed);
    assert_eq!(scope.count(&blurry).await.unwrap(), 0);

    // Other tenants untouched by all of it.
    let initech = &tenants[2];
    assert_eq!(
        all_ids(index, initech, &everything()).await,
        ids(&data[initech])
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
    let mut nan = new_image(acme, 77_777);
    nan.vectors.image[3] = f32::NAN;
    assert_eq!(
        scope.upsert(vec![nan]).await.unwrap_err().code(),
        "index.invalid_input"
    );

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
    let mut total = 0;
    for tenant in &tenants {
        total += index
            .tenant(tenant.clone())
            .count(&everything())
            .await
            .unwrap();
    }
    assert_eq!(info.points, total);
    assert!(info.payload_indexes.iter().any(|f| f == "tenant_id"));
}

/// Tags of the two extra images the duplicate checks add to acme.
fn extra_with_tag(acme: &TenantId, tag: &str) -> u64 {
    [10_000, 10_001]
        .iter()
        .filter(|n| new_image(acme, **n).tag_scores.contains_key(tag))
        .count() as u64
}
