//! Sentence vectors in one space for 16 languages, Chinese and English
//! among them (manifest key `text`: Universal Sentence Encoder Multilingual
//! v3, int8).
//!
//! Tokenisation is Hugging Face's `tokenizers` with a `tokenizer.json` that
//! set-up writes from the SentencePiece model inside the original graph
//! (`scripts/convert_use_multilingual.py`): nmt_nfkc normalisation, Unigram,
//! `<s> ... </s>`; truncation to the manifest's `max_tokens` counts both.
//! The graph takes the tokens as a ragged batch (`token_ids` int32 and
//! `row_splits` int64) and returns the sentence vectors, already pooled and
//! L2-normalised (normalised again here against rounding).
//!
//! One text per run: the graph is dynamically int8-quantised, so a text's
//! vector would depend slightly on the texts it is batched with (cosine down
//! to 0.9956 for the query set run as one batch), and a query must get the
//! same vector every time. Requests still go
//! through the [`crate::batcher`] (a pool of sessions, bounded queue); each
//! batch runs its texts one by one.

use std::sync::{Mutex, OnceLock, PoisonError};

use ndarray::Array1;
use ort::session::Session;
use ort::value::TensorRef;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::batcher::{BatchModel, Batcher};
use crate::error::ModelError;
use crate::manifest::{ModelEntry, Preprocess};
use crate::runtime::Runtime;
use crate::session::{self, PoolConfig, inference_error, manifest_error, output_width};
use crate::store::ModelStore;
use crate::vector::l2_normalised;

/// Manifest key of the text encoder.
pub const MODEL_KEY: &str = "text";
/// Graph input: every text's token ids, concatenated.
const TOKEN_IDS: &str = "token_ids";
/// Graph input: text i is `token_ids[row_splits[i]..row_splits[i + 1]]`.
const ROW_SPLITS: &str = "row_splits";
/// Graph output: one sentence vector per text.
const OUTPUT: &str = "outputs";
/// Longest text accepted, in bytes: far beyond what `max_tokens` keeps, and
/// small enough that tokenising it is cheap.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// A text encoder: the tokenizer at once, the model's session on first use
/// (or [`TextEncoder::preload`]). `imgtag ingest` and the worker never
/// embed text once the ConSE label vectors are cached, and a loaded session
/// holds about 100 MiB.
#[derive(Debug)]
pub struct TextEncoder {
    batcher: OnceLock<Batcher<TextRun>>,
    loading: Mutex<()>,
    store: ModelStore,
    runtime: Runtime,
    pool: PoolConfig,
    tokenizer: Tokenizer,
    entry: ModelEntry,
    dimensions: usize,
}

/// Token ids of one text, ready for the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// SentencePiece ids, `<s>` (1) first and `</s>` (2) last.
    pub ids: Vec<i32>,
}

impl TextEncoder {
    /// Loads the tokenizer (sha256-checked); the model is loaded (and
    /// checked) on first use.
    pub fn load(
        store: &ModelStore,
        runtime: &Runtime,
        pool: &PoolConfig,
    ) -> Result<Self, ModelError> {
        let entry = store.manifest().model(MODEL_KEY)?;
        let invalid = |message: &str| manifest_error(MODEL_KEY, message);
        let Preprocess::Text(spec) = &entry.preprocess else {
            return Err(invalid("needs text preprocessing"));
        };
        let dimensions =
            output_width(entry, OUTPUT).ok_or_else(|| invalid("no fixed-size output"))?;
        let (path, bytes) = store.read_asset(&spec.tokenizer)?;
        let tokenizer_error = |message: String| ModelError::Asset {
            path: path.clone(),
            message,
        };
        let mut tokenizer =
            Tokenizer::from_bytes(&bytes).map_err(|e| tokenizer_error(e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: spec.max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                direction: TruncationDirection::Right,
                stride: 0,
            }))
            .map_err(|e| tokenizer_error(e.to_string()))?;
        tokenizer.with_padding(None);
        pool.validate().map_err(|message| ModelError::Session {
            model: MODEL_KEY.into(),
            message,
        })?;
        Ok(Self {
            batcher: OnceLock::new(),
            loading: Mutex::new(()),
            store: store.clone(),
            runtime: runtime.clone(),
            pool: *pool,
            tokenizer,
            entry: entry.clone(),
            dimensions,
        })
    }

    /// Loads the model now (sha256-checked), so that the first text is not
    /// slower than the others and a bad model file is reported at start.
    pub fn preload(&self) -> Result<(), ModelError> {
        self.batcher().map(|_| ())
    }

    /// Whether the model's session is loaded.
    pub fn is_loaded(&self) -> bool {
        self.batcher.get().is_some()
    }

    /// The manifest entry (model id and version for provenance).
    pub fn model(&self) -> &ModelEntry {
        &self.entry
    }

    /// Length of the sentence vectors (512).
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The batcher (for its counters), loading the model on first use.
    pub fn batcher(&self) -> Result<&Batcher<TextRun>, ModelError> {
        if let Some(batcher) = self.batcher.get() {
            return Ok(batcher);
        }
        // One loader at a time; the others find it loaded.
        let _loading = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(batcher) = self.batcher.get() {
            return Ok(batcher);
        }
        let loaded = session::load(&self.store, &self.runtime, MODEL_KEY, &self.pool)?;
        let run = TextRun {
            dimensions: self.dimensions,
        };
        let batcher = Batcher::start(run, loaded, &self.pool)?;
        tracing::debug!(model = MODEL_KEY, "text encoder loaded on first use");
        Ok(self.batcher.get_or_init(|| batcher))
    }

    /// Tokenises `text` (truncated to the model's limit).
    pub fn tokenize(&self, text: &str) -> Result<Tokens, ModelError> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(ModelError::InvalidInput {
                model: MODEL_KEY.into(),
                message: format!(
                    "the text is {} bytes; at most {MAX_TEXT_BYTES} are accepted",
                    text.len()
                ),
            });
        }
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::InvalidInput {
                model: MODEL_KEY.into(),
                message: format!("cannot tokenise the text: {e}"),
            })?;
        let ids = encoding
            .get_ids()
            .iter()
            .map(|&id| i32::try_from(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ModelError::InvalidInput {
                model: MODEL_KEY.into(),
                message: "a token id does not fit the model's int32 input".into(),
            })?;
        Ok(Tokens { ids })
    }

    /// The sentence vector of `text` (blocking; not for async tasks).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        self.batcher()?.run(self.tokenize(text)?)
    }

    /// The sentence vector of `text`, from async code.
    pub async fn embed_async(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        let tokens = self.tokenize(text)?;
        self.batcher()?.run_async(tokens).await
    }

    /// Sentence vectors of many texts (they share batches), in order.
    pub fn embed_all<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, ModelError> {
        let tokens = texts
            .iter()
            .map(|text| self.tokenize(text.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        self.batcher()?.run_all(tokens)
    }
}

/// One batch of the text encoder graph, run a text at a time.
#[derive(Debug)]
pub struct TextRun {
    dimensions: usize,
}

impl TextRun {
    /// The sentence vector of one text.
    fn run_one(&self, session: &mut Session, tokens: &Tokens) -> Result<Vec<f32>, ModelError> {
        let failed = |e: ort::Error| inference_error(MODEL_KEY, e);
        let ids = Array1::from(tokens.ids.clone());
        let splits = Array1::from(vec![0_i64, tokens.ids.len() as i64]);
        let outputs = session
            .run(ort::inputs![
                TOKEN_IDS => TensorRef::from_array_view(ids.view()).map_err(failed)?,
                ROW_SPLITS => TensorRef::from_array_view(splits.view()).map_err(failed)?,
            ])
            .map_err(failed)?;
        let vectors = outputs[OUTPUT].try_extract_array::<f32>().map_err(failed)?;
        if vectors.shape() != [1, self.dimensions] {
            return Err(inference_error(
                MODEL_KEY,
                format!("unexpected output shape {:?}", vectors.shape()),
            ));
        }
        Ok(l2_normalised(vectors.iter().copied()))
    }
}

impl BatchModel for TextRun {
    type Item = Tokens;
    type Output = Vec<f32>;
    type Session = Session;

    fn run(&self, session: &mut Session, items: &[Tokens]) -> Result<Vec<Vec<f32>>, ModelError> {
        items
            .iter()
            .map(|tokens| self.run_one(session, tokens))
            .collect()
    }
}
