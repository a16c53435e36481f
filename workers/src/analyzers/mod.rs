//! Image analysis as a list of named analyzers.
//!
//! An analyzer is a config section (`[analyzers.<id>]`, validated at
//! start) that builds a runtime value with an id and a version
//! ([`Stage`]). Per image, each enabled analyzer the job asks for runs in
//! list order, reads the image and the typed outputs of the analyzers
//! before it, and adds its own output to the image's [`Analysis`].
//!
//! The list below is the whole registry: adding an analyzer is one module
//! implementing [`Stage`] plus one line here. The ids, the config section,
//! the typed [`Analysis`] fields, the [`Analyzer`] enum and its dispatch
//! are generated from it ([`registry`]); nothing is looked up by name.
//!
//! Every stored image records each analyzer's version. When versions
//! change, [`Analyzers::stale`] names the analyzers to re-run, and
//! [`Plan`] works out what must run (their inputs) and whose outputs are
//! rewritten (they and the analyzers that read them); everything else of
//! the stored record is kept as it is.

pub mod classifier;
pub mod document;
pub mod faces;
pub mod nsfw;
pub mod ocr;
pub mod plan;
pub mod quality;
mod registry;
pub mod semantic;
pub mod stage;

use std::collections::BTreeMap;
use std::time::Instant;

pub use plan::{AnalyzerSet, Plan};
pub use stage::{AnalysisInput, BuildContext, Stage, StageConfig};

use crate::error::AppError;
use registry::register_analyzers;

register_analyzers! {
    classifier: Classifier => classifier::ClassifierAnalyzer,
    nsfw: Nsfw => nsfw::NsfwAnalyzer,
    semantic: Semantic => semantic::SemanticAnalyzer,
    ocr: Ocr => ocr::OcrAnalyzer,
    quality: Quality => quality::QualityAnalyzer,
    faces: Faces => faces::FacesAnalyzer,
    document: Document => document::DocumentAnalyzer,
}

impl AnalyzersConfig {
    /// Checks every section, and that what an enabled analyzer requires is
    /// enabled too.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_sections()?;
        for &id in AnalyzerId::ALL {
            if !self.enabled(id) {
                continue;
            }
            for &needed in id.requires() {
                if !self.enabled(needed) {
                    return Err(format!(
                        "{}.enabled: the {} analyzer needs the {} analyzer (enable it too)",
                        id.as_str(),
                        id.as_str(),
                        needed.as_str()
                    ));
                }
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for AnalyzerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AnalyzerId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AnalyzerId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str() == text)
            .ok_or_else(|| {
                let known: Vec<&str> = AnalyzerId::ALL.iter().map(|id| id.as_str()).collect();
                format!("unknown analyzer {text:?} (known: {})", known.join(", "))
            })
    }
}

/// The enabled analyzers, built, in run order.
#[derive(Debug)]
pub struct Analyzers {
    list: Vec<Analyzer>,
    versions: BTreeMap<AnalyzerId, String>,
}

impl Analyzers {
    /// Builds every enabled analyzer (loading its models), in list order.
    pub fn build(
        config: &AnalyzersConfig,
        runtime: &imgtag_models::Runtime,
        models: &imgtag_models::ModelStore,
    ) -> Result<Self, AppError> {
        config
            .validate()
            .map_err(|e| AppError::Config(format!("analyzers.{e}")))?;
        let mut analyzers = Self {
            list: Vec::new(),
            versions: BTreeMap::new(),
        };
        for &id in AnalyzerId::ALL {
            if !config.enabled(id) {
                continue;
            }
            let analyzer = {
                let context = BuildContext {
                    runtime,
                    models,
                    built: &analyzers,
                };
                Analyzer::build(id, config, &context)?
            };
            analyzers.versions.insert(id, analyzer.version());
            analyzers.list.push(analyzer);
        }
        Ok(analyzers)
    }

    /// The enabled analyzers.
    pub fn enabled(&self) -> AnalyzerSet {
        self.list.iter().map(Analyzer::id).collect()
    }

    /// Version of every enabled analyzer, as stored with each image.
    pub fn versions(&self) -> &BTreeMap<AnalyzerId, String> {
        &self.versions
    }

    /// Versions keyed by analyzer name (the stored form).
    pub fn version_map(&self) -> BTreeMap<String, String> {
        self.versions
            .iter()
            .map(|(id, version)| (id.as_str().to_owned(), version.clone()))
            .collect()
    }

    /// `id@version` of every model and rule set behind the outputs.
    pub fn models(&self) -> Vec<imgtag_models::ModelRef> {
        let mut models: Vec<imgtag_models::ModelRef> =
            self.list.iter().flat_map(Analyzer::models).collect();
        models.dedup();
        models
    }

    /// The enabled analyzers whose stored version (`stored`, by name)
    /// differs from the running one, or is missing.
    pub fn stale(&self, stored: &BTreeMap<String, String>) -> AnalyzerSet {
        self.versions
            .iter()
            .filter(|(id, version)| stored.get(id.as_str()) != Some(*version))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The plan for writing `wanted` (limited to what is enabled).
    pub fn plan(&self, wanted: &AnalyzerSet) -> Plan {
        Plan::new(wanted, &self.enabled())
    }

    /// Runs the plan's analyzers on one image, in list order. Blocking.
    pub fn run(&self, input: &AnalysisInput<'_>, plan: &Plan) -> Result<Analysis, AppError> {
        let mut analysis = Analysis::default();
        for analyzer in &self.list {
            let id = analyzer.id();
            if !plan.runs(id) {
                continue;
            }
            let started = Instant::now();
            let _span = tracing::debug_span!("analyzer", analyzer = id.as_str()).entered();
            analyzer.run_into(input, &mut analysis)?;
            let elapsed = (started.elapsed().as_secs_f64() * 1e5).round() / 1e2;
            analysis.timings_ms.insert(id, elapsed);
        }
        Ok(analysis)
    }
}
