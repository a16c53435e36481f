//! Sentence vectors from a BERT-style encoder (manifest key `text`:
//! all-MiniLM-L6-v2).
//!
//! Tokenisation is Hugging Face's `tokenizers` with the model's own
//! `tokenizer.json` (BERT uncased WordPiece); truncation to the manifest's
//! `max_tokens` counts `[CLS]` and `[SEP]`. The sentence vector is the
//! attention-masked mean of `last_hidden_state`, L2-normalised. Requests are
//! batched ([`crate::batcher`]); a batch is padded to its longest sequence.

use std::sync::{Mutex, OnceLock, PoisonError};

use ndarray::{Array2, Axis};
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
/// Graph output with the token states.
const HIDDEN: &str = "last_hidden_state";
/// Longest text accepted, in bytes: far beyond what `max_tokens` keeps, and
/// small enough that tokenising it is cheap.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// A text encoder: the tokenizer at once, the model's session on first use
/// (or [`TextEncoder::preload`]). `imgtag ingest` and the worker never
/// embed text once the ConSE label vectors are cached, and a loaded MiniLM
/// session holds about 120 MiB.
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
    /// Vocabulary ids, `[CLS]` first and `[SEP]` last.
    pub ids: Vec<i64>,
    /// Segment ids (all 0 for one sentence).
    pub type_ids: Vec<i64>,
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
            output_width(entry, HIDDEN).ok_or_else(|| invalid("no fixed-size hidden state"))?;
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

    /// Length of the sentence vectors (384).
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
        Ok(Tokens {
            ids: encoding.get_ids().iter().map(|&id| i64::from(id)).collect(),
            type_ids: encoding
                .get_type_ids()
                .iter()
                .map(|&id| i64::from(id))
                .collect(),
        })
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

/// One batched run of the text encoder graph.
#[derive(Debug)]
pub struct TextRun {
    dimensions: usize,
}

impl BatchModel for TextRun {
    type Item = Tokens;
    type Output = Vec<f32>;
    type Session = Session;

    fn run(&self, session: &mut Session, items: &[Tokens]) -> Result<Vec<Vec<f32>>, ModelError> {
        let failed = |e: ort::Error| inference_error(MODEL_KEY, e);
        let longest = items.iter().map(|t| t.ids.len()).max().unwrap_or(0).max(1);
        let mut ids = Array2::<i64>::zeros((items.len(), longest));
        let mut mask = Array2::<i64>::zeros((items.len(), longest));
        let mut types = Array2::<i64>::zeros((items.len(), longest));
        for (row, tokens) in items.iter().enumerate() {
            for (column, (&id, &kind)) in tokens.ids.iter().zip(&tokens.type_ids).enumerate() {
                ids[(row, column)] = id;
                mask[(row, column)] = 1;
                types[(row, column)] = kind;
            }
        }
        let outputs = session
            .run(ort::inputs![
                "input_ids" => TensorRef::from_array_view(ids.view()).map_err(failed)?,
                "attention_mask" => TensorRef::from_array_view(mask.view()).map_err(failed)?,
                "token_type_ids" => TensorRef::from_array_view(types.view()).map_err(failed)?,
            ])
            .map_err(failed)?;
        let hidden = outputs[HIDDEN].try_extract_array::<f32>().map_err(failed)?;
        if hidden.shape() != [items.len(), longest, self.dimensions] {
            return Err(inference_error(
                MODEL_KEY,
                format!("unexpected output shape {:?}", hidden.shape()),
            ));
        }
        Ok(hidden
            .axis_iter(Axis(0))
            .zip(items)
            .map(|(states, tokens)| {
                // Attention-masked mean: only the text's own tokens count.
                let count = tokens.ids.len().max(1);
                let mut sum = vec![0.0_f32; self.dimensions];
                for token in states.axis_iter(Axis(0)).take(count) {
                    for (total, value) in sum.iter_mut().zip(token.iter()) {
                        *total += value;
                    }
                }
                l2_normalised(sum.into_iter().map(|x| x / count as f32))
            })
            .collect())
    }
}
