//! The objects a job writes: renditions and the original, under keys
//! derived from the image id (so a redelivered job rewrites the same
//! objects), fsynced by the store before the index points at them.

use std::collections::BTreeMap;

use bytes::Bytes;
use imgtag_pipeline::ProcessedImage;

use super::{ORIGINAL, Processor};
use crate::error::AppError;
use crate::index::{ImageId, RenditionRecord, StoredImage, TenantId};
use crate::jobs::JobError;
use crate::store::ObjectStorage;

impl Processor {
    /// The stored original of an image being re-run.
    pub(super) async fn stored_original(&self, image: &StoredImage) -> Result<Bytes, AppError> {
        let original = image.record.renditions.get(ORIGINAL).ok_or_else(|| {
            JobError::SourceNotFound(format!(
                "image {} has no stored original (it was ingested with store.keep_originals = false)",
                image.record.image_id
            ))
        })?;
        Ok(self
            .inner
            .store
            .get(&original.uri, self.inner.max_input_bytes)
            .await?)
    }

    /// Writes the renditions (and the original, unless it is stored
    /// already or not kept) under the image's keys; returns their records.
    pub(super) async fn write_objects(
        &self,
        tenant: &TenantId,
        image_id: ImageId,
        processed: &ProcessedImage,
        original: &Bytes,
        stored: Option<&StoredImage>,
    ) -> Result<BTreeMap<String, RenditionRecord>, AppError> {
        let store = &self.inner.store;
        let mut writes = Vec::new();
        let mut records = BTreeMap::new();
        for rendition in &processed.renditions {
            let extension = rendition.format.extension();
            let key = ObjectStorage::image_key(tenant, image_id, &rendition.name, extension);
            records.insert(
                rendition.name.clone(),
                RenditionRecord {
                    uri: key.clone(),
                    format: format_name(extension).to_owned(),
                    bytes: rendition.bytes.len() as u64,
                },
            );
            writes.push((key, Bytes::from(rendition.bytes.clone())));
        }
        match stored.and_then(|image| image.record.renditions.get(ORIGINAL)) {
            // Reprocessing: the original is already where it belongs.
            Some(record) => {
                records.insert(ORIGINAL.to_owned(), record.clone());
            }
            None if self.inner.keep_originals => {
                let format = processed.inspection.metadata.format.clone();
                let key = ObjectStorage::image_key(tenant, image_id, ORIGINAL, &format);
                records.insert(
                    ORIGINAL.to_owned(),
                    RenditionRecord {
                        uri: key.clone(),
                        format,
                        bytes: original.len() as u64,
                    },
                );
                writes.push((key, original.clone()));
            }
            None => {}
        }
        futures::future::try_join_all(
            writes
                .into_iter()
                .map(|(key, bytes)| store.put_owned(key, bytes)),
        )
        .await?;
        Ok(records)
    }
}

fn format_name(extension: &str) -> &str {
    if extension == "jpg" {
        "jpeg"
    } else {
        extension
    }
}
