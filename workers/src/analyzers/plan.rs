//! Which analyzers run for one image, and whose outputs are written.
//!
//! - A new image: the analyzers the job asks for are written; the enabled
//!   analyzers they read run first.
//! - A stored image (reprocessing): the analyzers asked for are rewritten,
//!   and so is every enabled analyzer that reads one of them (its stored
//!   output was computed from the old input); the rest of the stored
//!   record stays as it is. What the rewritten ones read runs too, but its
//!   output is only an input.

use std::collections::BTreeSet;

use super::AnalyzerId;

/// A set of analyzers.
pub type AnalyzerSet = BTreeSet<AnalyzerId>;

/// What runs and what is written, for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    run: AnalyzerSet,
    write: AnalyzerSet,
}

impl Plan {
    /// The plan for a new image: `wanted` (within `enabled`) is written.
    pub fn new(wanted: &AnalyzerSet, enabled: &AnalyzerSet) -> Self {
        let write: AnalyzerSet = wanted.intersection(enabled).copied().collect();
        Self::with_inputs(write, enabled)
    }

    /// The plan for re-running `wanted` on a stored image: they and every
    /// enabled analyzer downstream of them are rewritten.
    pub fn rewrite(wanted: &AnalyzerSet, enabled: &AnalyzerSet) -> Self {
        let mut write: AnalyzerSet = wanted.intersection(enabled).copied().collect();
        loop {
            let downstream: Vec<AnalyzerId> = enabled
                .iter()
                .copied()
                .filter(|id| !write.contains(id))
                .filter(|id| {
                    id.reads()
                        .iter()
                        .chain(id.requires())
                        .any(|input| write.contains(input))
                })
                .collect();
            if downstream.is_empty() {
                break;
            }
            write.extend(downstream);
        }
        Self::with_inputs(write, enabled)
    }

    fn with_inputs(write: AnalyzerSet, enabled: &AnalyzerSet) -> Self {
        let mut run = write.clone();
        let mut pending: Vec<AnalyzerId> = run.iter().copied().collect();
        while let Some(id) = pending.pop() {
            for &input in id.requires().iter().chain(id.reads()) {
                if enabled.contains(&input) && run.insert(input) {
                    pending.push(input);
                }
            }
        }
        Self { run, write }
    }

    /// Whether `id` runs.
    pub fn runs(&self, id: AnalyzerId) -> bool {
        self.run.contains(&id)
    }

    /// Whether `id`'s output is written.
    pub fn writes(&self, id: AnalyzerId) -> bool {
        self.write.contains(&id)
    }

    /// The analyzers whose outputs are written.
    pub fn written(&self) -> &AnalyzerSet {
        &self.write
    }

    /// Whether nothing runs.
    pub fn is_empty(&self) -> bool {
        self.run.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[AnalyzerId]) -> AnalyzerSet {
        ids.iter().copied().collect()
    }

    fn all() -> AnalyzerSet {
        set(AnalyzerId::ALL)
    }

    #[test]
    fn a_new_image_runs_what_is_asked_and_its_inputs() {
        let plan = Plan::new(&set(&[AnalyzerId::Semantic]), &all());
        assert!(plan.runs(AnalyzerId::Classifier), "semantic needs it");
        assert!(plan.writes(AnalyzerId::Semantic));
        assert!(!plan.writes(AnalyzerId::Classifier));
        assert!(!plan.runs(AnalyzerId::Ocr));
        assert!(!plan.runs(AnalyzerId::Nsfw));
    }

    #[test]
    fn rewriting_ocr_rewrites_what_reads_it_and_nothing_else() {
        let plan = Plan::rewrite(&set(&[AnalyzerId::Ocr]), &all());
        assert_eq!(
            plan.written(),
            &set(&[AnalyzerId::Ocr, AnalyzerId::Quality, AnalyzerId::Document]),
            "quality and the document reader read the OCR output"
        );
        assert!(
            plan.runs(AnalyzerId::Faces),
            "the document reader reads faces"
        );
        assert!(!plan.writes(AnalyzerId::Faces));
        assert!(!plan.runs(AnalyzerId::Nsfw));
        assert!(!plan.writes(AnalyzerId::Classifier));
    }

    #[test]
    fn rewriting_the_classifier_rewrites_the_semantic_vector() {
        let plan = Plan::rewrite(&set(&[AnalyzerId::Classifier]), &all());
        assert!(plan.writes(AnalyzerId::Semantic));
        assert!(!plan.writes(AnalyzerId::Nsfw));
    }

    #[test]
    fn disabled_analyzers_never_run() {
        let enabled = set(&[AnalyzerId::Classifier, AnalyzerId::Quality]);
        let plan = Plan::new(&all(), &enabled);
        assert!(!plan.runs(AnalyzerId::Ocr));
        assert!(plan.writes(AnalyzerId::Quality));
        assert!(Plan::new(&set(&[]), &enabled).is_empty());
    }
}
