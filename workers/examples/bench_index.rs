//! Benchmark of the embedded index (`scripts/bench_index`): 100,000 points
//! of realistic vectors, upsert throughput, optimisation time, p50/p99
//! latency of tenant-only and filtered searches through the tenant API, and
//! recall@10 against exact search with the same filter.
//!
//! Vectors: the real `image` embeddings and `semantic` vectors of every
//! image of the Pillow corpus and the sample photos that decodes (456
//! here), computed with the real models; each point mixes one of them with
//! a second one (weight 0..0.6) and multiplicative noise, then is
//! normalised, so the set keeps the real embeddings' structure (clusters,
//! non-negative features) at 100,000 points. A point's tags are its base
//! image's tags. 20 tenants of Zipf-like sizes.
//!
//! Writes bench/index.json. Run in the dev profile: dependencies (the
//! engine included) are optimised there (`opt-level = 3`), which saves a
//! 20-minute release build of the engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use imgtag_models::{ModelStore, Runtime, RuntimeConfig};
use imgtag_pipeline::PipelineConfig;
use imgtag_workers::analyzers::{AnalysisInput, AnalyzerId, Analyzers, AnalyzersConfig};
use imgtag_workers::index::edge::EdgeSettings;
use imgtag_workers::index::{
    ImageFilter, ImageVectors, Index, IndexConfig, MetadataRecord, NewImage, NsfwRecord,
    QualityRecord, SearchParams, TagScore, TenantId, VectorName,
};
use serde_json::json;

const POINTS: usize = 100_000;
const TENANTS: usize = 20;
const QUERIES: usize = 300;
const BATCH: usize = 256;
/// Tenants at least this big are searched through the HNSW graph.
const BIG_TENANT: usize = 5_000;

struct Base {
    image: Vec<f32>,
    semantic: Vec<f32>,
    tags: Vec<String>,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn base_vectors() -> Vec<Base> {
    let runtime =
        Runtime::init(&RuntimeConfig::default()).expect("ONNX Runtime: run scripts/setup");
    let store = ModelStore::open(Path::new(".imgtag/models")).expect("models: run scripts/setup");
    let needed = [AnalyzerId::Classifier, AnalyzerId::Semantic];
    let analyzers =
        Analyzers::build(&AnalyzersConfig::default().only(&needed), &runtime, &store).unwrap();
    let plan = analyzers.plan(&analyzers.enabled());
    let pipeline = PipelineConfig {
        renditions: Vec::new(),
        ..PipelineConfig::default()
    }
    .build()
    .unwrap();
    let mut files = Vec::new();
    for dir in [".imgtag/samples", ".imgtag/corpus/pillow-images"] {
        for entry in fs_err::read_dir(dir).expect("run scripts/setup") {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    let mut bases = Vec::new();
    for file in files {
        let Ok(bytes) = fs_err::read(&file) else {
            continue;
        };
        let Ok((_, Ok(analysis))) = pipeline.process_with(&bytes, |decoded| {
            analyzers.run(
                &AnalysisInput {
                    image: decoded.image,
                    model_input: decoded.model_input,
                    inspection: decoded.inspection,
                    source: None,
                    vocabulary: None,
                },
                &plan,
            )
        }) else {
            continue;
        };
        let (Some(classifier), Some(semantic)) = (&analysis.classifier, &analysis.semantic) else {
            continue;
        };
        bases.push(Base {
            image: classifier.classification.embedding.clone(),
            semantic: semantic.vector.clone(),
            tags: analysis
                .tags()
                .into_iter()
                .map(|(_, t)| t.name)
                .take(6)
                .collect(),
        });
    }
    bases
}

fn mix(rng: &mut Rng, a: &[f32], b: &[f32], weight: f64) -> Vec<f32> {
    let raw: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * (0.25 * rng.normal()).exp() + weight * f64::from(*y))
        .collect();
    let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    raw.into_iter().map(|v| (v / norm) as f32).collect()
}

fn tenant_of(rng: &mut Rng) -> usize {
    // Zipf-like: tenant k has weight 1/(k+1).
    let total: f64 = (0..TENANTS).map(|k| 1.0 / (k as f64 + 1.0)).sum();
    let mut pick = rng.unit() * total;
    for k in 0..TENANTS {
        pick -= 1.0 / (k as f64 + 1.0);
        if pick <= 0.0 {
            return k;
        }
    }
    TENANTS - 1
}

fn synthetic(rng: &mut Rng, bases: &[Base], n: usize) -> NewImage {
    let a = &bases[rng.below(bases.len())];
    let b = &bases[rng.below(bases.len())];
    let weight = 0.6 * rng.unit();
    let tenant = TenantId::new(format!("tenant-{:02}", tenant_of(rng))).unwrap();
    let tag_scores: BTreeMap<String, TagScore> = a
        .tags
        .iter()
        .map(|t| {
            (
                t.clone(),
                TagScore {
                    score: 0.5,
                    source: "classifier".into(),
                    model: "bench".into(),
                    analyzer: "classifier".into(),
                },
            )
        })
        .collect();
    let month = 1 + rng.below(12);
    NewImage {
        tenant_id: tenant,
        customer_id: Some(format!("c{}", rng.below(50))),
        project_id: None,
        sha256: format!(
            "{:016x}{:016x}{:016x}{:016x}",
            n,
            rng.next(),
            rng.next(),
            rng.next()
        ),
        phash: format!("{:016x}", rng.next()),
        tag_scores,
        nsfw: NsfwRecord {
            score: 0.0,
            flagged: false,
        },
        quality: QualityRecord {
            sharpness: 300.0,
            mean_luma: 120.0,
            flags: Vec::new(),
        },
        metadata: MetadataRecord {
            captured_at: Some(format!("2024-{month:02}-15T12:00:00Z")),
            width: 1024,
            height: 768,
            format: "jpeg".into(),
            ..MetadataRecord::default()
        },
        renditions: BTreeMap::new(),
        source_uri: None,
        filename: Some(format!("{n}.jpg")),
        job_id: None,
        labels: BTreeMap::new(),
        model_versions: BTreeMap::from([("classifier".into(), "bench".into())]),
        ocr: None,
        vectors: ImageVectors {
            image: mix(rng, &a.image, &b.image, weight),
            semantic: Some(mix(rng, &a.semantic, &b.semantic, weight)),
        },
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let started = Instant::now();
    let bases = base_vectors();
    println!(
        "{} real base images embedded in {:.1} s",
        bases.len(),
        started.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let config = IndexConfig {
        edge: EdgeSettings {
            dir: dir.path().join("index"),
            ..EdgeSettings::default()
        },
        ..IndexConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let index = Index::open(&config).await.unwrap();
        let mut rng = Rng(2026);
        let points: Vec<NewImage> = (0..POINTS).map(|n| synthetic(&mut rng, &bases, n)).collect();
        let mut by_tenant: BTreeMap<TenantId, Vec<NewImage>> = BTreeMap::new();
        for point in points {
            by_tenant.entry(point.tenant_id.clone()).or_default().push(point);
        }

        // Upsert with the default settings (background optimisation every
        // 5,000 points written).
        let upsert_started = Instant::now();
        for (tenant, images) in &by_tenant {
            for chunk in images.chunks(BATCH) {
                index.tenant(tenant.clone()).upsert(chunk.to_vec()).await.unwrap();
            }
        }
        let upsert_s = upsert_started.elapsed().as_secs_f64();
        println!("upsert {POINTS} points: {upsert_s:.1} s ({:.0} points/s)", POINTS as f64 / upsert_s);
        // Waits for the background optimisation the upserts started, then
        // runs whatever is left: the time until every vector is in a graph.
        let optimize_started = Instant::now();
        let mut report = index.optimize().await.unwrap();
        report.changed |= index.optimize().await.unwrap().changed;
        let optimize_s = optimize_started.elapsed().as_secs_f64();
        let info = index.info().await.unwrap();
        println!(
            "graphs complete {optimize_s:.1} s after the last upsert (changed {}); {} points, {} indexed vectors, {} segments",
            report.changed, info.points, info.indexed_vectors, info.segments
        );

        let tenants: Vec<&TenantId> = by_tenant.keys().collect();
        let sizes: Vec<usize> = by_tenant.values().map(Vec::len).collect();
        let mut results = serde_json::Map::new();
        for (kind, vector) in [("image", VectorName::Image), ("semantic", VectorName::Semantic)] {
            for filtered in [false, true] {
                let mut latencies = Vec::new();
                let mut recall_sum = 0.0;
                let mut recall_n = 0usize;
                // The same for queries in tenants big enough to go through
                // the HNSW graph (smaller ones are answered exactly).
                let mut big_latencies = Vec::new();
                let mut big_recall = (0.0, 0usize);
                let mut qrng = Rng(7 + filtered as u64);
                for q in 0..QUERIES {
                    let probe = synthetic(&mut qrng, &bases, POINTS + q);
                    let tenant = probe.tenant_id.clone();
                    let filter = if filtered {
                        ImageFilter {
                            tags_any: probe.tag_scores.keys().take(1).cloned().collect(),
                            captured_since: Some("2024-04-01".into()),
                            ..ImageFilter::default()
                        }
                    } else {
                        ImageFilter::default()
                    };
                    let values = probe.vectors.get(vector).unwrap().to_vec();
                    let big = by_tenant[&tenant].len() >= BIG_TENANT;
                    let scope = index.tenant(tenant);
                    let t0 = Instant::now();
                    let hits = scope.search(vector, values.clone(), &filter, 10, 0, None).await.unwrap();
                    let elapsed = t0.elapsed().as_secs_f64() * 1000.0;
                    latencies.push(elapsed);
                    if big {
                        big_latencies.push(elapsed);
                    }
                    let exact = scope
                        .search(vector, values, &filter, 10, 0, Some(SearchParams { exact: true, hnsw_ef: None }))
                        .await
                        .unwrap();
                    if !exact.is_empty() {
                        let truth: Vec<_> = exact.iter().map(|h| h.image.record.image_id).collect();
                        let found = hits.iter().filter(|h| truth.contains(&h.image.record.image_id)).count();
                        let recall = found as f64 / truth.len() as f64;
                        recall_sum += recall;
                        recall_n += 1;
                        if big {
                            big_recall.0 += recall;
                            big_recall.1 += 1;
                        }
                    }
                }
                latencies.sort_by(f64::total_cmp);
                let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
                let recall = recall_sum / recall_n.max(1) as f64;
                big_latencies.sort_by(f64::total_cmp);
                let (big_p50, big_p99) = (percentile(&big_latencies, 0.5), percentile(&big_latencies, 0.99));
                let big_recall = big_recall.0 / big_recall.1.max(1) as f64;
                let name = format!("{kind}_{}", if filtered { "filtered" } else { "tenant_only" });
                println!("search {name:<22} p50 {p50:6.2} ms  p99 {p99:6.2} ms  recall@10 {recall:.3}");
                println!(
                    "  in tenants of >= {BIG_TENANT} points ({} queries): p50 {big_p50:6.2} ms  p99 {big_p99:6.2} ms  recall@10 {big_recall:.3}",
                    big_latencies.len()
                );
                results.insert(name, json!({
                    "p50_ms": p50, "p99_ms": p99, "recall_at_10": recall, "queries": QUERIES,
                    "big_tenants": {"min_points": BIG_TENANT, "queries": big_latencies.len(), "p50_ms": big_p50, "p99_ms": big_p99, "recall_at_10": big_recall},
                }));
            }
        }
        let out = json!({
            "what": "embedded index (qdrant-edge 0.7.2), default settings, through TenantIndex::search",
            "profile": "dev (dependencies opt-level 3, imgtag-workers opt-level 0)",
            "points": POINTS,
            "tenants": TENANTS,
            "tenant_sizes": sizes,
            "tenant_names": tenants.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "base_images": bases.len(),
            "upsert": {"seconds": upsert_s, "points_per_second": POINTS as f64 / upsert_s, "batch": BATCH},
            "graphs_complete_after_upsert_seconds": optimize_s,
            "peak_rss_mib": peak_rss_mib(),
            "indexed_vectors": info.indexed_vectors,
            "segments": info.segments,
            "search": results,
            "filtered_query": "tenant + tags_any [one tag of the probe's base image] + captured_since 2024-04-01 + NSFW excluded",
            "tenant_only_query": "tenant + NSFW excluded",
            "machine": std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())),
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        });
        fs_err::create_dir_all("bench").unwrap();
        fs_err::write("bench/index.json", serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
        println!("wrote bench/index.json");
    });
}
