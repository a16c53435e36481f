//! Tenant isolation, as a property: random queries of every kind (vector
//! search on either vector, hybrid text queries (vector, OCR text and tag
//! branches fused), filtered scrolls, counts, facets, look-ups and "more
//! like this" by ids of any tenant, duplicate look-ups) for random tenants
//! over a mixed data set never return, count or reveal another tenant's
//! image. Counts are also checked against the local oracle.

use std::collections::BTreeMap;

use imgtag_tests::index_fixtures::{
    CUSTOMERS, SplitMix, TAGS, async_runtime, index_config, new_image, oracle_contains,
    oracle_matches, unit_vector,
};
use imgtag_workers::index::{FacetField, ImageFilter, Index, NewImage, TenantId, VectorName};
use imgtag_workers::service::hybrid::{TextQuery, search_text};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Tenants of uneven sizes, one sharing bytes (same sha256) with another.
fn data_set() -> BTreeMap<TenantId, Vec<NewImage>> {
    let sizes = [("t-big", 150), ("t-mid", 60), ("t-small", 7), ("t-one", 1)];
    let mut data = BTreeMap::new();
    for (name, size) in sizes {
        let tenant = TenantId::new(name).unwrap();
        let images: Vec<NewImage> = (0..size).map(|n| new_image(&tenant, n)).collect();
        data.insert(tenant, images);
    }
    // The same bytes uploaded by two tenants.
    let big = TenantId::new("t-big").unwrap();
    let small = TenantId::new("t-small").unwrap();
    let mut copy = data[&big][0].clone();
    copy.tenant_id = small.clone();
    data.get_mut(&small).unwrap().push(copy);
    data
}

#[derive(Debug, Clone)]
enum Probe {
    Search {
        vector: VectorName,
        seed: u64,
        filter: ImageFilter,
        limit: usize,
    },
    Text {
        seed: u64,
        phrase: Option<&'static str>,
        tag: Option<&'static str>,
        filter: ImageFilter,
        limit: usize,
    },
    Scroll {
        filter: ImageFilter,
        page: usize,
    },
    Count {
        filter: ImageFilter,
    },
    Facet {
        field: FacetField,
        filter: ImageFilter,
    },
    Get {
        owner: usize,
        n: usize,
    },
    MoreLikeThis {
        owner: usize,
        n: usize,
    },
    Duplicates {
        owner: usize,
        n: usize,
    },
}

fn filter_strategy() -> impl Strategy<Value = ImageFilter> {
    (
        proptest::sample::subsequence(TAGS.to_vec(), 0..=2),
        proptest::sample::subsequence(TAGS.to_vec(), 0..=3),
        proptest::sample::subsequence(CUSTOMERS.to_vec(), 0..=2),
        proptest::option::of(1u32..=12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(all, any, customers, month, sensitive, sharp)| ImageFilter {
                tags_all: all.into_iter().map(String::from).collect(),
                tags_any: any.into_iter().map(String::from).collect(),
                customers: customers.into_iter().map(String::from).collect(),
                captured_since: month.map(|m| format!("2024-{m:02}-01")),
                include_sensitive: sensitive,
                min_sharpness: sharp.then_some(100.0),
                ..ImageFilter::default()
            },
        )
}

fn probe_strategy() -> impl Strategy<Value = Probe> {
    let vector = prop_oneof![Just(VectorName::Image), Just(VectorName::Semantic)];
    let facet = prop_oneof![
        Just(FacetField::Tag),
        Just(FacetField::Customer),
        Just(FacetField::Project),
        Just(FacetField::CaptureMonth),
        Just(FacetField::QualityFlag),
    ];
    prop_oneof![
        (vector, any::<u64>(), filter_strategy(), 1usize..200).prop_map(
            |(vector, seed, filter, limit)| {
                Probe::Search {
                    vector,
                    seed,
                    filter,
                    limit,
                }
            }
        ),
        (
            any::<u64>(),
            proptest::option::of(proptest::sample::select(
                &[
                    "发票",
                    "发票号码",
                    "张伟",
                    "invoice no",
                    "12345678",
                    "total",
                    "云帆"
                ][..]
            )),
            proptest::option::of(proptest::sample::select(&TAGS[..])),
            filter_strategy(),
            1usize..60
        )
            .prop_map(|(seed, phrase, tag, filter, limit)| Probe::Text {
                seed,
                phrase,
                tag,
                filter,
                limit,
            }),
        (filter_strategy(), 1usize..50).prop_map(|(filter, page)| Probe::Scroll { filter, page }),
        filter_strategy().prop_map(|filter| Probe::Count { filter }),
        (facet, filter_strategy()).prop_map(|(field, filter)| Probe::Facet { field, filter }),
        (0usize..4, 0usize..200).prop_map(|(owner, n)| Probe::Get { owner, n }),
        (0usize..4, 0usize..200).prop_map(|(owner, n)| Probe::MoreLikeThis { owner, n }),
        (0usize..4, 0usize..200).prop_map(|(owner, n)| Probe::Duplicates { owner, n }),
    ]
}

#[test]
fn no_query_ever_crosses_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = async_runtime();
    let data = data_set();
    let tenants: Vec<TenantId> = data.keys().cloned().collect();
    let index = runtime.block_on(async {
        let index = Index::open(&index_config(dir.path())).await.unwrap();
        for (tenant, images) in &data {
            index
                .tenant(tenant.clone())
                .upsert(images.clone())
                .await
                .unwrap();
        }
        index
    });

    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(0usize..tenants.len(), probe_strategy()),
            |(who, probe)| {
                let tenant = &tenants[who];
                let own = &data[tenant];
                let scope = index.tenant(tenant.clone());
                let leaked = |found: &TenantId| found != tenant;
                runtime.block_on(async {
                    match probe {
                        Probe::Search {
                            vector,
                            seed,
                            filter,
                            limit,
                        } => {
                            let values =
                                unit_vector(&mut SplitMix(seed), index.layout().dimensions(vector));
                            let hits = scope
                                .search(vector, values, &filter, limit, 0, None)
                                .await
                                .unwrap();
                            let expected =
                                own.iter().filter(|i| oracle_matches(i, &filter)).count();
                            prop_assert_eq!(hits.len(), expected.min(limit));
                            for hit in hits {
                                prop_assert!(!leaked(&hit.image.record.tenant_id));
                            }
                        }
                        Probe::Text {
                            seed,
                            phrase,
                            tag,
                            filter,
                            limit,
                        } => {
                            let values = unit_vector(
                                &mut SplitMix(seed),
                                index.layout().dimensions(VectorName::Semantic),
                            );
                            let query = TextQuery {
                                text: phrase.unwrap_or("anything").to_owned(),
                                vector: Some(values),
                                phrases: phrase.map(str::to_owned).into_iter().collect(),
                                tags: tag
                                    .map(|t| (t.to_owned(), t.to_owned()))
                                    .into_iter()
                                    .collect(),
                            };
                            let hits = search_text(&scope, &query, &filter, limit, 0)
                                .await
                                .unwrap();
                            let expected =
                                own.iter().filter(|i| oracle_matches(i, &filter)).count();
                            prop_assert_eq!(hits.len(), expected.min(limit));
                            for (hit, why) in hits {
                                prop_assert!(!leaked(&hit.image.record.tenant_id));
                                let image = own
                                    .iter()
                                    .find(|i| i.image_id().unwrap() == hit.image.record.image_id)
                                    .unwrap();
                                prop_assert!(oracle_matches(image, &filter));
                                for words in &why.text {
                                    prop_assert!(oracle_contains(image, words));
                                }
                                for tag in &why.tags {
                                    prop_assert!(image.tag_scores.contains_key(tag));
                                }
                            }
                        }
                        Probe::Scroll { filter, page } => {
                            let page = scope.scroll(&filter, None, page, false).await.unwrap();
                            for image in page.images {
                                prop_assert!(!leaked(&image.record.tenant_id));
                                prop_assert!(oracle_matches(
                                    own.iter()
                                        .find(|i| i.image_id().unwrap() == image.record.image_id)
                                        .unwrap(),
                                    &filter
                                ));
                            }
                        }
                        Probe::Count { filter } => {
                            let expected =
                                own.iter().filter(|i| oracle_matches(i, &filter)).count() as u64;
                            prop_assert_eq!(scope.count(&filter).await.unwrap(), expected);
                        }
                        Probe::Facet { field, filter } => {
                            let total: u64 = scope
                                .facet(field, &filter, 1000)
                                .await
                                .unwrap()
                                .iter()
                                .map(|f| f.count)
                                .sum();
                            let matching = own.iter().filter(|i| oracle_matches(i, &filter));
                            let expected: u64 = match field {
                                FacetField::Tag => {
                                    matching.map(|i| i.tag_scores.len() as u64).sum()
                                }
                                FacetField::QualityFlag => {
                                    matching.map(|i| i.quality.flags.len() as u64).sum()
                                }
                                _ => matching.count() as u64,
                            };
                            prop_assert_eq!(total, expected);
                        }
                        Probe::Get { owner, n } => {
                            let owner = &tenants[owner];
                            let Some(image) = data[owner].get(n % data[owner].len()) else {
                                return Ok(());
                            };
                            let id = image.image_id().unwrap();
                            match scope.get(id, true).await {
                                Ok(found) => {
                                    prop_assert_eq!(owner, tenant);
                                    prop_assert!(!leaked(&found.record.tenant_id));
                                }
                                Err(error) => {
                                    prop_assert_ne!(owner, tenant);
                                    prop_assert_eq!(error.code(), "index.not_found");
                                }
                            }
                        }
                        Probe::MoreLikeThis { owner, n } => {
                            let owner = &tenants[owner];
                            let image = &data[owner][n % data[owner].len()];
                            let id = image.image_id().unwrap();
                            match scope
                                .more_like_this(id, VectorName::Image, &ImageFilter::default(), 20)
                                .await
                            {
                                Ok(hits) => {
                                    prop_assert_eq!(owner, tenant);
                                    for hit in hits {
                                        prop_assert!(!leaked(&hit.image.record.tenant_id));
                                    }
                                }
                                Err(error) => {
                                    prop_assert_ne!(owner, tenant);
                                    prop_assert_eq!(error.code(), "index.not_found");
                                }
                            }
                        }
                        Probe::Duplicates { owner, n } => {
                            // Another tenant's image (bytes, hash, vector) as the query.
                            let owner = &tenants[owner];
                            let image = &data[owner][n % data[owner].len()];
                            let phash = u64::from_str_radix(&image.phash, 16).unwrap();
                            let found = scope
                                .duplicates(&image.sha256, phash, &image.vectors.image, None)
                                .await
                                .unwrap();
                            for m in found {
                                prop_assert!(!leaked(&m.image.record.tenant_id));
                            }
                        }
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
}
