//! `imgtag inspect` on real photos and on the bad inputs users send:
//! a wrong extension, an empty file, a truncated JPEG.

use std::process::Command;

use imgtag_tests::{imgtag_bin, repo_root, sample};
use serde_json::Value;

fn inspect_json(files: &[&std::path::Path]) -> (Option<i32>, Vec<Value>) {
    let output = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .env_remove("IMGTAG_CONFIG")
        .arg("inspect")
        .arg("--json")
        .args(files)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), json.as_array().unwrap().clone())
}

#[test]
fn photos_get_metadata_fingerprints_and_quality() {
    let chelsea = sample("chelsea.png");
    let rocket = sample("rocket.jpg");
    let (status, reports) = inspect_json(&[&chelsea, &rocket]);
    assert_eq!(status, Some(0));
    let cat = &reports[0];
    assert_eq!(cat["metadata"]["format"], "png");
    assert_eq!(
        (
            cat["metadata"]["width"].as_u64(),
            cat["metadata"]["height"].as_u64()
        ),
        (Some(451), Some(300))
    );
    // The sample's sha256 is pinned in scripts/samples.toml.
    assert_eq!(
        cat["fingerprints"]["sha256"],
        "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"
    );
    let phash = cat["fingerprints"]["phash"].as_str().unwrap();
    assert!(
        phash.len() == 16 && phash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{phash}"
    );
    assert_eq!(cat["quality"]["blurry"], false);
    assert_eq!(cat["quality"]["too_small"], false);
    assert_eq!(reports[1]["metadata"]["format"], "jpeg");
    assert_ne!(
        reports[1]["fingerprints"]["phash"],
        cat["fingerprints"]["phash"]
    );
}

#[test]
fn bad_inputs_are_reported_with_codes_and_names_are_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    // A PNG named .jpg: accepted, as what it is.
    let misnamed = dir.path().join("photo.jpg");
    fs_err::copy(sample("chelsea.png"), &misnamed).unwrap();
    let empty = dir.path().join("empty.png");
    fs_err::write(&empty, b"").unwrap();
    let rocket = fs_err::read(sample("rocket.jpg")).unwrap();
    let truncated = dir.path().join("truncated.jpg");
    fs_err::write(&truncated, &rocket[..rocket.len() * 2 / 3]).unwrap();

    let (status, reports) = inspect_json(&[&misnamed, &empty, &truncated]);
    assert_eq!(status, Some(1));
    assert_eq!(reports[0]["metadata"]["format"], "png");
    assert!(reports[0].get("error").is_none());
    assert_eq!(reports[1]["error"]["code"], "image.empty");
    assert_eq!(reports[2]["error"]["code"], "image.truncated");
}

#[test]
fn icc_profiles_are_reported_with_their_description_and_outcome() {
    let file = imgtag_tests::install_dir().join("corpus/pillow-images/xmp_tags_orientation.png");
    let (status, reports) = inspect_json(&[&file, &sample("coffee.png")]);
    assert_eq!(status, Some(0));
    let icc = &reports[0]["metadata"]["icc"];
    assert_eq!(icc["present"], true);
    assert_eq!(icc["applied"], true);
    assert_eq!(icc["description"], "ColorMatch RGB");
    assert!(icc.get("reason").is_none(), "{icc}");
    assert_eq!(
        reports[1]["metadata"]["icc"],
        serde_json::json!({"present": false, "applied": false})
    );
    let text = Command::new(imgtag_bin())
        .current_dir(repo_root())
        .env_remove("IMGTAG_CONFIG")
        .arg("inspect")
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("icc          ColorMatch RGB (converted to sRGB)"),
        "{text}"
    );
}
