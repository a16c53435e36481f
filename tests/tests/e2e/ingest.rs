//! `imgtag ingest`, `search` and `reprocess` through the binary, embedded:
//! real models, the real index engine, the local object store.

use std::path::Path;
use std::process::Output;

use imgtag_tests::index_fixtures::async_runtime;
use imgtag_tests::{SAMPLES, imgtag_in, install_dir, sample, succeeded};
use imgtag_workers::index::{ImageFilter, Index, IndexConfig, NewImage, TenantId};
use serde_json::Value;

fn imgtag(work: &Path, args: &[&str]) -> Output {
    imgtag_in(work, args, &[])
}

fn lines(output: &Output) -> Vec<Value> {
    succeeded(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn index_config(work: &Path) -> IndexConfig {
    let mut config = IndexConfig::default();
    config.edge.dir = work.join("index");
    config
}

#[test]
fn ingest_search_and_reprocess_the_samples() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let samples = install_dir().join("samples");
    let samples = samples.to_str().unwrap();

    let first = lines(&imgtag(
        work,
        &["ingest", samples, "--tenant", "demo", "--json"],
    ));
    assert_eq!(first.len(), SAMPLES.len());
    for event in &first {
        assert_ne!(event["event"], "failed", "{event}");
        assert_eq!(event["indexed"], true);
        let thumb = event["renditions"]["thumb"]["uri"].as_str().unwrap();
        assert!(work.join("objects").join(thumb).is_file());
    }
    let ids = |events: &[Value]| {
        let mut ids: Vec<String> = events
            .iter()
            .map(|e| e["image_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    // Again: the same jobs, points and objects; no duplicates reported.
    let again = lines(&imgtag(
        work,
        &["ingest", samples, "--tenant", "demo", "--json"],
    ));
    assert_eq!(ids(&again), ids(&first));
    assert!(again.iter().all(|e| {
        e["event"]
            == first
                .iter()
                .find(|f| f["image_id"] == e["image_id"])
                .unwrap()["event"]
    }));
    // The same bytes under another name: an exact duplicate, not stored twice.
    let copies = work.join("copies");
    fs_err::create_dir_all(&copies).unwrap();
    fs_err::copy(sample("coffee.png"), copies.join("coffee-copy.png")).unwrap();
    let copy = lines(&imgtag(
        work,
        &[
            "ingest",
            copies.to_str().unwrap(),
            "--tenant",
            "demo",
            "--json",
        ],
    ));
    assert_eq!(copy[0]["event"], "duplicate", "{}", copy[0]);
    assert_eq!(copy[0]["duplicates"][0]["kind"], "same_bytes");
    let text = succeeded(&imgtag(work, &["ingest", samples, "--tenant", "demo"]));
    assert!(
        text.contains(&format!("{} images in", SAMPLES.len())),
        "{text}"
    );
    assert!(text.contains("coffee.png"), "{text}");

    // Text search inside the tenant; nothing from another tenant.
    let search = |tenant: &str, words: &str| {
        let output = imgtag(
            work,
            &[
                "search", "--tenant", tenant, "--text", words, "--limit", "3", "--json",
            ],
        );
        serde_json::from_str::<Value>(&succeeded(&output)).unwrap()
    };
    let coffee = search("demo", "a cup of coffee");
    assert_eq!(
        coffee["hits"][0]["record"]["filename"], "coffee.png",
        "{coffee}"
    );
    let cat = search("demo", "a cat");
    assert_eq!(cat["hits"][0]["record"]["filename"], "chelsea.png", "{cat}");
    assert_eq!(
        search("other", "a cup of coffee")["hits"],
        Value::Array(Vec::new())
    );
    let table = succeeded(&imgtag(
        work,
        &["search", "--tenant", "demo", "--text", "coffee"],
    ));
    assert!(
        table.lines().nth(1).unwrap().contains("coffee.png"),
        "{table}"
    );

    // Reprocessing: everything, then only what is stale.
    let reprocess = |args: &[&str]| {
        let mut all = vec!["reprocess", "--tenant", "demo", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str::<Value>(&succeeded(&imgtag(work, &all))).unwrap()
    };
    let all = reprocess(&[]);
    assert_eq!(all["done"], SAMPLES.len() as u64, "{all}");
    assert_eq!(all["failed"], 0);
    assert_eq!(reprocess(&["--only-stale"])["done"], 0);

    // Make one image stale (as if a model had changed), keep the rest.
    let tenant = TenantId::new("demo").unwrap();
    let (stale_id, ingested_at) = async_runtime().block_on(async {
        let index = Index::open(&index_config(work)).await.unwrap();
        let scope = index.tenant(tenant.clone());
        let page = scope
            .scroll(&ImageFilter::default(), None, 1, true)
            .await
            .unwrap();
        let stored = page.images.into_iter().next().unwrap();
        let record = stored.record;
        let mut versions = record.model_versions.clone();
        versions.insert("classifier".into(), "old-model@0".into());
        let old = NewImage {
            tenant_id: record.tenant_id.clone(),
            customer_id: record.customer_id.clone(),
            project_id: record.project_id.clone(),
            sha256: record.sha256.clone(),
            phash: record.phash.clone(),
            tag_scores: record.tag_scores.clone(),
            nsfw: record.nsfw,
            quality: record.quality.clone(),
            metadata: record.metadata.clone(),
            renditions: record.renditions.clone(),
            source_uri: record.source_uri.clone(),
            filename: record.filename.clone(),
            job_id: record.job_id.clone(),
            labels: record.labels.clone(),
            model_versions: versions,
            ocr: record.ocr.clone(),
            faces: record.faces.clone(),
            document: record.document.clone(),
            vectors: stored.vectors.unwrap(),
        };
        scope.upsert(vec![old]).await.unwrap();
        (record.image_id, record.ingested_at)
    });
    let stale = reprocess(&["--only-stale"]);
    assert_eq!(stale["done"], 1, "{stale}");
    async_runtime().block_on(async {
        let index = Index::open(&index_config(work)).await.unwrap();
        let record = index
            .tenant(tenant)
            .get(stale_id, false)
            .await
            .unwrap()
            .record;
        assert_ne!(record.model_versions["classifier"], "old-model@0");
        assert_eq!(record.ingested_at, ingested_at);
        assert!(record.renditions.contains_key("original"));
    });

    // An interrupted run resumes from its saved cursor.
    let mut ids = ids(&first);
    ids.sort();
    let state_dir = work.join("index.reprocess");
    fs_err::create_dir_all(&state_dir).unwrap();
    fs_err::write(
        state_dir.join("demo.json"),
        serde_json::json!({
            "tenant_id": "demo", "only_stale": false, "cursor": ids[3],
            "done": 3, "failed": 0, "failures": []
        })
        .to_string(),
    )
    .unwrap();
    let resumed = reprocess(&[]);
    assert_eq!(resumed["resumed"], true, "{resumed}");
    assert_eq!(resumed["done"], SAMPLES.len() as u64, "{resumed}");
    assert!(!state_dir.join("demo.json").exists());

    // A re-encoded copy is a near duplicate: stored, and reported.
    let near = work.join("near");
    fs_err::create_dir_all(&near).unwrap();
    let decoded = imgtag_pipeline::decode(
        &fs_err::read(sample("coffee.png")).unwrap(),
        &imgtag_pipeline::DecodeLimits::default(),
    )
    .unwrap()
    .image;
    decoded
        .to_rgb8()
        .save_with_format(near.join("coffee-reencoded.jpg"), image::ImageFormat::Jpeg)
        .unwrap();
    let reencoded = lines(&imgtag(
        work,
        &[
            "ingest",
            near.to_str().unwrap(),
            "--tenant",
            "demo",
            "--customer",
            "c-9",
            "--json",
        ],
    ));
    assert_eq!(reencoded[0]["event"], "duplicate", "{}", reencoded[0]);
    assert_eq!(reencoded[0]["indexed"], true);
    let near_match = &reencoded[0]["duplicates"][0];
    assert_eq!(near_match["kind"], "near", "{near_match}");
    assert!(near_match["cosine"].as_f64().unwrap() >= 0.9);
    let coffee_id = first
        .iter()
        .find(|e| e["filename"] == "coffee.png")
        .unwrap()["image_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(near_match["image_id"], coffee_id.as_str());

    // Search by example file, like a stored image, with filters.
    let search = |args: &[&str]| {
        let mut all = vec!["search", "--tenant", "demo", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str::<Value>(&succeeded(&imgtag(work, &all))).unwrap()
    };
    let chelsea = sample("chelsea.png");
    let by_file = search(&["--image", chelsea.to_str().unwrap(), "--limit", "2"]);
    assert_eq!(
        by_file["hits"][0]["record"]["filename"], "chelsea.png",
        "{by_file}"
    );
    assert!(by_file["hits"][0]["score"].as_f64().unwrap() > 0.99);
    let like = search(&["--like", &coffee_id, "--limit", "2"]);
    assert_eq!(
        like["hits"][0]["record"]["filename"], "coffee-reencoded.jpg",
        "{like}"
    );
    assert!(
        like["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["record"]["image_id"] != coffee_id.as_str())
    );
    let customer = search(&["--text", "coffee", "--customer", "c-9"]);
    let hits = customer["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{customer}");
    assert_eq!(hits[0]["record"]["filename"], "coffee-reencoded.jpg");
    assert_eq!(
        search(&["--text", "coffee", "--tag", "motorcycle"])["hits"][0]["record"]["filename"],
        "motorcycle_left.png"
    );
    assert_eq!(
        search(&["--text", "coffee", "--since", "2001-01-01"])["hits"],
        Value::Array(Vec::new()),
        "no capture dates"
    );
    let bad = imgtag(work, &["search", "--tenant", "demo", "--like", "not-an-id"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("error[index."),
        "{bad:?}"
    );

    // Duplicates: of a file, and every pair.
    let duplicates = |args: &[&str]| {
        let mut all = vec!["duplicates", "--tenant", "demo", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str::<Value>(&succeeded(&imgtag(work, &all))).unwrap()
    };
    let coffee_file = sample("coffee.png");
    let of_file = duplicates(&["--image", coffee_file.to_str().unwrap()]);
    let kinds: Vec<&str> = of_file["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["same_bytes", "near"], "{of_file}");
    let every = duplicates(&["--all"]);
    assert_eq!(every["images_checked"], SAMPLES.len() as u64 + 1);
    assert_eq!(every["pairs"].as_array().unwrap().len(), 1, "{every}");
    assert_eq!(every["pairs"][0]["reason"]["kind"], "near");

    // The stock.
    let stats: Value = serde_json::from_str(&succeeded(&imgtag(
        work,
        &["stats", "--tenant", "demo", "--json"],
    )))
    .unwrap();
    assert_eq!(stats["total"], SAMPLES.len() as u64 + 1, "{stats}");
    assert_eq!(stats["sensitive"], 0);
    assert_eq!(stats["duplicate_pairs"], 1);
    assert_eq!(
        stats["customers"],
        serde_json::json!([{"value": "c-9", "count": 1}])
    );
    let formats: Vec<(String, u64)> = stats["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["value"].as_str().unwrap().to_owned(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(formats, [("png".to_owned(), 4), ("jpeg".to_owned(), 2)]);
    assert!(
        stats["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["value"] == "espresso" && t["count"] == 2),
        "{stats}"
    );
    let empty: Value = serde_json::from_str(&succeeded(&imgtag(
        work,
        &["stats", "--tenant", "nobody", "--json"],
    )))
    .unwrap();
    assert_eq!(empty["total"], 0);
}
