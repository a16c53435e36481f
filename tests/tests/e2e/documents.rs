//! Documents and people end to end, through the binary on the real models,
//! the engine and the real RabbitMQ: the ID papers, licences, invoices,
//! receipts and screenshots `scripts/make_id_documents.py` renders (with
//! their truth, `truth.json`) are ingested; then
//! - every document has its type and every key field its value and
//!   validity (read whole from the index);
//! - result events and `imgtag search` show personal fields masked;
//! - `imgtag expiring` lists the right documents for a set day;
//! - `imgtag reminders` publishes each due reminder once, across runs and
//!   days, with deterministic event ids;
//! - through the HTTP API, personal fields are masked unless the key may
//!   see them, and ID papers are left out of searches unless asked for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock};
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_tests::{imgtag_bin, install_dir, repo_root};
use imgtag_workers::index::{Index, IndexConfig, TenantId};
use serde_json::Value;

const TENANT: &str = "docs";
const TODAY: &str = "2026-12-07";
const WAIT: Duration = Duration::from_secs(60);

fn documents_dir() -> PathBuf {
    let dir = install_dir().join("id_documents");
    assert!(
        dir.join("truth.json").is_file(),
        "{} is missing: run scripts/setup",
        dir.display()
    );
    dir
}

fn truth() -> BTreeMap<String, Value> {
    let text = fs_err::read_to_string(documents_dir().join("truth.json")).unwrap();
    let truth: Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(truth["documents"].clone()).unwrap()
}

fn imgtag(config: &Path, args: &[&str]) -> Output {
    Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("IMGTAG_CONFIG")
        .env_remove("IMGTAG_API_KEY")
        .output()
        .unwrap()
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout_of(output)).unwrap()
}

/// (name, value, valid) of every field, sorted.
fn field_set(fields: &Value) -> Vec<(String, String, Option<bool>)> {
    let mut set: Vec<(String, String, Option<bool>)> = fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["value"].as_str().unwrap().to_owned(),
                f["valid"].as_bool(),
            )
        })
        .collect();
    set.sort();
    set
}

/// Every truth field missing or different in the stored fields.
fn missing_fields(truth: &Value, stored: &Value) -> Vec<String> {
    let stored = field_set(stored);
    truth["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|want| {
            let name = want["name"].as_str().unwrap();
            let value = want["value"].as_str().unwrap();
            let valid = want["valid"].as_bool().unwrap();
            !stored
                .iter()
                .any(|(n, v, ok)| n == name && v == value && ok.unwrap_or(true) == valid)
        })
        .map(|want| {
            format!(
                "{}={} (valid {})",
                want["name"], want["value"], want["valid"]
            )
        })
        .collect()
}

#[test]
fn documents_types_fields_masking_expiry_and_reminders() {
    let _shared = broker_lock().read().unwrap_or_else(|e| e.into_inner());
    let broker = TestBroker::new("documents", &[200], 3);
    async_runtime().block_on(broker.declare());
    let config = broker.write_config(&format!("[reminders]\ntoday = \"{TODAY}\"\n"));
    let truth = truth();

    // Ingest every rendered document.
    let files: Vec<String> = truth
        .keys()
        .map(|file| documents_dir().join(file).display().to_string())
        .collect();
    let mut args = vec!["ingest", "--tenant", TENANT, "--customer", "c1", "--json"];
    args.extend(files.iter().map(String::as_str));
    let ingest = stdout_of(&imgtag(&config, &args));
    let events: BTreeMap<String, Value> = ingest
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .map(|event| {
            (
                event["filename"].as_str().unwrap_or_default().to_owned(),
                event,
            )
        })
        .collect();
    assert_eq!(events.len(), truth.len(), "{ingest}");

    // Types and fields, whole, from the index.
    let records = stored_documents(&broker);
    let mut failures = Vec::new();
    for (file, want) in &truth {
        let Some(record) = records.get(file) else {
            failures.push(format!("{file}: not stored"));
            continue;
        };
        let document = &record["document"];
        if document["type"] != want["type"] {
            failures.push(format!(
                "{file}: type {} (want {}), evidence {}",
                document["type"], want["type"], document["evidence"]
            ));
        }
        let missing = missing_fields(want, &document["fields"]);
        if !missing.is_empty() {
            failures.push(format!(
                "{file}: fields {missing:?} not read; read {:?}",
                field_set(&document["fields"])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Events carry the type and the fields, personal ones masked.
    let id_event = &events["id_front_valid.png"];
    assert_eq!(id_event["document"]["type"], "id_card");
    let id_number = field(&id_event["document"], "id_number");
    assert_eq!(id_number["value"], "110105********002X");
    assert!(!id_event.to_string().contains("11010519491231002X"));
    assert!(!id_event.to_string().contains("王秀英"));
    let invoice_event = &events["vat_invoice.png"];
    assert_eq!(
        field(&invoice_event["document"], "invoice_number")["value"],
        "12345678"
    );

    check_search_and_expiring(&config);
    check_reminders(&broker, &config);
    check_api(&broker, &config);
    async_runtime().block_on(broker.cleanup());
}

fn field<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {document}"))
}

/// Each stored record (as JSON) by filename.
fn stored_documents(broker: &TestBroker) -> BTreeMap<String, Value> {
    async_runtime().block_on(async {
        let mut config = IndexConfig::default();
        config.edge.dir = broker.index_dir();
        let index = Index::open(&config).await.unwrap();
        let scope = index.tenant(TenantId::new(TENANT).unwrap());
        let page = scope
            .scroll(
                &imgtag_workers::index::ImageFilter::everything(),
                None,
                100,
                false,
            )
            .await
            .unwrap();
        page.images
            .into_iter()
            .map(|image| {
                let record = serde_json::to_value(&image.record).unwrap();
                (image.record.filename.clone().unwrap_or_default(), record)
            })
            .collect()
    })
}

fn check_search_and_expiring(config: &Path) {
    // ID papers are left out of searches unless asked for.
    let search = |extra: &[&str]| {
        let mut args = vec!["search", "--tenant", TENANT, "--json", "--limit", "50"];
        args.extend_from_slice(extra);
        json_of(&imgtag(config, &args))
    };
    let files = |output: &Value| -> Vec<String> {
        let mut files: Vec<String> = output["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["record"]["filename"].as_str().unwrap().to_owned())
            .collect();
        files.sort();
        files
    };
    let passports = search(&["--document-type", "passport"]);
    assert!(files(&passports).is_empty(), "{passports}");
    let passports = search(&["--document-type", "passport", "--include-id-papers"]);
    assert_eq!(
        files(&passports),
        [
            "passport.png",
            "passport_future.png",
            "passport_later.png",
            "passport_photo.jpg"
        ]
    );
    let text = passports.to_string();
    assert!(!text.contains("L898902C3"), "document numbers are masked");
    let whole = search(&[
        "--document-type",
        "passport",
        "--include-id-papers",
        "--show-personal",
    ]);
    assert!(whole.to_string().contains("L898902C3"));
    let invoices = search(&["--document-type", "invoice"]);
    assert_eq!(files(&invoices).len(), 4, "{invoices}");

    // Expiring within 30 and 90 days of the set day, and the expired ones.
    let expiring = |within: &str, expired: bool| -> Vec<(String, i64)> {
        let mut args = vec![
            "expiring", "--tenant", TENANT, "--within", within, "--today", TODAY, "--json",
        ];
        if expired {
            args.push("--include-expired");
        }
        json_of(&imgtag(config, &args))["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["filename"].as_str().unwrap().to_owned(),
                    d["days_left"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(expiring("30d", false), [("passport_future.png".into(), 20)]);
    assert_eq!(
        expiring("90d", false),
        [
            ("passport_future.png".into(), 20),
            ("passport_later.png".into(), 70)
        ]
    );
    let with_expired = expiring("90d", true);
    assert_eq!(with_expired.len(), 4, "{with_expired:?}");
    assert!(with_expired[..2].iter().all(|(_, days)| *days < -5000));
}

fn check_reminders(broker: &TestBroker, config: &Path) {
    let sweep = |today: &str| -> Value {
        json_of(&imgtag(
            config,
            &["reminders", "--tenant", TENANT, "--today", today, "--json"],
        ))
    };
    // Drain the ingest's result events first.
    let runtime = async_runtime();
    runtime.block_on(broker.events(usize::MAX, Duration::from_secs(2)));

    let first = sweep(TODAY);
    let sent = |report: &Value| -> Vec<(String, String)> {
        let mut sent: Vec<(String, String)> = report["sent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["filename"].as_str().unwrap().to_owned(),
                    e["threshold"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        sent.sort();
        sent
    };
    assert_eq!(
        sent(&first),
        [
            ("passport.png".into(), "expired".into()),
            ("passport_future.png".into(), "30d".into()),
            ("passport_later.png".into(), "90d".into()),
            ("passport_photo.jpg".into(), "expired".into()),
        ]
    );
    // Again the same day, and after a restart: nothing more.
    assert!(sent(&sweep(TODAY)).is_empty());
    // Two weeks on: the 7-day reminder of the one expiring on 12-27.
    assert_eq!(
        sent(&sweep("2026-12-21")),
        [("passport_future.png".into(), "7d".into())]
    );
    assert_eq!(
        sent(&sweep("2026-12-28")),
        [("passport_future.png".into(), "expired".into())]
    );
    // On the broker: each once, with the routing keys and unique ids.
    let events = runtime.block_on(broker.events(6, WAIT));
    assert_eq!(events.len(), 6, "{events:?}");
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    let expired = events
        .iter()
        .filter(|e| e["event"] == "document.expired")
        .count();
    assert_eq!(expired, 3);
    let first_ids: Vec<&Value> = first["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["event_id"])
        .collect();
    assert!(
        first_ids
            .iter()
            .all(|id| events.iter().any(|e| &&e["event_id"] == id))
    );
    assert!(!events.iter().any(|e| e.to_string().contains("L898902C3")));
    assert!(
        runtime
            .block_on(broker.events(1, Duration::from_secs(2)))
            .is_empty()
    );
}

fn check_api(broker: &TestBroker, config: &Path) {
    let key = |personal: bool| -> (String, String) {
        let key = json_of(&imgtag(
            config,
            &["api-key", "--tenant", TENANT, "--name", "tests", "--json"],
        ));
        let lines = format!(
            "[[api.keys]]\ntenant = \"{TENANT}\"\nsha256 = \"{}\"\npersonal_data = {personal}\n",
            key["sha256"].as_str().unwrap()
        );
        (key["key"].as_str().unwrap().to_owned(), lines)
    };
    let (masked_key, masked_lines) = key(false);
    let (whole_key, whole_lines) = key(true);
    let serve_config = broker.write_config(&format!(
        "[reminders]\ntoday = \"{TODAY}\"\n[api]\nlisten = \"127.0.0.1:0\"\n{masked_lines}{whole_lines}"
    ));
    let server = WorkerProcess::run(&serve_config, &["serve"], &[]);
    let url = server.served_url(WAIT);
    async_runtime().block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let get = |key: &str, path: &str| {
            let request = client.get(format!("{url}{path}")).bearer_auth(key).send();
            let path = path.to_owned();
            async move {
                let response = request.await.unwrap();
                assert!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
                response.json::<Value>().await.unwrap()
            }
        };
        let search = "/api/v1/search?document_type=id_card&include_id_papers=true&limit=50";
        for (key, whole) in [(&masked_key, false), (&whole_key, true)] {
            let answer = get(key, search).await;
            let text = answer.to_string();
            assert_eq!(text.contains("11010519491231002X"), whole, "{text}");
            assert_eq!(text.contains("王秀英"), whole);
            if !whole {
                assert!(text.contains("110105********002X"), "{text}");
            }
        }
        let hidden = get(&masked_key, "/api/v1/search?document_type=id_card").await;
        assert_eq!(hidden["hits"].as_array().unwrap().len(), 0, "{hidden}");
        let expiring = get(
            &masked_key,
            &format!("/api/v1/documents/expiring?within=90d&today={TODAY}"),
        )
        .await;
        assert_eq!(
            expiring["documents"].as_array().unwrap().len(),
            2,
            "{expiring}"
        );
        assert!(!expiring.to_string().contains("L898902C3"));
        let stats = get(&masked_key, "/api/v1/stats").await;
        assert_eq!(stats["id_papers"], 11, "{stats}");
    });
    server.terminate();
}
