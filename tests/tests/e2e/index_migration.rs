//! Moving an index to a new text space: a store whose semantic vector is
//! the retired `semantic` (all-MiniLM-L6-v2, 384-d) is refused with
//! `index.layout_mismatch` until `Index::migrate` (`imgtag index migrate`)
//! deletes the retired vector and creates `semantic_v2`; every image and
//! its payload survive, without a semantic vector until reprocessed (so
//! vectors of two spaces are never compared), and text, tag and filter
//! queries still find them meanwhile.

use imgtag_tests::index_fixtures::{SplitMix, async_runtime, index_config, new_image, unit_vector};
use imgtag_workers::index::{ImageFilter, Index, TenantId, VectorName};
use qdrant_edge::{
    CreateVectorName, DeleteVectorName, EdgeShard, UpdateOperation, VectorNameConfig,
    VectorNameOperations,
};

/// Turns a current store into one as the previous release left it.
fn make_retired_layout(dir: &std::path::Path) {
    let shard = EdgeShard::load(dir, None).unwrap();
    let operation = |op| UpdateOperation::VectorNameOperation(op);
    shard
        .update(operation(VectorNameOperations::DeleteVectorName(
            DeleteVectorName {
                vector_name: "semantic_v2".into(),
            },
        )))
        .unwrap();
    let config: VectorNameConfig =
        serde_json::from_value(serde_json::json!({"dense": {"size": 384, "distance": "Cosine"}}))
            .unwrap();
    shard
        .update(operation(VectorNameOperations::CreateVectorName(
            CreateVectorName {
                vector_name: "semantic".into(),
                config,
            },
        )))
        .unwrap();
    shard.flush();
}

#[test]
fn a_store_of_the_retired_text_space_migrates_without_losing_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let config = index_config(dir.path());
    let runtime = async_runtime();
    let tenant = TenantId::new("acme").unwrap();
    let images: Vec<_> = (0..40).map(|n| new_image(&tenant, n)).collect();
    let ids = runtime.block_on(async {
        let index = Index::open(&config).await.unwrap();
        let ids = index
            .tenant(tenant.clone())
            .upsert(images.clone())
            .await
            .unwrap();
        index.flush().await.unwrap();
        ids
    });
    make_retired_layout(dir.path());

    runtime.block_on(async {
        let refused = Index::open(&config).await.unwrap_err();
        assert_eq!(refused.code(), "index.layout_mismatch");
        assert!(
            refused.to_string().contains("imgtag index migrate"),
            "the error says what to run: {refused}"
        );

        let plan = Index::migrate(&config).await.unwrap();
        assert_eq!(plan.delete, ["semantic"]);
        assert_eq!(plan.create, [VectorName::Semantic]);
        assert!(
            Index::migrate(&config).await.unwrap().is_empty(),
            "idempotent"
        );

        let index = Index::open(&config).await.unwrap();
        let scope = index.tenant(tenant.clone());
        let everything = ImageFilter::everything();
        assert_eq!(scope.count(&everything).await.unwrap(), 40);
        for (image, id) in images.iter().zip(&ids) {
            let stored = scope.get(*id, true).await.unwrap();
            assert_eq!(stored.record.sha256, image.sha256, "payload kept");
            let vectors = stored.vectors.unwrap();
            assert_eq!(vectors.image, image.vectors.image, "image vector kept");
            assert_eq!(
                vectors.semantic, None,
                "no vector of the old space survives"
            );
        }
        // Not yet reprocessed: no semantic hit, but tags still find them.
        let query = unit_vector(&mut SplitMix(7), 512);
        let by_meaning = scope
            .search(
                VectorName::Semantic,
                query.clone(),
                &everything,
                10,
                0,
                None,
            )
            .await
            .unwrap();
        assert!(by_meaning.is_empty());
        let tagged = ImageFilter {
            tags_all: vec![images[0].tag_scores.keys().next().unwrap().clone()],
            ..everything.clone()
        };
        assert!(scope.count(&tagged).await.unwrap() > 0);

        // Reprocessing writes the new vector; it is then searchable.
        let mut again = images[0].clone();
        again.vectors.semantic = Some(query.clone());
        scope.upsert(vec![again]).await.unwrap();
        let hits = scope
            .search(VectorName::Semantic, query, &everything, 10, 0, None)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].image.record.image_id, ids[0]);
    });
}
