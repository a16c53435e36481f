//! Erasing images: a tenant's index points and every object under
//! `{tenant}/{image_id}/` (renditions, the original, the claim), for a
//! customer's request to be forgotten or a wrong upload. `imgtag erase`
//! calls it; with the server backend it runs while workers run.
//!
//! The point goes first, then the objects: a search never returns an image
//! whose renditions are gone, and an interrupted erase is finished by
//! running it again (both steps are idempotent). Ids of other tenants are
//! not found: every delete is confined to the tenant.

use serde::Serialize;

use crate::error::AppError;
use crate::index::{ImageId, TenantIndex};
use crate::store::ObjectStorage;

/// What was erased of one image.
#[derive(Debug, Clone, Serialize)]
pub struct ErasedImage {
    /// The image.
    pub image_id: ImageId,
    /// Whether it had an index point in the tenant.
    pub point: bool,
    /// Objects deleted (renditions, original, claim).
    pub objects: u64,
}

/// The erase of a list of images.
#[derive(Debug, Clone, Serialize)]
pub struct EraseOutput {
    /// The tenant.
    pub tenant_id: String,
    /// Each image asked for, in order.
    pub images: Vec<ErasedImage>,
}

/// Erases `ids` from the tenant's index and from the store.
pub async fn erase_images(
    tenant: &TenantIndex<'_>,
    store: &ObjectStorage,
    ids: &[ImageId],
) -> Result<EraseOutput, AppError> {
    let mut images = Vec::with_capacity(ids.len());
    for &image_id in ids {
        let point = tenant.delete(&[image_id]).await? > 0;
        let objects = store.delete_image(tenant.tenant(), image_id).await?;
        tracing::info!(%image_id, point, objects, "image erased");
        images.push(ErasedImage {
            image_id,
            point,
            objects,
        });
    }
    Ok(EraseOutput {
        tenant_id: tenant.tenant().to_string(),
        images,
    })
}
