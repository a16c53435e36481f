//! The face detector (YuNet 2023mar) on the sample photos and on pictures
//! composed from the astronaut's face: a group of six faces of 40-160 px,
//! a crowd of small faces and a close-up filling the frame. Needs
//! `scripts/setup` (model, ONNX Runtime and samples in `.imgtag/`).

// A test binary may fail the short way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use image::RgbImage;
use imgtag_models::resample::{Filter, resize_rgb};
use imgtag_models::{Face, FaceConfig, FaceDetector, ModelStore, Runtime, RuntimeConfig};

/// The astronaut's face as `scripts/face_reference.py` (Python onnxruntime,
/// numpy and Pillow, same procedure) finds it at the default scales: box,
/// score and landmarks (found at 256, the 512x512 sample reduced by 2).
const ASTRONAUT: Reference = Reference {
    rect: [180.46, 69.82, 89.59, 105.98],
    score: 0.9405,
    landmarks: [
        [202.3, 106.09],
        [243.69, 105.21],
        [220.08, 125.57],
        [202.57, 143.64],
        [239.45, 144.13],
    ],
};

/// The reference's `astronaut-4x3`: the sample cropped to `(16, 0)-(496,
/// 376)` and enlarged to 1300x1018 (found at 512: reduced by 2, filtered to
/// 512x401, in a 512x416 canvas).
const ASTRONAUT_4X3: Reference = Reference {
    rect: [436.92, 184.31, 242.5, 287.0],
    score: 0.9376,
    landmarks: [
        [496.17, 279.53],
        [626.7, 282.31],
        [560.06, 342.03],
        [501.14, 384.44],
        [612.6, 382.95],
    ],
};

/// A face as the reference prints it (two decimals).
struct Reference {
    rect: [f32; 4],
    score: f32,
    landmarks: [[f32; 2]; 5],
}

impl Reference {
    /// Whether `face` is this one: Rust and Python feed the graph the same
    /// bytes (Pillow-exact reduce and bilinear) and decode alike.
    fn check(&self, face: &Face) {
        assert!((face.score - self.score).abs() < 0.001, "{face:?}");
        let reference = self.rect.iter().chain(self.landmarks.iter().flatten());
        let got = face.rect.iter().chain(face.landmarks.iter().flatten());
        for (got, want) in got.zip(reference) {
            assert!((got - want).abs() < 0.05, "{face:?}: {got} against {want}");
        }
    }
}

/// Where the astronaut's face is in the sample (the reference's box at
/// 640, the scale that fits it best), for placing it in composed pictures.
const ASTRONAUT_FACE: [f32; 4] = [178.99, 63.35, 90.66, 110.78];

/// The part of the astronaut composed into test pictures: her head with
/// some margin, `[x, y, w, h]`.
const HEAD: [u32; 4] = [150, 30, 150, 170];

fn install_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".imgtag")
}

fn runtime() -> Runtime {
    let library = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| install_dir().join("onnxruntime/libonnxruntime.so"));
    Runtime::init(&RuntimeConfig { library }).unwrap_or_else(|e| panic!("{e}"))
}

fn load(config: &FaceConfig) -> FaceDetector {
    let store = ModelStore::open(install_dir().join("models")).unwrap_or_else(|e| panic!("{e}"));
    FaceDetector::load(&store, &runtime(), config).unwrap_or_else(|e| panic!("{e}"))
}

/// The default detector, shared by the tests of this binary.
fn detector() -> &'static FaceDetector {
    static DETECTOR: OnceLock<FaceDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| load(&FaceConfig::default()))
}

fn sample(name: &str) -> RgbImage {
    let path = install_dir().join("samples").join(name);
    let bytes = fs_err::read(&path)
        .unwrap_or_else(|e| panic!("{e}: run scripts/setup to install the sample photos"));
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_rgb8()
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let h = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    let intersection = w.max(0.0) * h.max(0.0);
    intersection / (a[2] * a[3] + b[2] * b[3] - intersection)
}

/// A `width` x `height` picture of grey noise (deterministic).
fn noise(width: u32, height: u32) -> RgbImage {
    let mut state = 0x2545_f491_u32;
    RgbImage::from_fn(width, height, |_, _| {
        image::Rgb(std::array::from_fn(|_| {
            // xorshift32
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            90 + (state % 76) as u8
        }))
    })
}

/// Pastes the astronaut's head into `canvas` at `(x, y)`, scaled so her face
/// is `face_width` pixels wide; returns where her face box lands.
fn paste_head(
    canvas: &mut RgbImage,
    astronaut: &RgbImage,
    (x, y): (i64, i64),
    face_width: f32,
) -> [f32; 4] {
    let [hx, hy, hw, hh] = HEAD;
    let head = image::imageops::crop_imm(astronaut, hx, hy, hw, hh).to_image();
    let scale = face_width / ASTRONAUT_FACE[2];
    let (w, h) = (
        (hw as f32 * scale).round() as usize,
        (hh as f32 * scale).round() as usize,
    );
    let pixels = resize_rgb(
        head.as_raw(),
        (hw as usize, hh as usize),
        (w, h),
        Filter::Bilinear,
    );
    let head = RgbImage::from_raw(w as u32, h as u32, pixels).unwrap();
    image::imageops::overlay(canvas, &head, x, y);
    [
        x as f32 + (ASTRONAUT_FACE[0] - hx as f32) * scale,
        y as f32 + (ASTRONAUT_FACE[1] - hy as f32) * scale,
        ASTRONAUT_FACE[2] * scale,
        ASTRONAUT_FACE[3] * scale,
    ]
}

fn summary(faces: &[Face]) -> Vec<([i32; 4], f32)> {
    faces
        .iter()
        .map(|f| (f.rect.map(|v| v.round() as i32), f.score))
        .collect()
}

#[test]
fn the_astronaut_has_one_face_where_the_reference_finds_it() {
    let image = sample("astronaut.png");
    let faces = detector().detect(&image).unwrap();
    assert_eq!(faces.len(), 1, "{:?}", summary(&faces));
    let face = faces[0];
    eprintln!("faces: astronaut: {face:?}");
    assert!(face.score > 0.9, "{face:?}");
    ASTRONAUT.check(&face);
    // Eyes above the nose above the mouth; her right eye on the viewer's left.
    let [right_eye, left_eye, nose, right_mouth, left_mouth] = face.landmarks;
    assert!(
        right_eye[0] < left_eye[0] && right_mouth[0] < left_mouth[0],
        "{face:?}"
    );
    assert!(right_eye[1].max(left_eye[1]) < nose[1], "{face:?}");
    assert!(nose[1] < right_mouth[1].min(left_mouth[1]), "{face:?}");
    assert_eq!(detector().model().id, "yunet-2023mar");
}

#[test]
fn a_4_by_3_picture_matches_the_reference_through_reduce_filter_and_padding() {
    let astronaut = sample("astronaut.png");
    let crop = image::imageops::crop_imm(&astronaut, 16, 0, 480, 376).to_image();
    let pixels = resize_rgb(crop.as_raw(), (480, 376), (1300, 1018), Filter::Bilinear);
    let image = RgbImage::from_raw(1300, 1018, pixels).unwrap();
    let faces = detector().detect(&image).unwrap();
    eprintln!("faces: astronaut 4:3: {:?}", summary(&faces));
    assert_eq!(faces.len(), 1, "{:?}", summary(&faces));
    ASTRONAUT_4X3.check(&faces[0]);
}

#[test]
fn photos_without_people_have_no_faces() {
    for name in [
        "chelsea.png",
        "coffee.png",
        "motorcycle_left.png",
        "rocket.jpg",
    ] {
        let faces = detector().detect(&sample(name)).unwrap();
        assert!(faces.is_empty(), "{name}: {:?}", summary(&faces));
    }
}

#[test]
fn a_group_of_six_faces_of_40_to_160_px_is_found() {
    let astronaut = sample("astronaut.png");
    let mut group = noise(1200, 800);
    let placed: Vec<[f32; 4]> = [
        ((100, 100), 40.0),
        ((500, 100), 60.0),
        ((900, 100), 80.0),
        ((100, 450), 100.0),
        ((500, 450), 130.0),
        ((850, 420), 160.0),
    ]
    .into_iter()
    .map(|(at, width)| paste_head(&mut group, &astronaut, at, width))
    .collect();
    let faces = detector().detect(&group).unwrap();
    eprintln!("faces: group: {:?}", summary(&faces));
    assert_eq!(faces.len(), 6, "{:?}", summary(&faces));
    for want in &placed {
        let best = faces.iter().map(|f| iou(&f.rect, want)).fold(0.0, f32::max);
        assert!(best > 0.6, "no face near {want:?}: {:?}", summary(&faces));
    }
    // The 40 px face is 17 px at 512, near YuNet's smallest: it scores
    // lowest (about 0.74); from 60 px all score above 0.8.
    let sure = faces.iter().filter(|f| f.rect[2] >= 50.0);
    assert!(sure.clone().count() == 5 && sure.clone().all(|f| f.score > 0.8));
}

#[test]
fn a_crowd_of_faces_of_a_25th_of_the_long_side_is_found() {
    // Twelve faces 64 px wide in 1600x1200: 20 px of the 512 canvas. From
    // about a 30th of the long side (17 px at 512) most faces are found;
    // a 50th (24 px here, 8 px at 512; 10 px even at 640) is too small.
    let astronaut = sample("astronaut.png");
    let mut crowd = noise(1600, 1200);
    let mut placed = Vec::new();
    for row in 0..3 {
        for col in 0..4 {
            let at = (100 + col * 400 + row * 37, 150 + row * 380 + col * 23);
            placed.push(paste_head(&mut crowd, &astronaut, at, 64.0));
        }
    }
    let faces = detector().detect(&crowd).unwrap();
    eprintln!("faces: crowd: {:?}", summary(&faces));
    assert_eq!(faces.len(), placed.len(), "{:?}", summary(&faces));
    for want in &placed {
        let best = faces.iter().map(|f| iou(&f.rect, want)).fold(0.0, f32::max);
        assert!(best > 0.5, "no face near {want:?}: {:?}", summary(&faces));
    }
}

#[test]
fn a_close_up_is_found_once_thanks_to_the_smaller_scale() {
    let astronaut = sample("astronaut.png");
    let mut close_up = noise(1000, 1000);
    // Her face 900 px wide, centred (its box runs past the bottom edge).
    let scale = 900.0 / ASTRONAUT_FACE[2];
    let centre = |offset: f32, size: f32, head: u32| {
        (500.0 - (offset - head as f32 + size / 2.0) * scale) as i64
    };
    let at = (
        centre(ASTRONAUT_FACE[0], ASTRONAUT_FACE[2], HEAD[0]),
        centre(ASTRONAUT_FACE[1], ASTRONAUT_FACE[3], HEAD[1]),
    );
    let placed = paste_head(&mut close_up, &astronaut, at, 900.0);
    let faces = detector().detect(&close_up).unwrap();
    eprintln!("faces: close-up: {:?}", summary(&faces));
    assert_eq!(faces.len(), 1, "{:?}", summary(&faces));
    let (top, bottom) = (placed[1].max(0.0), (placed[1] + placed[3]).min(1000.0));
    let visible = [placed[0], top, placed[2], bottom - top];
    assert!(
        iou(&faces[0].rect, &visible) > 0.7,
        "{placed:?}: {:?}",
        summary(&faces)
    );
    assert!(faces[0].score > 0.95, "{:?}", summary(&faces));

    // At 512 alone the face (461 px of the canvas) is past YuNet's best
    // sizes: it scores lower (0.86; a face filling the frame 0.79, and at
    // 640 0.71 or nothing), which is what the second scale is for.
    let single = load(&FaceConfig {
        scales: vec![512],
        ..FaceConfig::default()
    });
    let faces = single.detect(&close_up).unwrap();
    eprintln!("faces: close-up at 512 only: {:?}", summary(&faces));
    assert!(faces.iter().all(|f| f.score < 0.9), "{:?}", summary(&faces));
}

#[test]
fn an_empty_image_is_invalid_input() {
    let error = detector().detect(&RgbImage::new(0, 10)).unwrap_err();
    assert_eq!(error.code(), "model.invalid_input");
}

/// CPU time of this process so far (all its threads: the caller's
/// preparation and the batcher's runs), from Linux's per-thread schedstat;
/// `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let mut total = 0_u64;
    for task in fs_err::read_dir("/proc/self/task").ok()? {
        let stat = fs_err::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// Cost of one [`FaceDetector::detect`] (1 session of 1 intra-op thread)
/// for each set of scales, on the sample photos stretched to 4:3
/// (1600x1200) and 1:1 (1200x1200): CPU milliseconds (all threads, mean of
/// 12 runs, the least of 5 rounds) and the fastest wall time. For the
/// record; run in release:
/// `cargo test --release -p imgtag-models --test faces -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check: run it in release"]
fn detect_timings() {
    let photos: Vec<RgbImage> = ["astronaut.png", "coffee.png", "motorcycle_left.png"]
        .into_iter()
        .map(sample)
        .collect();
    let resize = |image: &RgbImage, (w, h): (u32, u32)| {
        let pixels = resize_rgb(
            image.as_raw(),
            (image.width() as usize, image.height() as usize),
            (w as usize, h as usize),
            Filter::Bilinear,
        );
        RgbImage::from_raw(w, h, pixels).unwrap()
    };
    let shapes: Vec<(&str, Vec<RgbImage>)> = [("4:3", (1600, 1200)), ("1:1", (1200, 1200))]
        .into_iter()
        .map(|(name, size)| (name, photos.iter().map(|p| resize(p, size)).collect()))
        .collect();
    let sets: [&[u32]; 7] = [
        &[640],
        &[512],
        &[320],
        &[256],
        &[640, 320],
        &[576, 288],
        &[512, 256],
    ];
    for scales in sets {
        let detector = load(&FaceConfig {
            scales: scales.to_vec(),
            ..FaceConfig::default()
        });
        let mut line = format!("faces: timing {scales:?}:");
        for (name, images) in &shapes {
            for image in images {
                detector.detect(image).unwrap();
            }
            // The least of 5 rounds: other processes only ever add.
            let (mut cpu, mut fastest) = (f64::MAX, f64::MAX);
            for _ in 0..5 {
                let before = process_cpu();
                for image in images.iter().cycle().take(12) {
                    let start = Instant::now();
                    detector.detect(image).unwrap();
                    fastest = fastest.min(start.elapsed().as_secs_f64() * 1000.0);
                }
                if let Some((before, after)) = before.zip(process_cpu()) {
                    cpu = cpu.min((after - before).as_secs_f64() * 1000.0 / 12.0);
                }
            }
            line += &format!(" {name} {cpu:.1} ms CPU, {fastest:.1} ms fastest;");
        }
        eprintln!("{line}");
    }
}
