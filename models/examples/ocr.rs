//! Reads text out of image files with [`imgtag_models::OcrEngine`]: a
//! development and benchmark tool.
//!
//! ```sh
//! cargo run -p imgtag-models --release --example ocr -- FILE... [--json] [--repeat N]
//!     [--threads N] [--parallel N] [--no-orientation] [--no-arena] [--tier small|tiny]
//!     [--detect-only SIDE | --probe SIDE] [--short-side N]
//! ```
//!
//! Uses the models `scripts/setup` installs in `.imgtag/models` and ONNX
//! Runtime from `.imgtag/onnxruntime` (relative to the repository). Each
//! file is decoded once (not timed), read once to warm up, then `--repeat`
//! times; the report gives the lines, the rotation undone, the engine's
//! timings of the last read and the process CPU seconds per read (all
//! threads, from `/proc/self/stat`). `--json` prints one JSON document
//! with every result instead. `--threads` sets ONNX Runtime's intra-op
//! threads per session; `--parallel N` gives each pool N sessions and reads
//! every file from N threads at once (a throughput and thread-safety
//! check: all readers must agree). `--tier` chooses the detector and
//! recogniser pair (default small). `--detect-only SIDE` runs only the
//! tier's detector at a long side of at most SIDE, `--probe SIDE` only the
//! probe detector (PP-OCRv6 tiny, whatever the tier): both report the box
//! count, the share of the image they cover and the CPU per run.
//! `--short-side N` first shrinks each image (not timed, bilinear) so its
//! short side is at most N, as the worker's model input (512) the OCR gate
//! probes.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::RgbImage;
use imgtag_models::ocr::{DetLimit, OcrConfig, OcrEngine, OcrResult, OcrTier, TextBox, quad_area};
use imgtag_models::{ModelStore, Runtime, RuntimeConfig};
use serde::Serialize;

struct Args {
    files: Vec<PathBuf>,
    json: bool,
    repeat: usize,
    threads: usize,
    parallel: usize,
    orientation: bool,
    arena: bool,
    tier: OcrTier,
    detect_only: Option<u32>,
    probe: Option<u32>,
    short_side: Option<u32>,
}

fn usage() -> String {
    "usage: ocr FILE... [--json] [--repeat N] [--threads N] [--parallel N] [--no-orientation] \
     [--no-arena] [--tier small|tiny] [--detect-only SIDE | --probe SIDE] [--short-side N]"
        .to_owned()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        files: Vec::new(),
        json: false,
        repeat: 1,
        threads: 1,
        parallel: 1,
        orientation: true,
        arena: true,
        tier: OcrTier::Small,
        detect_only: None,
        probe: None,
        short_side: None,
    };
    let mut it = std::env::args().skip(1);
    let number = |value: Option<String>, flag: &str| -> Result<usize, String> {
        value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} needs a number\n{}", usage()))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => args.json = true,
            "--repeat" => args.repeat = number(it.next(), "--repeat")?.max(1),
            "--threads" => args.threads = number(it.next(), "--threads")?.max(1),
            "--parallel" => args.parallel = number(it.next(), "--parallel")?.max(1),
            "--no-orientation" => args.orientation = false,
            "--no-arena" => args.arena = false,
            "--detect-only" => args.detect_only = Some(number(it.next(), "--detect-only")? as u32),
            "--probe" => args.probe = Some(number(it.next(), "--probe")? as u32),
            "--short-side" => {
                args.short_side = Some(number(it.next(), "--short-side")?.max(1) as u32);
            }
            "--tier" => {
                args.tier = match it.next().as_deref() {
                    Some("small") => OcrTier::Small,
                    Some("tiny") => OcrTier::Tiny,
                    _ => return Err(format!("--tier needs small or tiny\n{}", usage())),
                }
            }
            "-h" | "--help" => return Err(usage()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown flag {flag}\n{}", usage()));
            }
            file => args.files.push(PathBuf::from(file)),
        }
    }
    if args.files.is_empty() {
        return Err(usage());
    }
    if args.detect_only.is_some() && args.probe.is_some() {
        return Err(format!(
            "--detect-only and --probe exclude each other\n{}",
            usage()
        ));
    }
    Ok(args)
}

/// The repository root: `IMGTAG_REPO_ROOT` (set by `.cargo/config.toml`)
/// or the current directory.
fn repo_root() -> PathBuf {
    std::env::var_os("IMGTAG_REPO_ROOT")
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// CPU seconds used by the whole process so far (user + system, all
/// threads).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is 3rd,
    // utime 14th, stime 15th of the whole line.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // `rest` starts at field 3 (state): utime is field 14, stime 15.
    (ticks(11) + ticks(12)) / 100.0
}

#[derive(Serialize)]
struct Report {
    file: PathBuf,
    width: u32,
    height: u32,
    cpu_seconds: f64,
    wall_ms: f64,
    result: Option<OcrResult>,
    boxes: Option<Boxes>,
}

/// What a detection-only run (`--detect-only`, `--probe`) found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Boxes {
    /// Text regions.
    count: usize,
    /// Their summed area over the image's (the OCR gate's `min_area`).
    area: f64,
}

impl Boxes {
    fn of(boxes: &[TextBox], image: &RgbImage) -> Self {
        let area: f64 = boxes.iter().map(|b| f64::from(quad_area(&b.quad))).sum();
        let pixels = f64::from(image.width()) * f64::from(image.height());
        Self {
            count: boxes.len(),
            area: (area / pixels.max(1.0)).min(1.0),
        }
    }
}

/// Decodes a file to RGB: JPEG with libjpeg-turbo (accurate DCT, fancy
/// upsampling: the pixels Pillow gives, hence rapidocr's), other formats
/// with `image`.
fn decode(path: &Path) -> Result<RgbImage, Box<dyn Error>> {
    let bytes = fs_err::read(path)?;
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let decoded = turbojpeg::decompress(&bytes, turbojpeg::PixelFormat::RGB)?;
        let (width, height) = (decoded.width as u32, decoded.height as u32);
        let mut pixels = Vec::with_capacity(decoded.width * decoded.height * 3);
        for row in decoded.pixels.chunks(decoded.pitch).take(decoded.height) {
            pixels.extend_from_slice(&row[..decoded.width * 3]);
        }
        return RgbImage::from_raw(width, height, pixels).ok_or_else(|| "bad JPEG size".into());
    }
    // Development files; ImageReader keeps the crate's default allocation
    // limits (imgtag's own decoding is imgtag-pipeline's, bounded).
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format()?;
    Ok(reader.decode()?.into_rgb8())
}

/// Peak resident memory of the process so far, in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn run(args: &Args) -> Result<Vec<Report>, Box<dyn Error>> {
    let root = repo_root();
    let runtime = Runtime::init(&RuntimeConfig {
        library: root.join(".imgtag/onnxruntime/libonnxruntime.so"),
    })?;
    let store = ModelStore::open(root.join(".imgtag/models"))?;
    let mut config = OcrConfig {
        models: args.tier,
        page_orientation: args.orientation,
        memory_arena: args.arena,
        ..OcrConfig::default()
    };
    for pool in [
        &mut config.det,
        &mut config.probe,
        &mut config.rec,
        &mut config.orientation,
    ] {
        pool.intra_threads = args.threads;
        pool.sessions = args.parallel;
    }
    let engine = OcrEngine::load(&store, &runtime, &config)?;
    let models: Vec<String> = engine.models().iter().map(ToString::to_string).collect();
    eprintln!("ocr: models {}", models.join(", "));
    let mut reports = Vec::new();
    for file in &args.files {
        let mut image = decode(file).map_err(|e| format!("{}: {e}", file.display()))?;
        if let Some(side) = args.short_side {
            let short = image.width().min(image.height());
            if short > side {
                let scale = f64::from(side) / f64::from(short);
                let fit = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
                image = image::imageops::resize(
                    &image,
                    fit(image.width()),
                    fit(image.height()),
                    image::imageops::FilterType::Triangle,
                );
            }
        }
        let read =
            |engine: &OcrEngine| -> Result<(Option<OcrResult>, Option<Boxes>), Box<dyn Error>> {
                Ok(match (args.detect_only, args.probe) {
                    (Some(side), _) => (
                        None,
                        Some(Boxes::of(
                            &engine.detect(&image, DetLimit::max_side(side))?,
                            &image,
                        )),
                    ),
                    (None, Some(side)) => (
                        None,
                        Some(Boxes::of(
                            &engine.probe(&image, DetLimit::max_side(side))?,
                            &image,
                        )),
                    ),
                    (None, None) => (Some(engine.read(&image)?), None),
                })
            };
        read(&engine)?;
        let (cpu, wall) = (cpu_seconds(), Instant::now());
        let mut last = (None, None);
        if args.parallel > 1 {
            let results: Vec<_> = std::thread::scope(|scope| {
                let readers: Vec<_> = (0..args.parallel)
                    .map(|_| {
                        scope.spawn(|| {
                            (0..args.repeat)
                                .map(|_| read(&engine).map_err(|e| e.to_string()))
                                .collect::<Result<Vec<_>, _>>()
                        })
                    })
                    .collect();
                readers.into_iter().map(|r| r.join()).collect()
            });
            for result in results {
                let reads = result.map_err(|_| "a reader panicked")??;
                for (lines, boxes) in reads {
                    let text = lines.as_ref().map(OcrResult::text);
                    if let Some(previous) = &last.0
                        && Some(OcrResult::text(previous)) != text
                    {
                        return Err("parallel readers disagree".into());
                    }
                    last = (lines, boxes);
                }
            }
        } else {
            for _ in 0..args.repeat {
                last = read(&engine)?;
            }
        }
        reports.push(Report {
            file: file.clone(),
            width: image.width(),
            height: image.height(),
            cpu_seconds: (cpu_seconds() - cpu) / (args.repeat * args.parallel) as f64,
            wall_ms: wall.elapsed().as_secs_f64() * 1e3 / (args.repeat * args.parallel) as f64,
            result: last.0,
            boxes: last.1,
        });
    }
    Ok(reports)
}

fn print_text(reports: &[Report]) {
    for report in reports {
        println!(
            "== {} ({}x{}): {:.3} CPU s, {:.0} ms per read",
            report.file.display(),
            report.width,
            report.height,
            report.cpu_seconds,
            report.wall_ms
        );
        if let Some(boxes) = report.boxes {
            println!(
                "   {} text boxes covering {:.2} % of the image, {:.1} ms CPU per run",
                boxes.count,
                boxes.area * 100.0,
                report.cpu_seconds * 1e3
            );
        }
        if let Some(result) = &report.result {
            let t = &result.timings;
            println!(
                "   rotation {} ({:.2}), {} lines{}, cjk {}; orientation {:.0} ms, detect {:.0} ms, recognise {:.0} ms",
                result.rotation,
                result.rotation_confidence,
                result.lines.len(),
                if result.truncated { " (truncated)" } else { "" },
                result.has_cjk,
                t.orientation_ms,
                t.detect_ms,
                t.recognize_ms
            );
            for line in &result.lines {
                println!("   {:.3}  {}", line.confidence, line.text);
            }
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(reports) if args.json => match serde_json::to_string_pretty(&reports) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("ocr: {error}");
                std::process::exit(1);
            }
        },
        Ok(reports) => {
            print_text(&reports);
            println!("peak RSS {:.0} MiB", peak_rss_mib());
        }
        Err(error) => {
            eprintln!("ocr: {error}");
            std::process::exit(1);
        }
    }
}
