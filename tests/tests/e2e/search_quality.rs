//! Search quality on the bilingual query set (`tests/data/search_queries.toml`,
//! `docs/SEARCH_QUALITY.md`): every sample photo and every rendered document
//! is ingested (OCR on, as by default) into one tenant of a fresh embedded
//! index, each query runs through `imgtag search --text Q --limit 5 --json`,
//! and the top-5 hit rate must reach 0.90 for the Chinese and for the English
//! queries separately. Every hit must say why it was found (`why`: the
//! vector score, the OCR words matched, the tags matched).
//!
//! The run prints one row per query (the rank of the first correct hit or
//! FAIL, language, the branch the set expects to find it, the top 5 file
//! names, why the first correct hit was found), then per language the hit
//! rate, what a random ranking would score on this small set, and how many
//! queries have a correct image first: `cargo test -p imgtag-tests --test
//! e2e search_quality -- --nocapture`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use imgtag_tests::{imgtag_in, install_dir, repo_root, succeeded};
use serde_json::Value;

/// The query set, relative to the repository.
const QUERIES: &str = "tests/data/search_queries.toml";
/// The tenant everything is ingested into.
const TENANT: &str = "quality";
/// A query passes when a correct image is among this many hits.
const TOP: usize = 5;
/// The least top-5 hit rate, per language.
const MIN_HIT_RATE: f64 = 0.90;
/// The languages of the set, each held to `MIN_HIT_RATE` on its own.
const LANGUAGES: [&str; 2] = ["zh", "en"];
/// Branches a query's `why` may name.
const BRANCHES: [&str; 3] = ["vector", "text", "tag"];
/// Image files taken from the sample and document directories.
const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

/// One query of the set.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    text: String,
    lang: String,
    /// File names that count as correct.
    expect: Vec<String>,
    /// The branch expected to find it (documentation).
    #[serde(default)]
    why: Option<String>,
}

/// The query file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QuerySet {
    query: Vec<Query>,
}

/// Reads the query set; an unknown key, an empty field or an unknown
/// language or branch fails the test (a typo cannot drop a query silently).
fn read_queries() -> Vec<Query> {
    let path = repo_root().join(QUERIES);
    let source = fs_err::read_to_string(&path).unwrap();
    let set: QuerySet = toml::from_str(&source).unwrap_or_else(|e| panic!("{QUERIES}: {e}"));
    for (n, query) in set.query.iter().enumerate() {
        let place = format!("{QUERIES}: query {} ({:?})", n + 1, query.text);
        assert!(!query.text.trim().is_empty(), "{place}: empty text");
        assert!(!query.expect.is_empty(), "{place}: `expect` names no file");
        assert!(
            LANGUAGES.contains(&query.lang.as_str()),
            "{place}: lang must be one of {LANGUAGES:?}"
        );
        assert!(
            query.why.as_deref().is_none_or(|w| BRANCHES.contains(&w)),
            "{place}: why must be one of {BRANCHES:?}"
        );
    }
    set.query
}

fn imgtag(work: &Path, args: &[&str]) -> Output {
    imgtag_in(work, args, &[])
}

/// The image files of an install directory (`samples`, `documents`).
fn images_in(dir: &str) -> Vec<PathBuf> {
    let dir = install_dir().join(dir);
    assert!(
        dir.is_dir(),
        "{} is missing: run scripts/setup",
        dir.display()
    );
    let mut files: Vec<PathBuf> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    files
}

/// Copies every sample photo and document into one upload directory and
/// ingests it; returns the ingested file names.
fn ingest_everything(work: &Path) -> BTreeSet<String> {
    let uploads = work.join("uploads");
    fs_err::create_dir_all(&uploads).unwrap();
    let mut names = BTreeSet::new();
    for path in images_in("samples")
        .into_iter()
        .chain(images_in("documents"))
    {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(names.insert(name.clone()), "two images named {name}");
        fs_err::copy(&path, uploads.join(&name)).unwrap();
    }
    let output = imgtag(
        work,
        &[
            "ingest",
            uploads.to_str().unwrap(),
            "--tenant",
            TENANT,
            "--json",
        ],
    );
    let mut ingested = BTreeSet::new();
    for line in succeeded(&output).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let name = event["filename"].as_str().unwrap().to_owned();
        assert_ne!(event["event"], "failed", "{name}: {event}");
        assert_eq!(event["indexed"], true, "{name}: {event}");
        // Searches leave sensitive images out; the set assumes none is.
        assert_ne!(event["nsfw"]["flagged"], true, "{name} flagged sensitive");
        ingested.insert(name);
    }
    assert_eq!(ingested, names, "every image is ingested once");
    ingested
}

/// What one query returned.
struct Outcome {
    /// Rank (1-based) of the first correct hit in the top `TOP`.
    rank: Option<usize>,
    /// File names of the hits, best first.
    top: Vec<String>,
    /// `why` of the first correct hit, for people.
    found_by: String,
    /// Hits that do not say why they were found.
    unexplained: Vec<String>,
}

fn run_query(work: &Path, query: &Query) -> Outcome {
    let limit = TOP.to_string();
    let output = imgtag(
        work,
        &[
            "search",
            "--tenant",
            TENANT,
            "--text",
            &query.text,
            "--limit",
            &limit,
            "--json",
        ],
    );
    let answer: Value = serde_json::from_str(&succeeded(&output)).unwrap();
    let hits = answer["hits"].as_array().unwrap();
    let top: Vec<String> = hits
        .iter()
        .map(|hit| hit["record"]["filename"].as_str().unwrap_or("-").to_owned())
        .collect();
    let found = hits
        .iter()
        .zip(&top)
        .take(TOP)
        .position(|(_, name)| query.expect.contains(name));
    let unexplained = hits
        .iter()
        .zip(&top)
        .filter(|(hit, _)| !explained(&hit["why"]))
        .map(|(hit, name)| format!("{name}: why = {}", hit["why"]))
        .collect();
    Outcome {
        rank: found.map(|at| at + 1),
        found_by: found.map_or_else(String::new, |at| why_summary(&hits[at]["why"])),
        top,
        unexplained,
    }
}

/// The chance that a random ranking of `images` puts at least one of
/// `correct` of them in the top `TOP`.
fn chance_in_top(images: usize, correct: usize) -> f64 {
    // 1 - C(images - correct, TOP) / C(images, TOP)
    let miss: f64 = (0..TOP.min(images))
        .map(|i| images.saturating_sub(correct + i) as f64 / (images - i) as f64)
        .product();
    1.0 - miss
}

/// Whether a hit's `why` names at least one reason: a vector score, OCR
/// words matched or tags matched.
fn explained(why: &Value) -> bool {
    let non_empty = |key: &str| why[key].as_array().is_some_and(|a| !a.is_empty());
    why.is_object() && (why["vector"].is_number() || non_empty("text") || non_empty("tags"))
}

/// `why` in a few words: `vector 0.412 text [发票号码, 发票] tags [cat]`.
fn why_summary(why: &Value) -> String {
    if !why.is_object() {
        return "why: -".into();
    }
    let list = |key: &str| {
        why[key].as_array().map_or_else(String::new, |items| {
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let mut parts = Vec::new();
    if let Some(score) = why["vector"].as_f64() {
        parts.push(format!("vector {score:.3}"));
    }
    for key in ["text", "tags"] {
        let items = list(key);
        if !items.is_empty() {
            parts.push(format!("{key} [{items}]"));
        }
    }
    format!("why: {}", parts.join(" "))
}

/// `s` padded to `width` terminal columns (CJK and full-width characters
/// take two).
fn pad(s: &str, width: usize) -> String {
    let columns: usize = s
        .chars()
        .map(|c| 1 + usize::from(('\u{2E80}'..='\u{FFEF}').contains(&c)))
        .sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(columns)))
}

#[test]
fn bilingual_queries_find_the_right_images_in_the_top_5() {
    let queries = read_queries();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();

    let started = Instant::now();
    let ingested = ingest_everything(work);
    let ingest_time = started.elapsed();
    for query in &queries {
        let missing: Vec<&String> = query
            .expect
            .iter()
            .filter(|name| !ingested.contains(*name))
            .collect();
        assert!(
            missing.is_empty(),
            "{QUERIES}: query {:?}: {missing:?} are not among the ingested images {ingested:?} \
             (run scripts/setup, or fix the name)",
            query.text
        );
    }

    let started = Instant::now();
    let outcomes: Vec<Outcome> = queries.iter().map(|q| run_query(work, q)).collect();
    let query_time = started.elapsed();

    println!(
        "search quality: {} queries over {} images (ingest {:.1} s, queries {:.1} s)",
        queries.len(),
        ingested.len(),
        ingest_time.as_secs_f64(),
        query_time.as_secs_f64()
    );
    println!(
        "{:<4}  {:<4}  {:<6}  {}  top {TOP}",
        "hit",
        "lang",
        "branch",
        pad("query", 42)
    );
    for (query, outcome) in queries.iter().zip(&outcomes) {
        println!(
            "{:<4}  {:<4}  {:<6}  {}  {}{}",
            outcome
                .rank
                .map_or_else(|| "FAIL".into(), |r| format!("@{r}")),
            query.lang,
            query.why.as_deref().unwrap_or("-"),
            pad(&query.text, 42),
            outcome.top.join(", "),
            if outcome.rank.is_some() {
                format!("  ({})", outcome.found_by)
            } else {
                format!("  (expected {})", query.expect.join(" | "))
            }
        );
    }

    let mut problems = Vec::new();
    for lang in LANGUAGES {
        let results: Vec<(&Query, Option<usize>)> = queries
            .iter()
            .zip(&outcomes)
            .filter(|(q, _)| q.lang == lang)
            .map(|(q, o)| (q, o.rank))
            .collect();
        assert!(!results.is_empty(), "no {lang} queries in {QUERIES}");
        let count = results.len() as f64;
        let passed = results.iter().filter(|(_, r)| r.is_some()).count();
        let first = results.iter().filter(|(_, r)| *r == Some(1)).count();
        let rate = passed as f64 / count;
        // What a ranking by chance would score on this set, for scale.
        let chance: f64 = results
            .iter()
            .map(|(q, _)| chance_in_top(ingested.len(), q.expect.len()))
            .sum::<f64>()
            / count;
        println!(
            "{lang}: {passed}/{} in the top {TOP} = {rate:.2} (needs {MIN_HIT_RATE:.2}; \
             a random ranking: {chance:.2}), first: {first}/{}",
            results.len(),
            results.len()
        );
        if rate < MIN_HIT_RATE {
            problems.push(format!(
                "{lang}: top-{TOP} hit rate {rate:.2} < {MIN_HIT_RATE:.2}"
            ));
        }
    }
    let unexplained: Vec<String> = queries
        .iter()
        .zip(&outcomes)
        .flat_map(|(q, o)| {
            o.unexplained
                .iter()
                .map(move |u| format!("{}: {u}", q.text))
        })
        .collect();
    let hits: usize = outcomes.iter().map(|o| o.top.len()).sum();
    println!(
        "hits with a `why` naming a reason: {}/{hits}",
        hits - unexplained.len()
    );
    if !unexplained.is_empty() {
        problems.push(format!(
            "{} of {hits} hits do not say why they were found, e.g. {}",
            unexplained.len(),
            unexplained[..unexplained.len().min(3)].join("; ")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
