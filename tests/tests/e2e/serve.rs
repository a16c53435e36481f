//! `imgtag serve` through the binary: `--worker` consumes the real
//! RabbitMQ queue while serving the API from the same embedded index; a
//! local `imgtag search` on the held index says where the server is, and
//! `search`/`stats --server URL` get the answers from it; the key comes
//! from `imgtag api-key`; SIGTERM stops both and removes the URL file.
//! Then the page in headless Chromium (Debian's, driven by playwright-core:
//! `tests/browser/search.mjs`, installed by `scripts/browser-tools`), once
//! in Simplified Chinese and once in English: words, an example image, a tag
//! by its Chinese name, the text in the images, the document view and the
//! language switch.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use imgtag_tests::broker::{TestBroker, WorkerProcess, broker_lock};
use imgtag_tests::index_fixtures::async_runtime;
use imgtag_tests::{SAMPLES, document, imgtag_bin, install_dir, repo_root, sample};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(180);
/// Printed on the rendered invoice only (its number's label), so a
/// `contains` search for it finds the invoice and nothing else.
const INVOICE_PHRASE: &str = "发票号码";
/// The languages the page speaks, as the browser test's `--lang` (its
/// browser locale), with the suffix of that run's screenshots.
const BROWSER_LANGUAGES: [(&str, &str); 2] = [("zh-CN", ".zh-CN"), ("en", "")];

fn imgtag(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(imgtag_bin())
        .current_dir(repo_root())
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("IMGTAG_CONFIG")
        .env_remove("IMGTAG_API_KEY")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A new key for `tenant` from `imgtag api-key`: (key, config lines).
fn new_key(config: &Path, tenant: &str) -> (String, String) {
    let key = json_of(&imgtag(
        config,
        &["api-key", "--tenant", tenant, "--name", "tests", "--json"],
        &[],
    ));
    let lines = format!(
        "[[api.keys]]\ntenant = \"{tenant}\"\nsha256 = \"{}\"\n",
        key["sha256"].as_str().unwrap()
    );
    (key["key"].as_str().unwrap().to_owned(), lines)
}

/// The URL the server logs once it listens.
fn served_url(server: &WorkerProcess) -> String {
    server.served_url(WAIT)
}

/// A PNG the browser test saved, at least `min` pixels each way.
fn assert_screenshot(path: &Path, min: (u32, u32)) {
    let png = fs_err::read(path).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", path.display());
    let shot = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
    assert!(
        shot.width() >= min.0 && shot.height() >= min.1,
        "{} is {}x{}",
        path.display(),
        shot.width(),
        shot.height()
    );
}

fn first_filename(output: &Value) -> &str {
    output["hits"][0]["record"]["filename"].as_str().unwrap()
}

#[test]
fn serve_with_worker_answers_the_cli_while_it_holds_the_index() {
    let _shared = broker_lock().read().unwrap();
    let broker = TestBroker::new("serve", &[300], 3);
    let runtime = async_runtime();
    runtime.block_on(broker.declare());
    for name in SAMPLES {
        fs_err::copy(sample(name), broker.uploads().join(name)).unwrap();
    }
    // No key configured: refused at start, with what to do.
    let keyless = broker.write_config("");
    let refused = imgtag(&keyless, &["serve"], &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("imgtag api-key"));
    let (key, key_lines) = new_key(&keyless, "acme");
    // (write_config rewrites the same file.)
    let config = broker.write_config(&format!("[api]\nlisten = \"127.0.0.1:0\"\n{key_lines}"));

    let server = WorkerProcess::run(&config, &["serve", "--worker"], &[]);
    let url = served_url(&server);
    let published = imgtag(
        &config,
        &[
            "publish",
            broker.uploads().to_str().unwrap(),
            "--tenant",
            "acme",
        ],
        &[],
    );
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    let events = runtime.block_on(broker.events(SAMPLES.len(), WAIT));
    assert_eq!(events.len(), SAMPLES.len(), "{}", server.log());

    // Readiness reports the queue consumer of `--worker`.
    let ready: Value = runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::get(format!("{url}/readyz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["consumer"]["state"], "consuming", "{ready}");
    assert!(ready["consumer"]["since"].is_string(), "{ready}");

    // The index is held: a local search says so, and where to go instead.
    let local = imgtag(
        &config,
        &["search", "--tenant", "acme", "--text", "coffee"],
        &[],
    );
    assert_eq!(local.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&local.stderr);
    assert!(stderr.contains("index.locked"), "{stderr}");
    assert!(stderr.contains(&format!("--server {url}")), "{stderr}");

    let with_key = [("IMGTAG_API_KEY", key.as_str())];
    let text = json_of(&imgtag(
        &config,
        &["search", "--server", &url, "--text", "coffee", "--json"],
        &with_key,
    ));
    assert_eq!(first_filename(&text), "coffee.png");
    let cat = sample("chelsea.png");
    let similar = json_of(&imgtag(
        &config,
        &[
            "search",
            "--server",
            &url,
            "--image",
            cat.to_str().unwrap(),
            "--tag",
            "cat",
            "--json",
        ],
        &with_key,
    ));
    assert_eq!(first_filename(&similar), "chelsea.png");
    let coffee_id = text["hits"][0]["record"]["image_id"].as_str().unwrap();
    let like = json_of(&imgtag(
        &config,
        &["search", "--server", &url, "--like", coffee_id, "--json"],
        &with_key,
    ));
    assert_eq!(like["hits"].as_array().unwrap().len(), SAMPLES.len() - 1);
    let table = imgtag(
        &config,
        &["search", "--server", &url, "--text", "coffee"],
        &with_key,
    );
    assert!(String::from_utf8_lossy(&table.stdout).contains("coffee.png"));
    let stats = json_of(&imgtag(
        &config,
        &["stats", "--server", &url, "--json"],
        &with_key,
    ));
    assert_eq!(stats["tenant_id"], "acme");
    assert_eq!(stats["total"], SAMPLES.len());

    // A wrong key, no key, an unreachable server: clear errors, exit 2.
    let wrong = imgtag(
        &config,
        &["stats", "--server", &url],
        &[("IMGTAG_API_KEY", "imgtag_wrong")],
    );
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("api.unauthorized"),
        "{stderr}"
    );
    let keyless = imgtag(&config, &["stats", "--server", &url], &[]);
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("IMGTAG_API_KEY"));
    let nowhere = imgtag(
        &config,
        &["stats", "--server", "http://127.0.0.1:9"],
        &with_key,
    );
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("api.unreachable"));

    // SIGTERM stops server and consumer; the URL file goes with them.
    let server_file = broker.index_dir().join("imgtag.server");
    assert!(server_file.is_file());
    server.terminate();
    let (status, log) = server.wait(Duration::from_secs(90));
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(!server_file.exists());
    let local = imgtag(
        &config,
        &["search", "--tenant", "acme", "--text", "coffee", "--json"],
        &[],
    );
    assert_eq!(first_filename(&json_of(&local)), "coffee.png");
    runtime.block_on(broker.cleanup());
}

/// The page in Chromium, in Chinese and in English: "coffee" by words, the
/// cat by example and by its tag's Chinese name, and the invoice by the
/// text printed on it; its document view outlines the lines read over the
/// preview and lets the text be selected and copied; the language switch
/// re-says everything in place.
#[test]
fn the_page_finds_coffee_by_words_and_the_cat_by_example_in_chromium() {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success())
            && Path::new("/usr/bin/chromium").is_file()
            && repo_root()
                .join("tests/browser/node_modules/playwright-core")
                .is_dir(),
        "the browser test needs node, /usr/bin/chromium and playwright-core: run scripts/browser-tools"
    );
    let invoice = document("invoice.png");
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("imgtag.toml");
    let base = format!(
        "[index.edge]\ndir = \"{}\"\n[store]\nurl = \"{}\"\n[analyzers.semantic.conse]\ncache_dir = \"{}\"\n",
        work.path().join("index").display(),
        work.path().join("objects").display(),
        install_dir().join("cache").join("tests").display(),
    );
    fs_err::write(&config, &base).unwrap();
    let samples = install_dir().join("samples");
    let ingested = imgtag(
        &config,
        &[
            "ingest",
            samples.to_str().unwrap(),
            invoice.to_str().unwrap(),
            "--tenant",
            "demo",
        ],
        &[],
    );
    assert!(
        ingested.status.success(),
        "{}",
        String::from_utf8_lossy(&ingested.stderr)
    );
    let (key, key_lines) = new_key(&config, "demo");
    fs_err::write(
        &config,
        format!("{base}[api]\nlisten = \"127.0.0.1:0\"\n{key_lines}"),
    )
    .unwrap();
    let server = WorkerProcess::run(&config, &["serve"], &[]);
    let url = served_url(&server);

    let artefacts = repo_root().join("tests").join("artefacts");
    fs_err::create_dir_all(&artefacts).unwrap();
    // The page once per language it speaks, the browser's locale set to it
    // (so the page starts in it); the English run's screenshots are the
    // ones docs/ shows. Both run before either is judged.
    let runs: Vec<_> = BROWSER_LANGUAGES
        .iter()
        .map(|&(lang, suffix)| {
            let screenshot = artefacts.join(format!("search-page{suffix}.png"));
            let document_shot = artefacts.join(format!("document-view{suffix}.png"));
            for old in [&screenshot, &document_shot] {
                let _ = fs_err::remove_file(old);
            }
            let driver = Command::new("node")
                .current_dir(repo_root())
                .arg("tests/browser/search.mjs")
                .args(["--lang", lang])
                .args(["--url", &url, "--key", &key])
                .arg("--cat")
                .arg(sample("chelsea.png"))
                .arg("--screenshot")
                .arg(&screenshot)
                .arg("--document")
                .arg(&invoice)
                .args(["--phrase", INVOICE_PHRASE])
                .arg("--document-screenshot")
                .arg(&document_shot)
                .output()
                .unwrap();
            (lang, driver, screenshot, document_shot)
        })
        .collect();
    let failed: Vec<String> = runs
        .iter()
        .filter(|(_, driver, ..)| !driver.status.success())
        .map(|(lang, driver, ..)| {
            format!(
                "--- {lang}: {}\n{}\n{}",
                driver.status,
                String::from_utf8_lossy(&driver.stdout),
                String::from_utf8_lossy(&driver.stderr)
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "the page failed in {} of {} languages:\n{}\nserver log:\n{}",
        failed.len(),
        runs.len(),
        failed.join("\n"),
        server.log()
    );
    for (lang, driver, screenshot, document_shot) in &runs {
        let stdout = String::from_utf8_lossy(&driver.stdout);
        // One line per step (shown with --nocapture).
        eprint!("--- {lang}\n{stdout}");
        let summary: Value = stdout
            .lines()
            .rev()
            .find_map(|line| serde_json::from_str(line).ok())
            .expect("a JSON summary line");
        assert_eq!(summary["ok"], true, "{lang}");
        assert_eq!(summary["lang"], *lang, "{stdout}");
        assert_eq!(summary["first_text_hit"], "coffee.png", "{lang}");
        assert_eq!(summary["first_similar_hit"], "chelsea.png", "{lang}");
        // The invoice by its text, alone also when words narrow the search.
        assert_eq!(summary["first_contains_hit"], "invoice.png", "{stdout}");
        assert_eq!(
            summary["both_hits"],
            serde_json::json!(["invoice.png"]),
            "{stdout}"
        );
        // Its document view: the lines read, outlined (the invoice has over
        // 100 text items; 10 is a floor any working reader clears).
        let outlined = summary["outlined_lines"].as_u64().unwrap();
        let lines = summary["text_lines"].as_u64().unwrap();
        assert!((10..=lines).contains(&outlined), "{stdout}");
        assert!(summary["copied_chars"].as_u64().unwrap() > 0, "{stdout}");
        // Every message in both languages (the page checked its tables).
        let keys = &summary["i18n_keys"];
        assert!(
            keys["en"].as_u64().unwrap() > 0 && keys["en"] == keys["zh-CN"],
            "{stdout}"
        );
        assert_screenshot(screenshot, (800, 600));
        assert_screenshot(document_shot, (1280, 900));
        eprintln!(
            "screenshots ({lang}): {}, {}",
            screenshot.display(),
            document_shot.display()
        );
    }
    server.terminate();
    let (status, log) = server.wait(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{log}");
}
