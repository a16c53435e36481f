//! Text-to-image search without a joint text-image model.
//!
//! [`SemanticSpace`] is what callers use: one vector space in which both an
//! image and a text query get a vector, compared by cosine. [`Conse`] is the
//! implementation available here (no CLIP weights ship in any registry
//! package): ConSE (Norouzi et al., ICLR 2014). An image's vector is the
//! probability-weighted mean of the sentence vectors of its top-T class
//! labels; a query's vector is the same text encoder's. A joint model (CLIP:
//! an image encoder, a text encoder and a tokenizer) implements the same
//! trait from [`ImageEvidence::image`] and replaces `Conse` without changing
//! callers; stored vectors record the space's [`SemanticSpace::model`] so that
//! vectors of different spaces are never compared.
//!
//! Each label's text is enriched with its WordNet ancestors and friendly tags
//! ("espresso, a kind of coffee: drink, beverage") so that general queries
//! reach specific classes. The 1000 label vectors are computed once and cached
//! as a safetensors file keyed by the text model and the label texts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;
use safetensors::{Dtype, SafeTensors, View};
use sha2::{Digest, Sha256};

use crate::classifier::{Classification, top_indices};
use crate::error::ModelError;
use crate::friendly::FriendlyTags;
use crate::labels::Labels;
use crate::tags::ModelRef;
use crate::text::TextEncoder;
use crate::vector::l2_normalised;

/// What an image offers a semantic space.
#[derive(Debug, Clone, Copy)]
pub struct ImageEvidence<'a> {
    /// The upright, sRGB image (what a CLIP image encoder would read).
    pub image: &'a RgbImage,
    /// The classifier's result for it (what ConSE reads).
    pub classification: &'a Classification,
}

/// A vector space shared by images and text queries.
pub trait SemanticSpace: Send + Sync + std::fmt::Debug {
    /// Identifies the space (its models and versions): vectors from spaces
    /// with different ids or versions must not be compared.
    fn model(&self) -> &ModelRef;
    /// Vector length.
    fn dimensions(&self) -> usize;
    /// The image's vector, L2-normalised. CPU work: call from a blocking
    /// thread.
    fn image_vector(&self, evidence: &ImageEvidence<'_>) -> Result<Vec<f32>, ModelError>;
    /// The text's vector, L2-normalised. CPU work: call from a blocking
    /// thread.
    fn text_vector(&self, text: &str) -> Result<Vec<f32>, ModelError>;
}

/// Configuration of [`Conse`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConseConfig {
    /// How many of the most probable classes make up an image's vector.
    pub top_t: usize,
    /// Directory of the label-vector cache (created if missing); by default
    /// `cache` in the data directory ([`crate::home`]).
    pub cache_dir: PathBuf,
}

impl Default for ConseConfig {
    fn default() -> Self {
        Self {
            top_t: 5,
            cache_dir: crate::home::data_dir().join("cache"),
        }
    }
}

/// ConSE over the classifier's labels and the text encoder.
#[derive(Debug)]
pub struct Conse {
    model: ModelRef,
    text: Arc<TextEncoder>,
    label_vectors: Vec<Vec<f32>>,
    top_t: usize,
}

/// Tensor name of the label vectors in the cache file.
const CACHE_TENSOR: &str = "label_vectors";
/// Metadata key holding the cache key.
const CACHE_KEY: &str = "imgtag.cache_key";

impl Conse {
    /// Builds the space: label texts from `labels` and `friendly`, their
    /// vectors from the cache when it matches, else computed and cached.
    pub fn build(
        config: &ConseConfig,
        classifier: &ModelRef,
        labels: &Labels,
        friendly: &FriendlyTags,
        text: Arc<TextEncoder>,
    ) -> Result<Self, ModelError> {
        if config.top_t == 0 || config.top_t > labels.len() {
            return Err(ModelError::Manifest(format!(
                "conse top_t must be 1-{}, not {}",
                labels.len(),
                config.top_t
            )));
        }
        let texts = label_texts(labels, friendly);
        let key = cache_key(&text, &texts);
        let path = config
            .cache_dir
            .join(format!("conse-labels-{}.safetensors", &key[..16]));
        let label_vectors = match read_cache(&path, &key, texts.len(), text.dimensions()) {
            Some(vectors) => vectors,
            None => {
                let started = std::time::Instant::now();
                let vectors = text.embed_all(&texts)?;
                tracing::info!(
                    labels = texts.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "label vectors computed"
                );
                if let Err(error) = write_cache(&path, &key, &vectors) {
                    tracing::warn!(path = %path.display(), %error, "cannot cache the label vectors; they will be computed again next time");
                }
                vectors
            }
        };
        let model = ModelRef {
            id: format!("conse-top{}", config.top_t),
            version: format!("{classifier}+{}", ModelRef::of(text.model())),
        };
        Ok(Self {
            model,
            text,
            label_vectors,
            top_t: config.top_t,
        })
    }

    /// The ConSE vector of class probabilities.
    pub fn vector_of(&self, probabilities: &[f32]) -> Vec<f32> {
        let mut sum = vec![0.0_f32; self.text.dimensions()];
        for index in top_indices(probabilities, self.top_t) {
            let (Some(weight), Some(vector)) =
                (probabilities.get(index), self.label_vectors.get(index))
            else {
                continue;
            };
            for (total, value) in sum.iter_mut().zip(vector) {
                *total += weight * value;
            }
        }
        l2_normalised(sum.into_iter())
    }
}

impl SemanticSpace for Conse {
    fn model(&self) -> &ModelRef {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.text.dimensions()
    }

    fn image_vector(&self, evidence: &ImageEvidence<'_>) -> Result<Vec<f32>, ModelError> {
        Ok(self.vector_of(&evidence.classification.probabilities))
    }

    fn text_vector(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        self.text.embed(text)
    }
}

/// The text embedded for each class: its name, its nearest WordNet ancestors
/// and its friendly tags, e.g. "espresso, a kind of coffee, beverage; drink".
pub fn label_texts(labels: &Labels, friendly: &FriendlyTags) -> Vec<String> {
    labels
        .iter()
        .enumerate()
        .map(|(index, label)| {
            let mut text = label.name.clone();
            let ancestors: Vec<&str> = friendly
                .ancestors_of_class(index)
                .iter()
                .take(2)
                .map(String::as_str)
                .collect();
            if !ancestors.is_empty() {
                text.push_str(", a kind of ");
                text.push_str(&ancestors.join(", "));
            }
            let tags: Vec<String> = friendly
                .tags_of_class(index)
                .map(|tag| tag.replace('_', " "))
                .collect();
            if !tags.is_empty() {
                text.push_str("; ");
                text.push_str(&tags.join(", "));
            }
            text
        })
        .collect()
}

fn cache_key(text: &TextEncoder, texts: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"imgtag conse label vectors v1\n");
    hasher.update(text.model().sha256.as_bytes());
    hasher.update(b"\n");
    for label in texts {
        hasher.update(label.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

/// The cached vectors, if the file exists, parses and carries `key`.
fn read_cache(path: &Path, key: &str, rows: usize, columns: usize) -> Option<Vec<Vec<f32>>> {
    let bytes = fs_err::read(path).ok()?;
    let tensors = SafeTensors::deserialize(&bytes).ok()?;
    let (_, metadata) = SafeTensors::read_metadata(&bytes).ok()?;
    if metadata.metadata().as_ref()?.get(CACHE_KEY)? != key {
        return None;
    }
    let tensor = tensors.tensor(CACHE_TENSOR).ok()?;
    if tensor.dtype() != Dtype::F32 || tensor.shape() != [rows, columns] {
        return None;
    }
    let values: Vec<f32> = tensor
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(values.chunks_exact(columns).map(<[f32]>::to_vec).collect())
}

fn write_cache(path: &Path, key: &str, vectors: &[Vec<f32>]) -> Result<(), String> {
    let columns = vectors.first().map_or(0, Vec::len);
    let bytes: Vec<u8> = vectors
        .iter()
        .flatten()
        .flat_map(|value| value.to_le_bytes())
        .collect();
    let view =
        safetensors::tensor::TensorView::new(Dtype::F32, vec![vectors.len(), columns], &bytes)
            .map_err(|e| e.to_string())?;
    debug_assert_eq!(view.data_len(), bytes.len());
    let metadata = std::collections::HashMap::from([(CACHE_KEY.to_owned(), key.to_owned())]);
    let file = safetensors::serialize([(CACHE_TENSOR, view)], Some(metadata))
        .map_err(|e| e.to_string())?;
    let dir = path.parent().ok_or("the cache path has no directory")?;
    fs_err::create_dir_all(dir).map_err(|e| e.to_string())?;
    // Write then rename, so that a reader never sees half a file.
    let temporary = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    fs_err::write(temporary.path(), &file).map_err(|e| e.to_string())?;
    temporary.persist(path).map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_round_trips_and_refuses_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("labels.safetensors");
        let vectors = vec![vec![0.5_f32, -1.0, 2.0], vec![3.0, 4.0, 5.5]];
        write_cache(&path, "key-a", &vectors).unwrap();
        assert_eq!(read_cache(&path, "key-a", 2, 3), Some(vectors));
        assert_eq!(read_cache(&path, "key-b", 2, 3), None);
        assert_eq!(read_cache(&path, "key-a", 3, 3), None);
        fs_err::write(&path, b"garbage").unwrap();
        assert_eq!(read_cache(&path, "key-a", 2, 3), None);
    }
}
