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
//!
//! `bench_index fill DIR [--points N] [--tenant NAME] [--tenant-share F]`
//! only writes N synthetic points (default 100,000) into the index at DIR
//! (created, or added to: `scripts/bench_api --points N` fills the API's
//! scratch index with it), waits until every vector is in a graph, prints
//! one JSON line saying what it wrote, and exits. Those points carry
//! realistic payloads ([`fill`]): friendly tags of the real vocabulary,
//! the classifier classes behind them, OCR text (Chinese and English
//! invoices, receipts, screenshots and signs) on about 30 % of them, the
//! real embeddings mixed as above; `--tenant` (default `bench`) holds
//! `--tenant-share` of them (default 0.15), 19 other tenants the rest.
//!
//! `bench_index text DIR [--tenant NAME] [--rounds N]` breaks the hybrid
//! text search (`service::hybrid`) of an index (a filled one) into its
//! parts, English and Chinese queries: the text encoder, each branch's
//! index calls, the whole search as the API runs it, and the JSON of the
//! answer; medians and 99th percentiles in milliseconds ([`text`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use imgtag_models::{ModelStore, Runtime, RuntimeConfig};
use imgtag_pipeline::PipelineConfig;
use imgtag_workers::analyzers::{
    AnalysisInput, AnalyzerId, AnalyzerSet, Analyzers, AnalyzersConfig,
};
use imgtag_workers::index::edge::EdgeSettings;
use imgtag_workers::index::text::is_cjk;
use imgtag_workers::index::{
    ImageFilter, ImageVectors, Index, IndexConfig, MetadataRecord, NewImage, NsfwRecord,
    OcrLineRecord, OcrRecord, QualityRecord, RenditionRecord, SearchParams, TagScore, TenantId,
    VectorName,
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

/// The real embeddings of every sample photo and corpus image that decodes,
/// and the version of every analyzer (as stored with an image).
fn base_vectors() -> (Vec<Base>, BTreeMap<String, String>) {
    let runtime =
        Runtime::init(&RuntimeConfig::default()).expect("ONNX Runtime: run scripts/setup");
    let store = ModelStore::open(Path::new(".imgtag/models")).expect("models: run scripts/setup");
    let analyzers = Analyzers::build(&AnalyzersConfig::default(), &runtime, &store).unwrap();
    let needed: AnalyzerSet = [AnalyzerId::Classifier, AnalyzerId::Semantic]
        .into_iter()
        .collect();
    let plan = analyzers.plan(&needed);
    let pipeline = PipelineConfig {
        renditions: Vec::new(),
        ..PipelineConfig::default()
    }
    .build()
    .unwrap();
    let mut files = Vec::new();
    for dir in [".imgtag/samples", ".imgtag/corpus/pillow-images"] {
        let Ok(entries) = fs_err::read_dir(dir) else {
            eprintln!("{dir} missing (run scripts/setup): fewer base images");
            continue;
        };
        for entry in entries {
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
    (bases, analyzers.version_map())
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
        faces: None,
        document: None,
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fill") => return fill::main(&args[1..]),
        Some("text") => return text::main(&args[1..]),
        _ => {}
    }
    let started = Instant::now();
    let (bases, _) = base_vectors();
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

/// `bench_index fill`: synthetic points with realistic payloads, written
/// into an index directory for the API benchmark (`scripts/bench_api
/// --points N`).
mod fill {
    use super::*;

    /// Where the text of a point comes from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Text {
        /// A photo: the OCR gate's probe found too little text.
        None,
        /// A VAT invoice (Chinese) or an invoice (English).
        Invoice,
        /// A till receipt, Chinese or English.
        Receipt,
        /// A phone screenshot (payment, order, chat).
        Screenshot,
        /// A photo with a sign or a label in it.
        Sign,
    }

    /// A kind of picture customers send: its friendly tags (names from
    /// `models/data/friendly_tags.toml`), the ImageNet classes behind them
    /// (as `imgtag tag` names them) and its text.
    struct Theme {
        weight: u32,
        tags: &'static [&'static str],
        classes: &'static [&'static str],
        text: Text,
    }

    /// About 30 % of the weight carries text (documents, screenshots, signs).
    #[rustfmt::skip]
    const THEMES: &[Theme] = &[
        Theme { weight: 6, tags: &["animal", "mammal", "pet", "cat"], classes: &["tabby", "tiger_cat", "egyptian_cat"], text: Text::None },
        Theme { weight: 6, tags: &["animal", "mammal", "pet", "dog"], classes: &["golden_retriever", "labrador_retriever", "pug"], text: Text::None },
        Theme { weight: 8, tags: &["vehicle", "car"], classes: &["sports_car", "convertible", "minivan", "cab"], text: Text::None },
        Theme { weight: 3, tags: &["vehicle", "car", "car_part"], classes: &["car_wheel", "grille", "car_mirror"], text: Text::None },
        Theme { weight: 2, tags: &["vehicle", "truck"], classes: &["pickup", "trailer_truck"], text: Text::None },
        Theme { weight: 2, tags: &["vehicle", "motorcycle"], classes: &["moped", "motor_scooter"], text: Text::None },
        Theme { weight: 7, tags: &["food", "meal"], classes: &["pizza", "plate", "hotpot"], text: Text::None },
        Theme { weight: 5, tags: &["drink"], classes: &["espresso", "cup", "coffee_mug"], text: Text::None },
        Theme { weight: 2, tags: &["food", "dessert"], classes: &["ice_cream", "trifle"], text: Text::None },
        Theme { weight: 9, tags: &["person", "clothing"], classes: &["jersey", "suit", "sweatshirt"], text: Text::None },
        Theme { weight: 5, tags: &["landscape"], classes: &["seashore", "alp", "lakeside"], text: Text::None },
        Theme { weight: 4, tags: &["structure", "building"], classes: &["boathouse", "palace", "church"], text: Text::None },
        Theme { weight: 3, tags: &["electronics", "phone"], classes: &["cellular_telephone", "ipod"], text: Text::None },
        Theme { weight: 3, tags: &["furniture"], classes: &["studio_couch", "dining_table"], text: Text::None },
        Theme { weight: 5, tags: &["structure", "building", "shop"], classes: &["grocery_store", "bakery", "restaurant"], text: Text::Sign },
        Theme { weight: 11, tags: &["document"], classes: &["menu", "envelope", "binder"], text: Text::Invoice },
        Theme { weight: 10, tags: &["document"], classes: &["menu", "crossword_puzzle"], text: Text::Receipt },
        Theme { weight: 4, tags: &["screenshot", "document"], classes: &["web_site", "cellular_telephone"], text: Text::Screenshot },
    ];

    const COMPANIES_ZH: &[&str] = &[
        "上海云帆贸易有限公司",
        "北京星辰科技有限公司",
        "深圳市海蓝电子有限公司",
        "杭州绿野餐饮管理有限公司",
        "广州南方物流有限公司",
        "成都天府文具有限公司",
    ];
    const COMPANIES_EN: &[&str] = &[
        "Acme Supplies Ltd",
        "Northwind Traders",
        "Blue Harbor Logistics",
        "Greenfield Cafe",
        "Summit Office Products",
        "Riverside Auto Repair",
    ];
    const SHOPS_ZH: &[&str] = &[
        "全家便利店",
        "星空咖啡馆",
        "华联超市",
        "老王面馆",
        "鲜果时光水果店",
    ];
    const SHOPS_EN: &[&str] = &[
        "CORNER MARKET",
        "BLUE BOTTLE CAFE",
        "CITY PHARMACY",
        "FRESH MART",
        "DOWNTOWN DELI",
    ];
    const ITEMS_ZH: &[&str] = &[
        "拿铁咖啡",
        "美式咖啡",
        "鲜牛奶",
        "全麦面包",
        "红富士苹果",
        "矿泉水",
        "A4打印纸",
        "办公用品",
        "鸡蛋",
        "东北大米",
        "汽车维修费",
        "餐饮服务",
    ];
    const ITEMS_EN: &[&str] = &[
        "Latte",
        "Americano",
        "Coffee beans 1kg",
        "Croissant",
        "Printer paper A4",
        "Apples",
        "Milk 1L",
        "Sandwich",
        "Consulting services",
        "Shipping",
        "Brake pads",
        "Oil change",
    ];
    const NAMES_ZH: &[&str] = &["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"];
    const SIGNS: &[&str] = &[
        "营业时间 8:00-22:00",
        "OPEN 7 DAYS",
        "COFFEE · TEA · BAKERY",
        "欢迎光临",
        "出口 EXIT",
        "No Parking",
        "今日特价",
        "SALE 50% OFF",
        "禁止吸烟 NO SMOKING",
    ];
    const SCREENS_ZH: &[&str] = &[
        "支付成功",
        "订单详情",
        "微信支付",
        "交易单号",
        "付款方式 零钱",
        "查看账单",
        "快递已签收",
        "退款申请已提交",
    ];
    const SCREENS_EN: &[&str] = &[
        "Payment successful",
        "Order details",
        "Order confirmed",
        "Transaction ID",
        "Track your package",
        "Delivered",
        "Refund requested",
        "Settings",
    ];

    fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
        items[rng.below(items.len())]
    }

    fn amount(rng: &mut Rng) -> String {
        format!("{}.{:02}", 5 + rng.below(2000), rng.below(100))
    }

    fn date(rng: &mut Rng) -> (usize, usize, usize) {
        (2023 + rng.below(3), 1 + rng.below(12), 1 + rng.below(28))
    }

    /// The lines of one document, in reading order.
    fn text_lines(rng: &mut Rng, text: Text) -> Vec<String> {
        let chinese = rng.unit() < 0.55;
        let (y, m, d) = date(rng);
        let mut lines: Vec<String> = Vec::new();
        match (text, chinese) {
            (Text::None, _) => {}
            (Text::Invoice, true) => {
                lines.push("增值税电子普通发票".into());
                lines.push(format!("发票代码：0{:011}", rng.next() % 100_000_000_000));
                lines.push(format!("发票号码：{:08}", rng.below(100_000_000)));
                lines.push(format!("开票日期：{y}年{m:02}月{d:02}日"));
                lines.push(format!("购买方名称：{}", pick(rng, COMPANIES_ZH)));
                lines.push(format!(
                    "纳税人识别号：91310{:013}",
                    rng.next() % 10_000_000_000_000
                ));
                for _ in 0..1 + rng.below(4) {
                    lines.push(format!(
                        "*{}* {} {}",
                        pick(rng, ITEMS_ZH),
                        1 + rng.below(20),
                        amount(rng)
                    ));
                }
                lines.push(format!("合计 ¥{}", amount(rng)));
                lines.push(format!("价税合计（小写）¥{}", amount(rng)));
                lines.push(format!("销售方名称：{}", pick(rng, COMPANIES_ZH)));
                lines.push(format!(
                    "收款人：{} 复核：{} 开票人：{}",
                    pick(rng, NAMES_ZH),
                    pick(rng, NAMES_ZH),
                    pick(rng, NAMES_ZH)
                ));
            }
            (Text::Invoice, false) => {
                lines.push("INVOICE".into());
                lines.push(format!("Invoice No. INV-{y}-{:04}", rng.below(10_000)));
                lines.push(format!("Date: {y}-{m:02}-{d:02}"));
                lines.push(format!("Bill To: {}", pick(rng, COMPANIES_EN)));
                lines.push("Description Qty Unit Price Amount".into());
                for _ in 0..1 + rng.below(4) {
                    lines.push(format!(
                        "{} {} {} {}",
                        pick(rng, ITEMS_EN),
                        1 + rng.below(20),
                        amount(rng),
                        amount(rng)
                    ));
                }
                lines.push(format!("Subtotal {}", amount(rng)));
                lines.push(format!("Tax (13%) {}", amount(rng)));
                lines.push(format!("TOTAL {}", amount(rng)));
                lines.push("Payment due within 30 days".into());
            }
            (Text::Receipt, true) => {
                lines.push(pick(rng, SHOPS_ZH).into());
                lines.push(
                    if rng.unit() < 0.5 {
                        "收据"
                    } else {
                        "购物小票"
                    }
                    .into(),
                );
                lines.push(format!("单号：{}", 100_000 + rng.below(900_000)));
                lines.push(format!(
                    "{y}-{m:02}-{d:02} {:02}:{:02}",
                    8 + rng.below(14),
                    rng.below(60)
                ));
                for _ in 0..1 + rng.below(5) {
                    lines.push(format!(
                        "{} x{} {}",
                        pick(rng, ITEMS_ZH),
                        1 + rng.below(5),
                        amount(rng)
                    ));
                }
                lines.push(format!("合计：¥{}", amount(rng)));
                lines.push(format!("实收：{} 找零：{}", amount(rng), amount(rng)));
                lines.push(format!("收银员：{}", pick(rng, NAMES_ZH)));
                lines.push("谢谢惠顾，欢迎再次光临".into());
            }
            (Text::Receipt, false) => {
                lines.push(pick(rng, SHOPS_EN).into());
                lines.push("RECEIPT".into());
                lines.push(format!("Order #{}", 1000 + rng.below(9000)));
                lines.push(format!(
                    "{m:02}/{d:02}/{y} {:02}:{:02}",
                    8 + rng.below(14),
                    rng.below(60)
                ));
                for _ in 0..1 + rng.below(5) {
                    lines.push(format!(
                        "{} x{} {}",
                        pick(rng, ITEMS_EN),
                        1 + rng.below(5),
                        amount(rng)
                    ));
                }
                lines.push(format!("SUBTOTAL {}", amount(rng)));
                lines.push(format!("TOTAL $ {}", amount(rng)));
                lines.push(format!("VISA **** {:04}", rng.below(10_000)));
                lines.push("Thank you for shopping".into());
            }
            (Text::Screenshot, true) => {
                for _ in 0..3 + rng.below(4) {
                    lines.push(pick(rng, SCREENS_ZH).into());
                }
                lines.push(format!("¥{}", amount(rng)));
                lines.push(format!(
                    "{y}年{m}月{d}日 {:02}:{:02}",
                    rng.below(24),
                    rng.below(60)
                ));
            }
            (Text::Screenshot, false) => {
                for _ in 0..3 + rng.below(4) {
                    lines.push(pick(rng, SCREENS_EN).into());
                }
                lines.push(format!("${}", amount(rng)));
                lines.push(format!("{m:02}/{d:02}/{y}"));
            }
            (Text::Sign, _) => {
                lines.push(
                    if chinese {
                        pick(rng, SHOPS_ZH)
                    } else {
                        pick(rng, SHOPS_EN)
                    }
                    .into(),
                );
                if rng.unit() < 0.6 {
                    lines.push(pick(rng, SIGNS).into());
                }
            }
        }
        lines
    }

    /// The OCR record of a point (a photo's says the probe found little).
    fn ocr_record(rng: &mut Rng, text: Text) -> OcrRecord {
        let lines = text_lines(rng, text);
        if lines.is_empty() {
            return OcrRecord {
                read: false,
                gate: "probe_found_little".into(),
                ..OcrRecord::default()
            };
        }
        let records: Vec<OcrLineRecord> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let (x, y) = (40.0, 60.0 + 38.0 * i as f32);
                let width = 16.0 * line.chars().count() as f32;
                OcrLineRecord {
                    text: line.clone(),
                    confidence: (0.82 + 0.17 * rng.unit()) as f32,
                    quad: [[x, y], [x + width, y], [x + width, y + 28.0], [x, y + 28.0]],
                }
            })
            .collect();
        OcrRecord {
            read: true,
            gate: if text == Text::Sign {
                "probe_found_text"
            } else {
                "classifier_document"
            }
            .into(),
            text: lines.join("\n"),
            line_count: lines.len(),
            has_cjk: lines.iter().any(|line| line.chars().any(is_cjk)),
            lines: records,
            rotation: 0,
            truncated: false,
        }
    }

    fn tag(score: f64, source: &str, model: &str, analyzer: &str) -> TagScore {
        TagScore {
            score: score as f32,
            source: source.into(),
            model: model.into(),
            analyzer: analyzer.into(),
        }
    }

    /// What the points are made of.
    struct Maker<'a> {
        bases: &'a [Base],
        /// Per theme, the base images whose real tags name one of its tags
        /// (all of them when none does).
        theme_bases: Vec<Vec<usize>>,
        versions: BTreeMap<String, String>,
        total_weight: u32,
    }

    impl<'a> Maker<'a> {
        fn new(bases: &'a [Base], versions: BTreeMap<String, String>) -> Self {
            let theme_bases = THEMES
                .iter()
                .map(|theme| {
                    let matching: Vec<usize> = (0..bases.len())
                        .filter(|&b| {
                            bases[b].tags.iter().any(|t| {
                                theme.tags.contains(&t.as_str()) && t != "vehicle" && t != "animal"
                            })
                        })
                        .collect();
                    if matching.is_empty() {
                        (0..bases.len()).collect()
                    } else {
                        matching
                    }
                })
                .collect();
            Self {
                bases,
                theme_bases,
                versions,
                total_weight: THEMES.iter().map(|t| t.weight).sum(),
            }
        }

        fn theme(&self, rng: &mut Rng) -> usize {
            let mut pick = rng.below(self.total_weight as usize) as u32;
            for (i, theme) in THEMES.iter().enumerate() {
                if pick < theme.weight {
                    return i;
                }
                pick -= theme.weight;
            }
            THEMES.len() - 1
        }

        /// Point `n` of `tenant`, and its theme.
        fn point(&self, rng: &mut Rng, tenant: &TenantId, n: usize) -> (NewImage, usize) {
            let t = self.theme(rng);
            let theme = &THEMES[t];
            let candidates = &self.theme_bases[t];
            let a = &self.bases[candidates[rng.below(candidates.len())]];
            let b = &self.bases[rng.below(self.bases.len())];
            let weight = 0.6 * rng.unit();
            let version = |id: &str| {
                self.versions
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| "bench".into())
            };
            let mut tag_scores: BTreeMap<String, TagScore> = BTreeMap::new();
            let classifier = version("classifier");
            for class in theme.classes.iter().take(1 + rng.below(2)) {
                tag_scores.insert(
                    (*class).into(),
                    tag(
                        0.2 + 0.6 * rng.unit(),
                        "classifier",
                        &classifier,
                        "classifier",
                    ),
                );
            }
            for friendly in theme.tags {
                tag_scores.insert(
                    (*friendly).into(),
                    tag(
                        0.3 + 0.69 * rng.unit(),
                        "hierarchy",
                        &classifier,
                        "classifier",
                    ),
                );
            }
            let ocr = ocr_record(rng, theme.text);
            if ocr.read {
                let ocr_model = version("ocr");
                let confidence = ocr
                    .lines
                    .iter()
                    .map(|l| f64::from(l.confidence))
                    .fold(0.0, f64::max);
                tag_scores.insert("text".into(), tag(confidence, "ocr", &ocr_model, "ocr"));
                if ocr.has_cjk {
                    tag_scores.insert("cjk_text".into(), tag(1.0, "ocr", &ocr_model, "ocr"));
                }
            }
            let sensitive = rng.below(200) == 0;
            let blurry = rng.below(12) == 0;
            let (y, m, d) = date(rng);
            let (width, height) = [
                (4032, 3024),
                (3024, 4032),
                (1920, 1080),
                (1080, 2340),
                (2480, 3508),
            ][rng.below(5)];
            let id_hint = format!(
                "{:016x}{:016x}{:016x}{:016x}",
                n,
                rng.next(),
                rng.next(),
                rng.next()
            );
            let renditions = [("thumb", 256, 9_000), ("preview", 1280, 120_000)]
                .into_iter()
                .map(|(name, _, bytes)| {
                    (
                        name.to_owned(),
                        RenditionRecord {
                            uri: format!("{tenant}/{}/{name}.webp", &id_hint[..32]),
                            format: "webp".into(),
                            bytes: (bytes / 2 + rng.below(bytes)) as u64,
                        },
                    )
                })
                .collect();
            let image = NewImage {
                tenant_id: tenant.clone(),
                customer_id: Some(format!("c{}", rng.below(500))),
                project_id: (rng.unit() < 0.4).then(|| format!("claim-{}", rng.below(2000))),
                sha256: id_hint.clone(),
                phash: format!("{:016x}", rng.next()),
                tag_scores,
                nsfw: NsfwRecord {
                    score: if sensitive {
                        0.9
                    } else {
                        (0.05 * rng.unit()) as f32
                    },
                    flagged: sensitive,
                },
                quality: QualityRecord {
                    sharpness: if blurry {
                        20.0 + 60.0 * rng.unit()
                    } else {
                        150.0 + 900.0 * rng.unit()
                    },
                    mean_luma: 60.0 + 140.0 * rng.unit(),
                    flags: if blurry {
                        vec!["blurry".into()]
                    } else {
                        Vec::new()
                    },
                },
                metadata: MetadataRecord {
                    captured_at: (theme.text != Text::Screenshot).then(|| {
                        format!(
                            "{y}-{m:02}-{d:02}T{:02}:{:02}:00Z",
                            rng.below(24),
                            rng.below(60)
                        )
                    }),
                    camera: (theme.text != Text::Screenshot && rng.unit() < 0.7).then(|| {
                        [
                            "Apple iPhone 13",
                            "HUAWEI P40",
                            "Xiaomi 12",
                            "samsung SM-G991B",
                        ][rng.below(4)]
                        .into()
                    }),
                    width,
                    height,
                    format: if theme.text == Text::Screenshot {
                        "png"
                    } else {
                        "jpeg"
                    }
                    .into(),
                    ..MetadataRecord::default()
                },
                renditions,
                source_uri: Some(format!("object:uploads/{}.jpg", &id_hint[..24])),
                filename: Some(format!("IMG_{n:06}.jpg")),
                job_id: Some(id_hint[32..].to_owned()),
                labels: BTreeMap::from([(
                    "channel".into(),
                    ["app", "web", "email"][rng.below(3)].into(),
                )]),
                model_versions: self.versions.clone(),
                ocr: Some(ocr),
                faces: None,
                document: None,
                vectors: ImageVectors {
                    image: mix(rng, &a.image, &b.image, weight),
                    semantic: Some(mix(rng, &a.semantic, &b.semantic, weight)),
                },
            };
            (image, t)
        }
    }

    /// Random unit vectors when no real image could be embedded.
    fn random_bases(rng: &mut Rng, layout: imgtag_workers::index::IndexLayout) -> Vec<Base> {
        let unit = |rng: &mut Rng, dims: usize| -> Vec<f32> {
            let raw: Vec<f64> = (0..dims).map(|_| rng.normal()).collect();
            let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
            raw.into_iter().map(|v| (v / norm) as f32).collect()
        };
        (0..64)
            .map(|_| Base {
                image: unit(rng, layout.image_dimensions),
                semantic: unit(rng, layout.semantic_dimensions),
                tags: Vec::new(),
            })
            .collect()
    }

    struct Args {
        dir: PathBuf,
        points: usize,
        tenant: String,
        tenant_share: f64,
    }

    fn parse(args: &[String]) -> Args {
        let usage =
            "usage: bench_index fill DIR [--points N] [--tenant NAME] [--tenant-share 0..1]";
        let mut parsed = Args {
            dir: PathBuf::new(),
            points: POINTS,
            tenant: "bench".into(),
            tenant_share: 0.15,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| panic!("{arg} needs a value; {usage}"))
                    .clone()
            };
            match arg.as_str() {
                "--points" => parsed.points = value().parse().expect(usage),
                "--tenant" => parsed.tenant = value(),
                "--tenant-share" => parsed.tenant_share = value().parse().expect(usage),
                dir if parsed.dir.as_os_str().is_empty() && !dir.starts_with("--") => {
                    parsed.dir = dir.into()
                }
                other => panic!("unknown argument {other:?}; {usage}"),
            }
        }
        assert!(!parsed.dir.as_os_str().is_empty(), "{usage}");
        assert!((0.0..=1.0).contains(&parsed.tenant_share), "{usage}");
        parsed
    }

    pub fn main(args: &[String]) {
        let args = parse(args);
        let started = Instant::now();
        let (mut bases, versions) = base_vectors();
        let embedded_s = started.elapsed().as_secs_f64();
        let config = IndexConfig {
            edge: EdgeSettings {
                dir: args.dir.clone(),
                ..EdgeSettings::default()
            },
            ..IndexConfig::default()
        };
        let mut rng = Rng(2026);
        let real_bases = bases.len();
        if bases.is_empty() {
            eprintln!("no real image embedded: random unit vectors");
            bases = random_bases(&mut rng, config.layout);
        }
        eprintln!("{real_bases} real base images embedded in {embedded_s:.1} s");
        let maker = Maker::new(&bases, versions);
        // Tenant sizes: `tenant` holds its share, 19 others the rest
        // (Zipf-like, tenant k weighs 1/k).
        let own = (args.points as f64 * args.tenant_share).round() as usize;
        let others: Vec<String> = (1..TENANTS).map(|k| format!("tenant-{k:02}")).collect();
        let mut sizes: BTreeMap<String, usize> = BTreeMap::from([(args.tenant.clone(), own)]);
        let total: f64 = (1..TENANTS).map(|k| 1.0 / k as f64).sum();
        for _ in own..args.points {
            let mut pick = rng.unit() * total;
            let k = (1..TENANTS)
                .find(|&k| {
                    pick -= 1.0 / k as f64;
                    pick <= 0.0
                })
                .unwrap_or(TENANTS - 1);
            *sizes.entry(others[k - 1].clone()).or_default() += 1;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let summary = runtime.block_on(async {
            let index = Index::open(&config).await.unwrap();
            let upsert_started = Instant::now();
            let mut themes = vec![0usize; THEMES.len()];
            let (mut with_text, mut with_cjk) = (0usize, 0usize);
            let mut n = 0usize;
            for (tenant, size) in &sizes {
                let tenant_id = TenantId::new(tenant.clone()).unwrap();
                let mut left = *size;
                while left > 0 {
                    let batch: Vec<NewImage> = (0..left.min(BATCH))
                        .map(|_| {
                            let (image, theme) = maker.point(&mut rng, &tenant_id, n);
                            n += 1;
                            themes[theme] += 1;
                            if let Some(ocr) = image.ocr.as_ref().filter(|o| o.read) {
                                with_text += 1;
                                with_cjk += usize::from(ocr.has_cjk);
                            }
                            image
                        })
                        .collect();
                    left -= batch.len();
                    index.tenant(tenant_id.clone()).upsert(batch).await.unwrap();
                }
                eprintln!("{tenant}: {size} points written ({:.0} s)", upsert_started.elapsed().as_secs_f64());
            }
            let upsert_s = upsert_started.elapsed().as_secs_f64();
            let optimize_started = Instant::now();
            index.optimize().await.unwrap();
            index.optimize().await.unwrap();
            index.flush().await.unwrap();
            let optimize_s = optimize_started.elapsed().as_secs_f64();
            let info = index.info().await.unwrap();
            let theme_counts: BTreeMap<String, usize> = THEMES
                .iter()
                .zip(&themes)
                .map(|(theme, count)| {
                    let text = match theme.text {
                        Text::None => "",
                        Text::Invoice => " (invoice)",
                        Text::Receipt => " (receipt)",
                        Text::Screenshot => " (screenshot)",
                        Text::Sign => " (sign)",
                    };
                    (format!("{}{text}", theme.tags.join("+")), *count)
                })
                .collect();
            json!({
                "points_written": n,
                "index_points": info.points,
                "indexed_vectors": info.indexed_vectors,
                "segments": info.segments,
                "tenant_sizes": sizes,
                "with_ocr_text": with_text,
                "with_chinese_text": with_cjk,
                "themes": theme_counts,
                "real_base_images": real_bases,
                "embedding_seconds": embedded_s,
                "upsert_seconds": upsert_s,
                "graphs_complete_after_upsert_seconds": optimize_s,
                "peak_rss_mib": peak_rss_mib(),
                "vectors": if real_bases > 0 {
                    "real image and semantic embeddings of the sample photos and the Pillow corpus, mixed in pairs with multiplicative noise"
                } else {
                    "random unit vectors"
                },
            })
        });
        println!("{summary}");
    }
}

/// `bench_index text`: where a hybrid text search spends its time.
mod text {
    use imgtag_workers::service::hybrid::TextQuery;
    use imgtag_workers::service::search::{Presentation, SearchBy, search_tenant};

    use super::*;

    /// The queries of `scripts/bench_api.py`.
    const QUERIES: [(&str, &str); 24] = [
        ("en", "coffee"),
        ("en", "a cup of coffee"),
        ("en", "a red car"),
        ("en", "invoice"),
        ("en", "receipt total"),
        ("en", "cat"),
        ("en", "dog on the grass"),
        ("en", "vehicle"),
        ("en", "invoice number"),
        ("en", "thank you for shopping"),
        ("en", "food on a plate"),
        ("en", "a person in a suit"),
        ("zh", "发票"),
        ("zh", "一杯咖啡"),
        ("zh", "猫"),
        ("zh", "收据 合计"),
        ("zh", "红色的汽车"),
        ("zh", "狗"),
        ("zh", "发票号码"),
        ("zh", "美食"),
        ("zh", "增值税发票"),
        ("zh", "交通工具"),
        ("zh", "谢谢惠顾"),
        ("zh", "支付成功"),
    ];
    /// What each branch fetches for a first page (`hybrid::MIN_DEPTH`).
    const DEPTH: usize = 30;
    /// Results per page when the API is not told (`api::params::DEFAULT_LIMIT`).
    const API_LIMIT: usize = 20;

    /// Milliseconds of each part, by part name.
    #[derive(Default)]
    struct Parts(BTreeMap<String, Vec<f64>>);

    impl Parts {
        fn add(&mut self, part: &str, since: Instant) {
            self.0
                .entry(part.to_owned())
                .or_default()
                .push(since.elapsed().as_secs_f64() * 1000.0);
        }
    }

    pub fn main(args: &[String]) {
        let usage = "usage: bench_index text DIR [--tenant NAME] [--rounds N]";
        let dir = PathBuf::from(args.first().expect(usage));
        let mut tenant = "bench".to_owned();
        let mut rounds = 20usize;
        let mut it = args[1..].iter();
        while let Some(arg) = it.next() {
            let value = it.next().expect(usage);
            match arg.as_str() {
                "--tenant" => tenant = value.clone(),
                "--rounds" => rounds = value.parse().expect(usage),
                other => panic!("unknown argument {other:?}; {usage}"),
            }
        }
        let runtime_ort =
            Runtime::init(&RuntimeConfig::default()).expect("ONNX Runtime: run scripts/setup");
        let store =
            ModelStore::open(Path::new(".imgtag/models")).expect("models: run scripts/setup");
        let needed = [AnalyzerId::Classifier, AnalyzerId::Semantic];
        let analyzers = Analyzers::build(
            &AnalyzersConfig::default().only(&needed),
            &runtime_ort,
            &store,
        )
        .unwrap();
        let friendly = analyzers.classifier().map(|c| c.friendly());
        let config = IndexConfig {
            edge: EdgeSettings {
                dir,
                optimize_after_points: 0,
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
            let scope = index.tenant(TenantId::new(tenant).unwrap());
            let filter = ImageFilter::default();
            let mut by_lang: BTreeMap<&str, Parts> = BTreeMap::new();
            let mut branches: Vec<String> = Vec::new();
            // Each branch's search, by its phrase or tag.
            let mut branch_ms: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for round in 0..=rounds {
                for (lang, query) in QUERIES {
                    let parts = by_lang.entry(lang).or_default();
                    let t = Instant::now();
                    // The encoder blocks on its batcher: off the async thread, as
                    // the API runs it.
                    let prepared = tokio::task::block_in_place(|| {
                        TextQuery::from_analyzers(query, &analyzers).unwrap()
                    });
                    parts.add("1 encoder + query preparation", t);
                    let t = Instant::now();
                    let _ = TextQuery::new(query, None, friendly);
                    parts.add("1a query preparation without the encoder", t);
                    let vector = prepared.vector.clone().unwrap();
                    if round == 0 {
                        branches.push(format!(
                            "{query}: vector + text {:?} + tags {:?}",
                            prepared.phrases,
                            prepared.tags.iter().map(|(t, _)| t).collect::<Vec<_>>()
                        ));
                    }
                    // Each branch alone, one after the other.
                    let t = Instant::now();
                    scope
                        .search(
                            VectorName::Semantic,
                            vector.clone(),
                            &filter,
                            DEPTH,
                            0,
                            None,
                        )
                        .await
                        .unwrap();
                    parts.add("2 vector branch: search", t);
                    // What a hit's record costs: the same search for fewer
                    // and more results.
                    for limit in [1, 10, 100] {
                        let t = Instant::now();
                        scope
                            .search(
                                VectorName::Semantic,
                                vector.clone(),
                                &filter,
                                limit,
                                0,
                                None,
                            )
                            .await
                            .unwrap();
                        parts.add(&format!("2{limit:03} vector search, limit {limit}"), t);
                    }
                    let mut narrowed: Vec<(&str, ImageFilter)> = Vec::new();
                    for phrase in &prepared.phrases {
                        narrowed.push((
                            "3 text branch",
                            ImageFilter {
                                text_contains: Some(phrase.clone()),
                                ..filter.clone()
                            },
                        ));
                    }
                    for (tag, _) in &prepared.tags {
                        narrowed.push((
                            "4 tag branch",
                            ImageFilter {
                                tags_all: vec![tag.clone()],
                                ..filter.clone()
                            },
                        ));
                    }
                    for (kind, narrowed) in &narrowed {
                        let t = Instant::now();
                        let hits = scope
                            .search(
                                VectorName::Semantic,
                                vector.clone(),
                                narrowed,
                                DEPTH,
                                0,
                                None,
                            )
                            .await
                            .unwrap();
                        parts.add(&format!("{kind}: search"), t);
                        let label = narrowed
                            .text_contains
                            .clone()
                            .or_else(|| narrowed.tags_all.first().cloned())
                            .unwrap_or_default();
                        branch_ms
                            .entry(format!("{kind} {label:?} ({} hits)", hits.len()))
                            .or_default()
                            .push(t.elapsed().as_secs_f64() * 1000.0);
                        if hits.len() < DEPTH {
                            let t = Instant::now();
                            scope.scroll(narrowed, None, DEPTH, false).await.unwrap();
                            parts.add(&format!("{kind}: scroll (fewer than {DEPTH} hits)"), t);
                        }
                    }
                    let t = Instant::now();
                    let output = search_tenant(
                        &scope,
                        SearchBy::Text(prepared),
                        &filter,
                        API_LIMIT,
                        0,
                        Presentation {
                            lang: if lang == "zh" {
                                imgtag_models::Lang::Zh
                            } else {
                                imgtag_models::Lang::En
                            },
                            friendly,
                        },
                    )
                    .await
                    .unwrap();
                    parts.add("5 search_tenant (all branches at once, fusion)", t);
                    let t = Instant::now();
                    let body = serde_json::to_vec(&output).unwrap();
                    parts.add("6 JSON of the answer", t);
                    parts
                        .0
                        .entry("6a JSON bytes (KiB)".into())
                        .or_default()
                        .push(body.len() as f64 / 1024.0);
                    if round == 0 {
                        // The first round warms up.
                        for values in parts.0.values_mut() {
                            values.clear();
                        }
                    }
                }
            }
            for line in &branches {
                println!("{line}");
            }
            let mut slowest: Vec<(f64, &String)> = branch_ms
                .iter()
                .map(|(branch, ms)| (ms.iter().sum::<f64>() / ms.len() as f64, branch))
                .collect();
            slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
            println!("branch searches, slowest first (mean ms, warm-up round included):");
            for (ms, branch) in slowest.iter().take(12) {
                println!("  {ms:7.2}  {branch}");
            }
            for (lang, parts) in &by_lang {
                println!("{lang}: {} queries x {rounds} rounds", QUERIES.len() / 2);
                for (part, values) in &parts.0 {
                    let mut sorted = values.clone();
                    sorted.sort_by(f64::total_cmp);
                    let total: f64 = sorted.iter().sum();
                    println!(
                        "  {part:<50} n {:>4}  p50 {:>7.2}  p99 {:>7.2}  per query {:>7.2}",
                        sorted.len(),
                        percentile(&sorted, 0.5),
                        percentile(&sorted, 0.99),
                        total / (rounds * QUERIES.len() / 2) as f64,
                    );
                }
            }
        });
    }
}
