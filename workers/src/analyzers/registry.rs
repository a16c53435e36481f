//! The macro behind the analyzer list in [`super`]: from one line per
//! analyzer (`field: Variant => Type`) it generates the closed set of ids,
//! the `[analyzers]` config section, the typed [`super::Analysis`], the
//! runtime enum [`super::Analyzer`] with its dispatch, and typed accessors
//! on [`super::Analyzers`]. Nothing is looked up by string at run time.

/// Generates everything listed in the module docs; see `analyzers/mod.rs`
/// for its one invocation.
macro_rules! register_analyzers {
    ($( $field:ident : $variant:ident => $stage:ty ),+ $(,)?) => {
        /// Every analyzer, in the order they run.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum AnalyzerId {
            $(
                #[doc = concat!("The `", stringify!($field), "` analyzer.")]
                $variant,
            )+
        }

        impl AnalyzerId {
            /// Every analyzer, in run order.
            pub const ALL: &'static [AnalyzerId] = &[$(AnalyzerId::$variant),+];

            /// Its stable name (config section, job operation, stored
            /// version key).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AnalyzerId::$variant => stringify!($field),)+
                }
            }

            /// Analyzers it cannot work without.
            pub fn requires(self) -> &'static [AnalyzerId] {
                match self {
                    $(AnalyzerId::$variant => <$stage as Stage>::REQUIRES,)+
                }
            }

            /// Analyzers whose output it uses when present.
            pub fn reads(self) -> &'static [AnalyzerId] {
                match self {
                    $(AnalyzerId::$variant => <$stage as Stage>::READS,)+
                }
            }
        }

        /// `[analyzers]`: one section per analyzer.
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct AnalyzersConfig {
            $(
                #[doc = concat!("`[analyzers.", stringify!($field), "]`.")]
                pub $field: <$stage as Stage>::Config,
            )+
        }

        impl AnalyzersConfig {
            /// Whether `id` is switched on.
            pub fn enabled(&self, id: AnalyzerId) -> bool {
                match id {
                    $(AnalyzerId::$variant => self.$field.enabled(),)+
                }
            }

            /// The same configuration with only `ids` switched on (those
            /// that were on).
            pub fn only(&self, ids: &[AnalyzerId]) -> Self {
                let mut config = self.clone();
                $(
                    if !ids.contains(&AnalyzerId::$variant) {
                        config.$field.set_enabled(false);
                    }
                )+
                config
            }

            fn validate_sections(&self) -> Result<(), String> {
                $(
                    self.$field
                        .validate()
                        .map_err(|e| format!("{}.{e}", stringify!($field)))?;
                )+
                Ok(())
            }
        }

        /// Everything the analyzers said about one image, typed: one
        /// optional output per analyzer (absent when it did not run).
        #[derive(Debug, Clone, Default)]
        pub struct Analysis {
            $(
                #[doc = concat!("What the `", stringify!($field), "` analyzer produced.")]
                pub $field: Option<<$stage as Stage>::Output>,
            )+
            /// Milliseconds each analyzer took.
            pub timings_ms: std::collections::BTreeMap<AnalyzerId, f64>,
        }

        impl Analysis {
            /// Whether `id` produced an output.
            pub fn has(&self, id: AnalyzerId) -> bool {
                match id {
                    $(AnalyzerId::$variant => self.$field.is_some(),)+
                }
            }

            /// Every tag, with the analyzer that produced it, in run order.
            pub fn tags(&self) -> Vec<(AnalyzerId, imgtag_models::Tag)> {
                let mut tags = Vec::new();
                $(
                    if let Some(output) = &self.$field {
                        tags.extend(
                            <$stage as Stage>::tags(output)
                                .into_iter()
                                .map(|tag| (AnalyzerId::$variant, tag)),
                        );
                    }
                )+
                tags
            }
        }

        /// One built analyzer: the closed set of stages (boxed: their
        /// sizes differ widely).
        #[derive(Debug)]
        pub enum Analyzer {
            $(
                #[doc = concat!("The `", stringify!($field), "` analyzer.")]
                $variant(Box<$stage>),
            )+
        }

        impl Analyzer {
            /// Builds `id` from its section.
            fn build(
                id: AnalyzerId,
                config: &AnalyzersConfig,
                context: &BuildContext<'_>,
            ) -> Result<Self, AppError> {
                Ok(match id {
                    $(AnalyzerId::$variant => {
                        Analyzer::$variant(Box::new(<$stage as Stage>::build(&config.$field, context)?))
                    })+
                })
            }

            /// Its id.
            pub fn id(&self) -> AnalyzerId {
                match self {
                    $(Analyzer::$variant(_) => AnalyzerId::$variant,)+
                }
            }

            /// Its version (see [`Stage::version`]).
            pub fn version(&self) -> String {
                match self {
                    $(Analyzer::$variant(stage) => stage.version(),)+
                }
            }

            /// The models behind its outputs.
            pub fn models(&self) -> Vec<imgtag_models::ModelRef> {
                match self {
                    $(Analyzer::$variant(stage) => stage.models(),)+
                }
            }

            /// Runs it and stores its output in `analysis`.
            fn run_into(
                &self,
                input: &AnalysisInput<'_>,
                analysis: &mut Analysis,
            ) -> Result<(), AppError> {
                match self {
                    $(Analyzer::$variant(stage) => {
                        let output = stage.run(input, analysis)?;
                        analysis.$field = Some(output);
                    })+
                }
                Ok(())
            }
        }

        impl Analyzers {
            $(
                #[doc = concat!("The `", stringify!($field), "` analyzer, when enabled.")]
                pub fn $field(&self) -> Option<&$stage> {
                    self.list.iter().find_map(|analyzer| match analyzer {
                        Analyzer::$variant(stage) => Some(&**stage),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    })
                }
            )+
        }
    };
}

pub(crate) use register_analyzers;
