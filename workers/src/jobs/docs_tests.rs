//! Keeps `docs/JOBS.md`, `docs/job.schema.json` and
//! `docs/result-event.schema.json` in step with the code: every example job
//! parses with [`Job::parse`], the example event deserialises into
//! [`ResultEvent`], and the schemas name exactly the fields the code has.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::events::{EVENT_SCHEMA, ResultEvent};
use crate::jobs::{Job, JobSource, Operation};

const JOBS_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/JOBS.md");
const JOB_SCHEMA_JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/job.schema.json");
const EVENT_SCHEMA_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../docs/result-event.schema.json"
);

/// The bodies of the fenced blocks whose opening line is exactly
/// "```" followed by `info`.
fn fenced_blocks(markdown: &str, info: &str) -> Vec<String> {
    let opening = format!("```{info}");
    let mut blocks = Vec::new();
    let mut inside = false;
    let mut lines: Vec<&str> = Vec::new();
    for line in markdown.lines() {
        if !inside {
            if line.trim_end() == opening {
                inside = true;
                lines.clear();
            }
        } else if line.trim_start().starts_with("```") {
            blocks.push(lines.join("\n"));
            inside = false;
        } else {
            lines.push(line);
        }
    }
    assert!(!inside, "docs/JOBS.md: a {opening} block is never closed");
    blocks
}

fn jobs_md() -> String {
    fs_err::read_to_string(JOBS_MD).unwrap()
}

fn read_json(path: &str) -> Value {
    let text = fs_err::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn object_keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected a JSON object, got {value}"))
        .keys()
        .cloned()
        .collect()
}

fn string_set(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a JSON array, got {value}"))
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_example_job_in_the_docs_is_valid() {
    let markdown = jobs_md();
    let examples = fenced_blocks(&markdown, "json job");
    assert!(
        examples.len() >= 3,
        "docs/JOBS.md has {} ```json job blocks, expected at least 3",
        examples.len()
    );
    let mut kinds = BTreeSet::new();
    for (number, body) in examples.iter().enumerate() {
        let job = Job::parse(body.as_bytes()).unwrap_or_else(|e| {
            panic!(
                "example job {} in docs/JOBS.md is refused with {}: {e}\n{body}",
                number + 1,
                e.code()
            )
        });
        kinds.insert(match job.source {
            JobSource::File { .. } => "file",
            JobSource::Object { .. } => "object",
            JobSource::Inline { .. } => "inline",
            JobSource::Stored { .. } => "stored",
        });
    }
    for kind in ["file", "object", "inline"] {
        assert!(
            kinds.contains(kind),
            "no example job in docs/JOBS.md has a {kind} source"
        );
    }
}

#[test]
fn the_example_event_in_the_docs_deserialises() {
    let markdown = jobs_md();
    let examples = fenced_blocks(&markdown, "json event");
    assert!(
        !examples.is_empty(),
        "docs/JOBS.md has no ```json event block"
    );
    for body in &examples {
        let event: ResultEvent = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("example event in docs/JOBS.md: {e}\n{body}"));
        assert_eq!(event.schema, EVENT_SCHEMA);
    }
}

#[test]
fn the_job_schema_names_the_contract_fields() {
    let schema = read_json(JOB_SCHEMA_JSON);
    assert_eq!(
        object_keys(&schema["properties"]),
        set(&[
            "schema_version",
            "job_id",
            "tenant_id",
            "customer_id",
            "project_id",
            "filename",
            "labels",
            "source",
            "operations",
            "vocabulary",
        ])
    );
    assert_eq!(
        string_set(&schema["required"]),
        set(&["schema_version", "job_id", "tenant_id", "source"])
    );
    assert_eq!(schema["additionalProperties"], Value::Bool(false));

    let kinds: BTreeSet<String> = schema["properties"]["source"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| {
            variant["properties"]["kind"]["const"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, set(&["file", "object", "inline", "stored"]));

    let operations: Vec<&str> = Operation::NAMES
        .into_iter()
        .map(Operation::as_str)
        .collect();
    assert_eq!(
        string_set(&schema["properties"]["operations"]["items"]["enum"]),
        set(&operations)
    );
}

#[test]
fn the_event_schema_names_the_event_fields() {
    let schema = read_json(EVENT_SCHEMA_JSON);
    let properties = object_keys(&schema["properties"]);
    // A failed event of an unreadable message carries exactly the fields
    // that are always present, plus `error`.
    let failed = ResultEvent::failed(None, "job.malformed", "not JSON", false, 1);
    let failed: Value = serde_json::from_slice(&failed.to_body()).unwrap();
    let mut always = object_keys(&failed);
    assert!(always.remove("error"));
    assert_eq!(string_set(&schema["required"]), always);
    assert!(always.is_subset(&properties));
    let markdown = jobs_md();
    for body in fenced_blocks(&markdown, "json event") {
        let example: Value = serde_json::from_str(&body).unwrap();
        let unknown: Vec<String> = object_keys(&example)
            .difference(&properties)
            .cloned()
            .collect();
        assert!(
            unknown.is_empty(),
            "fields missing from the event schema: {unknown:?}"
        );
    }
}
