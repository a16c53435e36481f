//! End to end on real OCR: the lines imgtag's OCR read from the project's
//! rendered test documents (`scripts/make_id_documents.py`: ID cards,
//! passports, a business licence, a VAT invoice, a till receipt, a chat
//! screenshot; clean renders, rotated, skewed and photographed variants),
//! with their truth, in `tests/data/id_documents_ocr.json`.
//!
//! Every document must get its type, and every field of the truth must be
//! read with its value (and unit), and nothing else under that field's
//! name. A truth `valid: true` on a field without a check is met by
//! `valid: None`; `valid: false` must be reported as failing.

use std::collections::BTreeMap;
use std::error::Error;

use imgtag_documents::{DocumentEvidence, DocumentReader, DocumentReading, EvidenceLine, Field};
use serde::Deserialize;

/// The recorded OCR, compiled in (no I/O to fail at run time).
const SAMPLES: &str = include_str!("data/id_documents_ocr.json");

#[derive(Deserialize)]
struct Samples {
    documents: BTreeMap<String, Sample>,
}

#[derive(Deserialize)]
struct Sample {
    size: (u32, u32),
    #[serde(rename = "type")]
    doc_type: String,
    #[serde(default)]
    fields: Vec<TruthField>,
    lines: Vec<EvidenceLine>,
}

#[derive(Deserialize)]
struct TruthField {
    name: String,
    value: String,
    valid: bool,
    #[serde(default)]
    unit: Option<String>,
}

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn samples() -> Result<BTreeMap<String, Sample>> {
    let samples: Samples = serde_json::from_str(SAMPLES)?;
    Ok(samples.documents)
}

fn read(sample: &Sample) -> Result<DocumentReading> {
    Ok(DocumentReader::new(&[])?.read(&DocumentEvidence {
        lines: sample.lines.clone(),
        size: sample.size,
        classes: vec![],
        camera_exif: false,
        faces: vec![],
        text_dominant: true,
    }))
}

/// What is wrong with the reading of `sample`, one line per problem.
fn problems(sample: &Sample, reading: &DocumentReading) -> Vec<String> {
    let mut out = Vec::new();
    if reading.doc_type.as_str() != sample.doc_type {
        out.push(format!(
            "type {} (want {})",
            reading.doc_type.as_str(),
            sample.doc_type
        ));
    }
    for truth in &sample.fields {
        let read: Vec<&Field> = reading
            .fields
            .iter()
            .filter(|f| f.name.as_str() == truth.name)
            .collect();
        let matches = |f: &&Field| {
            f.value == truth.value
                && (truth.unit.is_none() || f.unit == truth.unit)
                && if truth.valid {
                    f.valid != Some(false)
                } else {
                    f.valid == Some(false)
                }
        };
        let shown: Vec<String> = read
            .iter()
            .map(|f| format!("{:?} unit {:?} valid {:?}", f.value, f.unit, f.valid))
            .collect();
        if read.is_empty() || !read.iter().all(matches) {
            out.push(format!(
                "{}: read [{}] (want {:?} unit {:?} valid {})",
                truth.name,
                shown.join(", "),
                truth.value,
                truth.unit,
                truth.valid
            ));
        }
    }
    out
}

#[test]
fn every_document_reads_as_its_truth() -> Result<()> {
    let samples = samples()?;
    assert_eq!(samples.len(), 19, "the recorded documents");
    let mut failed = Vec::new();
    for (file, sample) in &samples {
        let reading = read(sample)?;
        let problems = problems(sample, &reading);
        if !problems.is_empty() {
            failed.push(format!("{file}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} documents misread:\n{}",
        failed.len(),
        samples.len(),
        failed.join("\n")
    );
    Ok(())
}

/// An invoice names its parties as buyer and seller, never as a company.
#[test]
fn invoices_name_buyer_and_seller_only() -> Result<()> {
    for (file, sample) in samples()? {
        if sample.doc_type != "invoice" {
            continue;
        }
        let reading = read(&sample)?;
        let company: Vec<&str> = reading
            .fields
            .iter()
            .filter(|f| f.name.as_str() == "company_name")
            .map(|f| f.value.as_str())
            .collect();
        assert!(company.is_empty(), "{file}: company_name {company:?}");
    }
    Ok(())
}
