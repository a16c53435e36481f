//! `imgtag index` as an operator runs it: the real binary on a store the
//! test fills through the library, backup and restore through the CLI, and
//! a clear `index.locked` error while another process holds the store.

use std::process::{Command, Output};

use imgtag_tests::index_fixtures::{async_runtime, index_config, new_image};
use imgtag_tests::{imgtag_bin, repo_root};
use imgtag_workers::index::{ImageFilter, Index, TenantId};
use serde_json::Value;

fn imgtag(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(imgtag_bin())
        .current_dir(repo_root())
        .args(args)
        .env_remove("IMGTAG_CONFIG")
        .env("IMGTAG__INDEX__EDGE__DIR", dir)
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn info_backup_restore_and_a_held_store() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("index");
    let tenant = TenantId::new("cli").unwrap();
    let runtime = async_runtime();
    runtime.block_on(async {
        let index = Index::open(&index_config(&data)).await.unwrap();
        let images = (0..40).map(|n| new_image(&tenant, n)).collect();
        index.tenant(tenant.clone()).upsert(images).await.unwrap();
        // While this process holds the store, the binary is refused.
        let held = imgtag(&["index", "info"], &data);
        assert_eq!(held.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&held.stderr);
        assert!(stderr.contains("error[index.locked]"), "{stderr}");
        assert!(
            stderr.contains(&format!("pid {}", std::process::id())),
            "{stderr}"
        );
    });

    let info = json(&imgtag(&["index", "info", "--json"], &data));
    assert_eq!(info["backend"], "edge");
    assert_eq!(info["points"], 40);
    assert!(
        info["payload_indexes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "tags")
    );
    let optimized = json(&imgtag(&["index", "optimize", "--json"], &data));
    assert!(optimized["seconds"].as_f64().unwrap() >= 0.0);

    let backup = work.path().join("backup");
    let report = json(&imgtag(
        &["index", "backup", backup.to_str().unwrap(), "--json"],
        &data,
    ));
    assert_eq!(report["points"], 40);

    // Restore refuses a non-empty store, then fills an empty one.
    let refused = imgtag(&["index", "restore", backup.to_str().unwrap()], &data);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("index.restore_refused"));
    let restored_dir = work.path().join("restored");
    let restored = imgtag(
        &["index", "restore", backup.to_str().unwrap()],
        &restored_dir,
    );
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    runtime.block_on(async {
        let index = Index::open(&index_config(&restored_dir)).await.unwrap();
        let everything = ImageFilter::everything();
        assert_eq!(index.tenant(tenant).count(&everything).await.unwrap(), 40);
    });
}
