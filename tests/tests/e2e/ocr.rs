//! OCR end to end, on the documents the project renders itself
//! (`scripts/make_documents.py`: an ID card, a VAT invoice, a receipt, a
//! chat screenshot, a scan lying on its side, phone photos of three of
//! them) and scikit-image's `page.png`:
//! - the engine reads them as rapidocr 3.10.0's own Python pipeline does
//!   (`models/tests/data/ocr_expected.json`, made by `scripts/ocr_parity`);
//! - `imgtag ingest` reads documents, leaves photos without text to the
//!   probe, turns the scan upright, keeps clean scans from being flagged
//!   `overexposed`, and the text is found by `search --contains` (a Chinese
//!   phrase, a two-character name, an invoice number matched whole) through
//!   the CLI and the HTTP API;
//! - `imgtag reprocess --only-stale` adds text to images ingested before OCR
//!   without changing any other analyzer's output;
//! - a worker over the real RabbitMQ puts the text in the result event, and
//!   a job asking only for `ocr` gets nothing else;
//! - `imgtag ocr` prints the text.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use image::RgbImage;
use imgtag_models::ocr::{OcrConfig, OcrEngine, OcrTier};
use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock};
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_tests::{
    analyse_with, analyzers, analyzers_config, document, imgtag_bin, imgtag_in, install_dir,
    repo_root, runtime, sample, store, succeeded,
};
use imgtag_workers::analyzers::{AnalyzerId, Analyzers};
use imgtag_workers::index::{ImageFilter, Index, IndexConfig, StoredImage, TenantId};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn expected() -> Value {
    let path = repo_root().join("models/tests/data/ocr_expected.json");
    serde_json::from_slice(&fs_err::read(path).unwrap()).unwrap()
}

/// Decodes as the reference does (Pillow: no colour management).
fn plain_decode(bytes: &[u8]) -> RgbImage {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return turbojpeg::decompress_image(bytes).unwrap();
    }
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap()
        .into_rgb8()
}

/// 1 - edit distance / truth length over the lines joined without
/// whitespace (the reference's measure).
fn char_accuracy(lines: &[String], truth: &[String]) -> f64 {
    let squash = |lines: &[String]| -> Vec<char> {
        lines
            .iter()
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let (ours, truth) = (squash(lines), squash(truth));
    let distance = strsim::generic_levenshtein(&ours, &truth);
    1.0 - distance as f64 / truth.len().max(1) as f64
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_engine_reads_the_documents_as_rapidocr_does() {
    let small = analyzers().ocr().unwrap().engine();
    let report = compare_with_reference(small, None);
    println!("PP-OCRv6 small\n{}", report.join("\n"));
}

#[test]
fn the_tiny_tier_reads_the_documents_as_rapidocr_does_with_the_tiny_models() {
    let config = OcrConfig {
        models: OcrTier::Tiny,
        ..OcrConfig::default()
    };
    let tiny = OcrEngine::load(&store(), &runtime(), &config).unwrap();
    let report = compare_with_reference(&tiny, Some("tiny"));
    println!("PP-OCRv6 tiny\n{}", report.join("\n"));
}

/// Reads every reference document with `engine` and holds its lines to
/// rapidocr's (`tier`: the reference's sub-object, `None` for small); on
/// `page.png`, a real photographed page, the character accuracy within one
/// point. Returns a line per document.
fn compare_with_reference(engine: &OcrEngine, tier: Option<&str>) -> Vec<String> {
    let expected = expected();
    let mut report = Vec::new();
    for (name, document_reference) in expected["documents"].as_object().unwrap() {
        let reference = match tier {
            Some(tier) => &document_reference[tier],
            None => document_reference,
        };
        let bytes = fs_err::read(document(name)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            document_reference["file_sha256"].as_str().unwrap(),
            "{name}: not the reference's file (re-render with scripts/setup)"
        );
        let result = engine.read(&plain_decode(&bytes)).unwrap();
        let ours: Vec<String> = result.lines.iter().map(|l| l.text.clone()).collect();
        let theirs: Vec<String> = reference["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_owned())
            .collect();
        let truth = strings(&document_reference["truth_lines"]);
        let accuracy = char_accuracy(&ours, &truth);
        let reference_accuracy = reference["accuracy"]["char_accuracy"].as_f64().unwrap();
        report.push(format!(
            "{name:<22} lines {:>3} (reference {:>3})  accuracy {accuracy:.4} (reference {reference_accuracy:.4})  rotation {}",
            ours.len(),
            theirs.len(),
            result.rotation
        ));
        assert_eq!(
            u64::from(result.rotation),
            document_reference["rotation_applied"].as_u64().unwrap(),
            "{name}: page rotation"
        );
        if name == "page.png" {
            assert!(
                accuracy >= reference_accuracy - 0.01,
                "{name}: accuracy {accuracy} vs the reference's {reference_accuracy}"
            );
        } else {
            let differing: Vec<String> = ours
                .iter()
                .zip(&theirs)
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("ours {a:?} / reference {b:?}"))
                .collect();
            assert!(
                ours == theirs,
                "{name}: {} lines vs {}; differing: {differing:#?}",
                ours.len(),
                theirs.len()
            );
        }
    }
    report
}

#[test]
fn photos_never_load_the_reading_models() {
    let config = analyzers_config().only(&[AnalyzerId::Classifier, AnalyzerId::Ocr]);
    let fresh = Analyzers::build(&config, &runtime(), &store()).unwrap();
    let engine = fresh.ocr().unwrap().engine();
    assert!(!engine.is_loaded(), "loaded at start");
    for photo in ["coffee.png", "chelsea.png"] {
        let analysis = analyse_with(&fresh, &sample(photo), &fresh.enabled(), None);
        assert!(!analysis.ocr.unwrap().decision.read);
    }
    assert!(!engine.is_loaded(), "a photo loaded the reading models");
    let analysis = analyse_with(&fresh, &document("receipt.png"), &fresh.enabled(), None);
    assert!(analysis.ocr.unwrap().result.unwrap().lines.len() >= 30);
    assert!(engine.is_loaded());
}

/// Copies documents and photos into one upload directory.
fn uploads(dir: &Path, documents: &[&str], photos: &[&str]) -> PathBuf {
    let uploads = dir.join("uploads");
    fs_err::create_dir_all(&uploads).unwrap();
    for name in documents {
        fs_err::copy(document(name), uploads.join(name)).unwrap();
    }
    for name in photos {
        fs_err::copy(sample(name), uploads.join(name)).unwrap();
    }
    uploads
}

/// The ingest events by file name.
fn ingest(work: &Path, uploads: &Path, env: &[(&str, &str)]) -> BTreeMap<String, Value> {
    let output = imgtag_in(
        work,
        &[
            "ingest",
            uploads.to_str().unwrap(),
            "--tenant",
            "acme",
            "--json",
        ],
        env,
    );
    succeeded(&output)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .map(|event| (event["filename"].as_str().unwrap().to_owned(), event))
        .collect()
}

/// Filenames of a `search --contains` answer.
fn contains(work: &Path, phrase: &str) -> BTreeSet<String> {
    contains_with(work, phrase, &["--include-id-papers"])
}

/// The files whose text contains `phrase`, with more search arguments.
fn contains_with(work: &Path, phrase: &str, extra: &[&str]) -> BTreeSet<String> {
    let mut args = vec![
        "search",
        "--tenant",
        "acme",
        "--contains",
        phrase,
        "--json",
        "--limit",
        "50",
    ];
    args.extend_from_slice(extra);
    let output = imgtag_in(work, &args, &[]);
    let answer: Value = serde_json::from_str(&succeeded(&output)).unwrap();
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["record"]["filename"].as_str().unwrap().to_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn records(work: &Path) -> BTreeMap<String, StoredImage> {
    let mut config = IndexConfig::default();
    config.edge.dir = work.join("index");
    async_runtime().block_on(async {
        let index = Index::open(&config).await.unwrap();
        let page = index
            .tenant(TenantId::new("acme").unwrap())
            .scroll(&ImageFilter::everything(), None, 100, true)
            .await
            .unwrap();
        page.images
            .into_iter()
            .map(|image| (image.record.filename.clone().unwrap(), image))
            .collect()
    })
}

#[test]
fn ingest_reads_documents_leaves_photos_and_finds_their_text() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let documents = [
        "invoice.png",
        "id_card.png",
        "licence_rotated.png",
        "receipt_photo.jpg",
        "chat_screenshot.png",
    ];
    let photos = ["coffee.png", "chelsea.png", "rocket.jpg"];
    let events = ingest(work, &uploads(work, &documents, &photos), &[]);
    assert_eq!(events.len(), documents.len() + photos.len());

    // Documents are read; the event carries the text and the line count.
    for name in documents {
        let ocr = &events[name]["ocr"];
        assert_eq!(ocr["read"], true, "{name}: {ocr}");
        assert!(ocr["line_count"].as_u64().unwrap() >= 10, "{name}: {ocr}");
        let tags: Vec<&str> = events[name]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"text") && tags.contains(&"cjk_text"),
            "{name}: {tags:?}"
        );
        assert!(!tags.contains(&"overexposed"), "{name}: {tags:?}");
    }
    let invoice = &events["invoice.png"]["ocr"];
    assert!(
        invoice["text"].as_str().unwrap().contains("发票号码"),
        "{invoice}"
    );
    // Photos without text pay for the probe only.
    for name in photos {
        let event = &events[name];
        assert_eq!(event["ocr"]["read"], false, "{name}: {event}");
        assert!(event["timings_ms"]["analyzer.ocr"].as_f64().unwrap() < 1000.0);
    }

    // The scan lying on its side is read upright; outlines stay in the
    // upright image's pixels.
    let records = records(work);
    let scan = records["licence_rotated.png"].record.ocr.clone().unwrap();
    assert_eq!(scan.rotation, 90);
    assert!(scan.text.starts_with("授权委托书"), "{}", scan.text);
    let (width, height) = (
        records["licence_rotated.png"].record.metadata.width as f32,
        records["licence_rotated.png"].record.metadata.height as f32,
    );
    for line in &scan.lines {
        for [x, y] in line.quad {
            assert!((0.0..=width).contains(&x) && (0.0..=height).contains(&y));
        }
    }
    // The clean scan is white by design: the image core says overexposed,
    // the stored flags do not.
    let invoice_record = &records["invoice.png"].record;
    assert!(
        !invoice_record
            .quality
            .flags
            .contains(&"overexposed".to_owned())
    );
    let inspected = succeeded(&imgtag_in(
        work,
        &[
            "inspect",
            document("invoice.png").to_str().unwrap(),
            "--json",
        ],
        &[],
    ));
    assert!(inspected.contains("\"overexposed\": true"), "{inspected}");

    // Search by the text in the image.
    let invoices = names(&["invoice.png"]);
    assert_eq!(contains(work, "发票号码"), invoices, "a Chinese phrase");
    assert_eq!(
        contains(work, "12345678"),
        names(&["invoice.png", "chat_screenshot.png"]),
        "the invoice number, on the invoice and in the chat about it"
    );
    assert!(
        contains(work, "1234567").is_empty(),
        "part of a number is no match"
    );
    assert_eq!(
        contains(work, "刘洋"),
        names(&["invoice.png", "licence_rotated.png"]),
        "a two-character name"
    );
    assert_eq!(contains(work, "李明华"), names(&["id_card.png"]));
    assert!(
        contains_with(work, "李明华", &[]).is_empty(),
        "ID papers are left out unless asked for"
    );
    assert_eq!(
        contains(work, "coca-cola 330ML"),
        names(&["receipt_photo.jpg"]),
        "words and numbers in order, case folded"
    );
    assert!(contains(work, "发票号码 12345678").contains("invoice.png"));
    assert!(
        contains(work, "号码发票").is_empty(),
        "characters out of order"
    );
    // Combined with words: only the documents, best first.
    let output = imgtag_in(
        work,
        &[
            "search",
            "--tenant",
            "acme",
            "--text",
            "a receipt",
            "--contains",
            "上海",
            "--json",
        ],
        &[],
    );
    let answer: Value = serde_json::from_str(&succeeded(&output)).unwrap();
    let hits: BTreeSet<String> = answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["record"]["filename"].as_str().unwrap().to_owned())
        .collect();
    assert!(!hits.is_empty() && hits.iter().all(|h| documents.contains(&h.as_str())));

    // The same through the HTTP API.
    let config = work.join("imgtag.toml");
    let key = serve_config(work, &config);
    let server = WorkerProcess::run(&config, &["serve"], &[]);
    let url = server.served_url(Duration::from_secs(180));
    let answer = http_get_json(
        &url,
        "/api/v1/search?contains=%E5%8F%91%E7%A5%A8%E5%8F%B7%E7%A0%81",
        &key,
    );
    let hits = answer["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{answer}");
    assert_eq!(hits[0]["record"]["filename"], "invoice.png");
    let id = hits[0]["record"]["image_id"].as_str().unwrap();
    let record = http_get_json(&url, &format!("/api/v1/images/{id}"), &key);
    assert!(
        record["ocr"]["lines"].as_array().unwrap().len() >= 50,
        "{record}"
    );
    assert_eq!(record["ocr"]["has_cjk"], true);
    let refused = http_get(&url, "/api/v1/search?contains=%E3%80%82", &key);
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    server.terminate();
    let (status, log) = server.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{log}");
}

#[test]
fn reprocessing_stale_images_adds_text_and_changes_nothing_else() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let uploads = uploads(work, &["invoice.png"], &["coffee.png"]);
    // Ingested before OCR existed (the analyzer off).
    let events = ingest(
        work,
        &uploads,
        &[("IMGTAG__ANALYZERS__OCR__ENABLED", "false")],
    );
    assert!(events.values().all(|e| e.get("ocr").is_none()));
    let before = records(work);
    assert!(contains(work, "发票号码").is_empty());

    let reprocessed = succeeded(&imgtag_in(
        work,
        &["reprocess", "--tenant", "acme", "--only-stale", "--json"],
        &[],
    ));
    let reprocessed: Value = serde_json::from_str(&reprocessed).unwrap();
    assert_eq!(reprocessed["done"], 2, "{reprocessed}");
    assert_eq!(reprocessed["failed"], 0, "{reprocessed}");
    let after = records(work);
    for (name, old) in &before {
        let new = &after[name];
        let (old_record, new_record) = (&old.record, &new.record);
        // Every other analyzer's output is exactly as it was.
        for analyzer in ["classifier", "nsfw", "semantic"] {
            assert_eq!(
                old_record.model_versions.get(analyzer),
                new_record.model_versions.get(analyzer),
                "{name}: {analyzer} version"
            );
        }
        let unchanged = |record: &imgtag_workers::index::ImageRecord| {
            record
                .tag_scores
                .iter()
                .filter(|(_, t)| !matches!(t.analyzer.as_str(), "ocr" | "quality" | "document"))
                .map(|(n, t)| (n.clone(), t.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(unchanged(old_record), unchanged(new_record), "{name}: tags");
        assert_eq!(old_record.nsfw, new_record.nsfw, "{name}: nsfw");
        assert_eq!(old.vectors, new.vectors, "{name}: vectors");
        assert_eq!(old_record.renditions, new_record.renditions, "{name}");
        assert_eq!(old_record.ingested_at, new_record.ingested_at, "{name}");
        // And the text is there now.
        assert!(new_record.model_versions.contains_key("ocr"), "{name}");
        assert!(new_record.ocr.is_some(), "{name}");
    }
    assert!(after["invoice.png"].record.ocr.as_ref().unwrap().read);
    assert!(!after["coffee.png"].record.ocr.as_ref().unwrap().read);
    // Reading the invoice also drops the exposure flag a white page got.
    assert!(
        before["invoice.png"]
            .record
            .quality
            .flags
            .contains(&"overexposed".to_owned())
    );
    assert!(
        !after["invoice.png"]
            .record
            .quality
            .flags
            .contains(&"overexposed".to_owned())
    );
    assert_eq!(contains(work, "发票号码"), names(&["invoice.png"]));
    let again = succeeded(&imgtag_in(
        work,
        &["reprocess", "--tenant", "acme", "--only-stale", "--json"],
        &[],
    ));
    assert!(again.contains("\"done\": 0"), "{again}");
}

#[test]
fn a_worker_puts_the_text_in_the_result_event() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("ocr", &[300], 2);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    let invoice = broker.uploads().join("invoice.png");
    fs_err::copy(document("invoice.png"), &invoice).unwrap();
    let receipt = broker.uploads().join("receipt.png");
    fs_err::copy(document("receipt.png"), &receipt).unwrap();
    let job = |id: &str, path: &Path, operations: Option<&[&str]>| {
        let mut job = serde_json::json!({
            "schema_version": 1,
            "job_id": id,
            "tenant_id": "acme",
            "filename": path.file_name().unwrap().to_string_lossy(),
            "source": {"kind": "file", "uri": format!("file://{}", path.display())},
        });
        if let Some(operations) = operations {
            job["operations"] = serde_json::json!(operations);
        }
        job.to_string().into_bytes()
    };
    runtime.block_on(broker.publish(&[
        job("ocr-invoice", &invoice, None),
        job("ocr-only", &receipt, Some(&["ocr"])),
    ]));
    let config = broker.write_config("");
    let worker = WorkerProcess::start(&config);
    let events = runtime.block_on(broker.events(2, Duration::from_secs(300)));
    assert_eq!(events.len(), 2, "{}", worker.log());
    let by_job: BTreeMap<&str, &Value> = events
        .iter()
        .map(|e| (e["job_id"].as_str().unwrap(), e))
        .collect();
    let invoice = by_job["ocr-invoice"];
    assert_eq!(invoice["event"], "processed", "{invoice}");
    assert_eq!(invoice["indexed"], true);
    assert_eq!(invoice["ocr"]["read"], true);
    assert!(
        invoice["ocr"]["line_count"].as_u64().unwrap() >= 50,
        "{invoice}"
    );
    let text = invoice["ocr"]["text"].as_str().unwrap();
    assert!(text.contains("发票号码") && text.len() <= 4096, "{text}");
    assert!(invoice["analyzers"]["ocr"].is_string(), "{invoice}");
    // Only the OCR analyzer: its text and tags, nothing stored, no other
    // analyzer's output.
    let only = by_job["ocr-only"];
    assert_eq!(only["event"], "processed", "{only}");
    assert_eq!(only["indexed"], false);
    assert!(
        only["ocr"]["text"].as_str().unwrap().contains("Coca-Cola"),
        "{only}"
    );
    assert!(
        only.get("nsfw").is_none() && only.get("renditions").is_none(),
        "{only}"
    );
    let analyzers: Vec<&String> = only["analyzers"].as_object().unwrap().keys().collect();
    assert_eq!(analyzers, ["ocr"], "{only}");
    assert!(
        only["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["source"] == "ocr"),
        "{only}"
    );
    worker.terminate();
    let (status, log) = worker.wait(Duration::from_secs(90));
    assert_eq!(status.code(), Some(0), "{log}");
    runtime.block_on(broker.cleanup());
}

#[test]
fn the_ocr_command_prints_the_text_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let not_an_image = dir.path().join("scan.png");
    fs_err::write(&not_an_image, b"not a PNG").unwrap();
    let output = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("ocr")
        .arg(document("receipt.png"))
        .arg(&not_an_image)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
    let receipt = &reports[0];
    assert!(
        receipt["text"]
            .as_str()
            .unwrap()
            .contains("Coca-Cola 330ml"),
        "{receipt}"
    );
    let line = &receipt["lines"][0];
    assert!(line["confidence"].as_f64().unwrap() > 0.5);
    assert_eq!(line["quad"].as_array().unwrap().len(), 4);
    assert_eq!(reports[1]["error"]["code"], "image.unsupported_format");

    let text = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("ocr")
        .arg(document("licence_rotated.png"))
        .output()
        .unwrap();
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("rotated by 90 degrees"), "{stdout}");
    assert!(stdout.contains("授权委托书"), "{stdout}");
}

/// Writes a config serving the test's index with a new key; returns it.
fn serve_config(work: &Path, config: &Path) -> String {
    let key: Value = serde_json::from_str(&succeeded(&imgtag_in(
        work,
        &["api-key", "--tenant", "acme", "--json"],
        &[],
    )))
    .unwrap();
    fs_err::write(
        config,
        format!(
            "[index.edge]\ndir = \"{}\"\n[store]\nurl = \"{}\"\n\
             [analyzers.semantic.conse]\ncache_dir = \"{}\"\n\
             [api]\nlisten = \"127.0.0.1:0\"\n[[api.keys]]\ntenant = \"acme\"\nsha256 = \"{}\"\n",
            work.join("index").display(),
            work.join("objects").display(),
            install_dir().join("cache").join("tests").display(),
            key["sha256"].as_str().unwrap()
        ),
    )
    .unwrap();
    key["key"].as_str().unwrap().to_owned()
}

/// A plain HTTP/1.1 GET with the key; the whole response.
fn http_get(url: &str, path: &str, key: &str) -> String {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8(response).unwrap()
}

fn http_get_json(url: &str, path: &str, key: &str) -> Value {
    let response = http_get(url, path, key);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}
