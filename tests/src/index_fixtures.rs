//! Synthetic but realistic index data for the index tests: images of
//! several tenants with tags, customers, capture dates, NSFW flags,
//! quality flags, model versions and unit vectors, all derived from a seed,
//! plus an oracle that evaluates filters locally.

use std::collections::BTreeMap;
use std::path::Path;

use imgtag_workers::index::edge::EdgeSettings;
use imgtag_workers::index::record::parse_datetime;
use imgtag_workers::index::text::{query_phrase, terms};
use imgtag_workers::index::{
    ImageFilter, ImageVectors, IndexConfig, MetadataRecord, NewImage, NsfwRecord, OcrRecord,
    QualityRecord, RenditionRecord, TagScore, TenantId,
};
use sha2::{Digest, Sha256};

/// Tags the fixtures draw from.
pub const TAGS: [&str; 8] = [
    "cat", "dog", "car", "receipt", "document", "food", "outdoor", "person",
];
/// Customers the fixtures draw from.
pub const CUSTOMERS: [&str; 4] = ["c1", "c2", "c3", "c4"];
/// Model versions of "current" images.
pub const CURRENT_MODELS: [(&str, &str); 2] =
    [("classifier", "effnet-lite0@2"), ("nsfw", "open-nsfw@1")];
/// Lines of text the fixtures' documents are made of (Chinese without
/// spaces, invoice numbers, English).
pub const TEXT_LINES: [&str; 8] = [
    "增值税电子普通发票",
    "发票号码：12345678",
    "发票号码: 87654321",
    "购买方名称：上海云帆贸易有限公司",
    "Invoice No. INV-2024-0042",
    "TOTAL ¥ 1,280.00",
    "姓名 张伟 性别 男",
    "Thank you for shopping",
];

/// An embedded-index configuration on `dir` that optimises only on demand.
pub fn index_config(dir: &Path) -> IndexConfig {
    IndexConfig {
        edge: EdgeSettings {
            dir: dir.to_path_buf(),
            optimize_after_points: 0,
            ..EdgeSettings::default()
        },
        ..IndexConfig::default()
    }
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A random unit vector of `dims` dimensions.
pub fn unit_vector(rng: &mut SplitMix, dims: usize) -> Vec<f32> {
    let raw: Vec<f64> = (0..dims).map(|_| rng.normal()).collect();
    normalise(&raw)
}

/// `v` scaled to length 1.
pub fn normalise(v: &[f64]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    v.iter().map(|x| (x / norm) as f32).collect()
}

/// A two-thread tokio runtime for the index tests.
pub fn async_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Image number `n` of `tenant`: everything derived from (tenant, n).
pub fn new_image(tenant: &TenantId, n: u64) -> NewImage {
    let seed = u64::from_le_bytes(
        Sha256::digest(format!("{tenant}/{n}").as_bytes())[..8]
            .try_into()
            .unwrap(),
    );
    let mut rng = SplitMix(seed);
    let mut tag_scores = BTreeMap::new();
    let tag_count = 1 + rng.below(3);
    for _ in 0..tag_count {
        let tag = TAGS[rng.below(TAGS.len() as u64) as usize];
        tag_scores.insert(
            tag.to_owned(),
            TagScore {
                score: 0.3 + 0.7 * rng.unit() as f32,
                source: "classifier".into(),
                model: "effnet-lite0@2".into(),
                analyzer: "classifier".into(),
            },
        );
    }
    let customer = CUSTOMERS[rng.below(CUSTOMERS.len() as u64) as usize];
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let flagged = rng.below(10) == 0;
    let blurry = rng.below(5) == 0;
    let stale = rng.below(4) == 0;
    let mut model_versions: BTreeMap<String, String> = CURRENT_MODELS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if stale {
        model_versions.insert("classifier".into(), "effnet-lite0@1".into());
    }
    // A third of the images are documents with a few lines of text.
    let ocr = (rng.below(3) == 0).then(|| {
        let lines: Vec<&str> = (0..1 + rng.below(3))
            .map(|_| TEXT_LINES[rng.below(TEXT_LINES.len() as u64) as usize])
            .collect();
        OcrRecord {
            read: true,
            gate: "probe_found_text".into(),
            text: lines.join("\n"),
            line_count: lines.len(),
            lines: Vec::new(),
            rotation: 0,
            has_cjk: lines
                .iter()
                .any(|l| l.chars().any(imgtag_workers::index::text::is_cjk)),
            truncated: false,
        }
    });
    let sha256 =
        imgtag_pipeline::fingerprint::sha256_hex(format!("bytes of {tenant}/{n}").as_bytes());
    NewImage {
        tenant_id: tenant.clone(),
        customer_id: Some(customer.into()),
        project_id: Some(format!("p{}", rng.below(3))),
        sha256: sha256.clone(),
        phash: format!("{:016x}", rng.next_u64()),
        tag_scores,
        nsfw: NsfwRecord {
            score: if flagged { 0.95 } else { 0.01 },
            flagged,
        },
        quality: QualityRecord {
            sharpness: if blurry {
                20.0
            } else {
                400.0 + 100.0 * rng.unit()
            },
            mean_luma: 120.0,
            flags: if blurry {
                vec!["blurry".into()]
            } else {
                Vec::new()
            },
        },
        metadata: MetadataRecord {
            captured_at: Some(format!("2024-{month:02}-{day:02}T10:00:00Z")),
            captured_month: None,
            camera: Some("Test Camera".into()),
            gps: None,
            width: 640,
            height: 480,
            format: "jpeg".into(),
        },
        renditions: BTreeMap::from([(
            "thumb".to_owned(),
            RenditionRecord {
                uri: format!("file:///renditions/{tenant}/{sha256}/thumb.webp"),
                format: "webp".into(),
                bytes: 1234,
            },
        )]),
        source_uri: Some(format!("file:///uploads/{tenant}/{n}.jpg")),
        filename: Some(format!("{n}.jpg")),
        job_id: None,
        labels: BTreeMap::from([("crm".to_owned(), format!("case-{}", n % 5))]),
        model_versions,
        ocr,
        faces: None,
        document: None,
        vectors: ImageVectors {
            image: unit_vector(&mut rng, 1280),
            semantic: Some(unit_vector(&mut rng, 512)),
        },
    }
}

/// The current model versions as a map.
pub fn current_models() -> BTreeMap<String, String> {
    CURRENT_MODELS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether `image` matches `filter`, evaluated locally (the oracle the
/// tests compare the engine with). Covers the fields the fixtures set.
pub fn oracle_matches(image: &NewImage, filter: &ImageFilter) -> bool {
    let tags: Vec<&str> = image.tag_scores.keys().map(String::as_str).collect();
    let customer = image.customer_id.as_deref().unwrap_or("");
    let project = image.project_id.as_deref().unwrap_or("");
    let captured = image.metadata.captured_at.as_deref().unwrap_or("");
    (filter.tags_all.iter().all(|t| tags.contains(&t.as_str())))
        && (filter.tags_any.is_empty()
            || filter.tags_any.iter().any(|t| tags.contains(&t.as_str())))
        && (filter.customers.is_empty() || filter.customers.iter().any(|c| c == customer))
        && (filter.projects.is_empty() || filter.projects.iter().any(|p| p == project))
        && filter
            .captured_since
            .as_deref()
            .is_none_or(|since| captured >= parse_datetime(since).unwrap().as_str())
        && filter
            .captured_until
            .as_deref()
            .is_none_or(|until| captured < parse_datetime(until).unwrap().as_str())
        && (filter.include_sensitive || !image.nsfw.flagged)
        && !image
            .quality
            .flags
            .iter()
            .any(|f| filter.exclude_quality_flags.contains(f))
        && filter
            .min_sharpness
            .is_none_or(|min| image.quality.sharpness >= min)
        && filter
            .labels
            .iter()
            .all(|(k, v)| image.labels.get(k) == Some(v))
        && filter
            .text_contains
            .as_deref()
            .is_none_or(|query| oracle_contains(image, query))
}

/// Whether the image's text holds the query's terms next to each other,
/// in order (the oracle of `text_contains`).
pub fn oracle_contains(image: &NewImage, query: &str) -> bool {
    let (Some(ocr), Some(phrase)) = (&image.ocr, query_phrase(query)) else {
        return false;
    };
    let wanted: Vec<&str> = phrase.split(' ').collect();
    terms(&ocr.text)
        .windows(wanted.len())
        .any(|window| window.iter().map(String::as_str).eq(wanted.iter().copied()))
}

/// Whether an image lacks one of the `current` analyzer versions (the
/// oracle of "stale").
pub fn oracle_stale(image: &NewImage, current: &BTreeMap<String, String>) -> bool {
    current
        .iter()
        .any(|(analyzer, version)| image.model_versions.get(analyzer) != Some(version))
}
