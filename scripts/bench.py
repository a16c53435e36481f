#!/usr/bin/env python3
"""imgtag's end-to-end benchmark (run it through `scripts/bench`).

One run, on one fixed image set and the same cores, measures:

  1. `imgtag ingest` (release build) against the Python reference pipeline
     (scripts/bench_reference.py: Pillow, numpy, onnxruntime, qdrant-client
     local mode) doing the same work per image: images/s, images per CPU
     second, service latency p50/p99, peak RSS;
  2. the thumbnail path (`imgtag convert` -> 256 px WebP q80) against
     `vipsthumbnail`, one process per image, one core;
  3. the model-only floor (workers/examples/bench_floor.rs: the same models
     on inputs decoded beforehand) and the pipeline's overhead over it;
  4. `imgtag worker` over RabbitMQ with 1 and 2 processes, each pinned to a
     core of its own (scaling factor), and the publish rate of
     `imgtag publish`;
  5. OCR: `imgtag ingest` of the set with the OCR analyzer off, against the
     default (`mode = "auto"`: the gate, and reading where it finds text),
     and the OCR engine against rapidocr's own Python pipeline on the test
     documents (scripts/bench_ocr.py).

The image set (prepared once into .imgtag/bench/set-v1, deterministic with
the pinned Pillow): the 5 sample photos as they are, plus 95 JPEGs (q90,
4:2:0) derived from them (a seeded crop, flip or rotation and brightness
change, Lanczos scaling to sizes spread geometrically from 0.3 to 24 MP,
then seeded Gaussian grain so that they decode like real photos; every 7th carries an EXIF orientation of 6 and every 3rd camera
fields). Its digest is recorded with the results.

Prints the table, writes bench/results.json and the table section of
BENCHMARKS.md (between its markers).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import bench_ocr  # noqa: E402  (scripts/ is not a package)
import bench_thumbnail  # noqa: E402

SAMPLES = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg"]
SET_DIR = REPO / ".imgtag" / "bench" / "set-v1"
SET_MANIFEST = SET_DIR.with_suffix(".json")
DERIVED = 95
MIN_MP, MAX_MP = 0.3, 24.0
GRAIN_SIGMA = 4.0
TENANT = "bench"
AMQP = "amqp://guest:guest@127.0.0.1:5672/%2f"
PREFIX = "imgtag-bench"
TABLE_BEGIN = "<!-- bench:table:begin -->"
TABLE_END = "<!-- bench:table:end -->"

# Targets of issues 8 and 16: row key -> (compared field, comparison, value,
# as written). Peak RSS: 400 MB before OCR, 500 MB with it loaded (issue 16).
TARGETS = {
    "e2e_per_cpu": ("ratio", ">=", 3.0, "ratio >= 3"),
    "overhead": ("ours", "<=", 15.0, "<= 15 %"),
    "thumbnail": ("ratio", ">=", 1.0, "ratio >= 1"),
    "rss": ("ours", "<=", 500 / 1.048576, "<= 500 MB with OCR (477 MiB)"),
    "scaling": ("ours", ">=", 1.8, ">= 1.8x"),
    "ocr_gate": ("ours", "<=", 10.0, "<= 10 %"),
    "ocr_per_doc": ("ratio", ">=", 1.5, "ratio >= 1.5"),
}
# The OCR analyzer switched off (the ingest runs it is compared with).
OCR_OFF = {"IMGTAG__ANALYZERS__OCR__ENABLED": "false"}


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- image set

def make_set() -> list[Path]:
    """The fixed image set, made once; returns its files sorted by name."""
    import numpy as np
    from PIL import Image, ImageEnhance

    manifest = SET_MANIFEST
    if manifest.is_file():
        files = [SET_DIR / name for name in json.loads(manifest.read_text())["files"]]
        if all(f.is_file() for f in files):
            return files
    log(f"preparing the image set in {SET_DIR.relative_to(REPO)} (once)")
    shutil.rmtree(SET_DIR, ignore_errors=True)
    SET_DIR.mkdir(parents=True)
    names = []
    for name in SAMPLES:
        shutil.copyfile(REPO / ".imgtag" / "samples" / name, SET_DIR / name)
        names.append(name)
    sources = [Image.open(REPO / ".imgtag" / "samples" / name).convert("RGB") for name in SAMPLES]
    transposes = [None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90,
                  Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_270]
    for i in range(DERIVED):
        rng = random.Random(1000 + i)
        source = sources[i % len(sources)]
        w, h = source.size
        fw, fh = rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)
        cw, ch = int(w * fw), int(h * fh)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        image = source.crop((x, y, x + cw, y + ch))
        transpose = transposes[(i // 5) % 5]
        if transpose is not None:
            image = image.transpose(transpose)
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.85, 1.15))
        megapixels = MIN_MP * (MAX_MP / MIN_MP) ** (i / (DERIVED - 1))
        scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        # Sensor-like grain, so that the JPEGs carry the detail (and cost the
        # decoding) of real photos rather than of smooth upscales.
        pixels = np.asarray(image, dtype=np.int16)
        grain = np.random.default_rng(i).normal(0.0, GRAIN_SIGMA, pixels.shape[:2] + (1,))
        image = Image.fromarray(np.clip(pixels + grain.astype(np.int16), 0, 255).astype(np.uint8))
        exif = Image.Exif()
        if i % 3 == 0:
            exif[0x010F] = "BenchCam"  # Make
            exif[0x0110] = f"Model {i % 4}"  # Model
            exif[0x0132] = f"2026:0{1 + i % 9}:1{i % 10} 12:00:00"  # DateTime
        if i % 7 == 0:
            # Stored sideways with orientation 6: both pipelines turn it upright.
            image = image.transpose(Image.Transpose.ROTATE_90)
            exif[0x0112] = 6
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90, subsampling="4:2:0", exif=exif.tobytes())
        name = f"{SAMPLES[i % 5].split('.')[0]}-{i:03d}-{megapixels:04.1f}mp.jpg"
        (SET_DIR / name).write_bytes(out.getvalue())
        names.append(name)
    names.sort()
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + hashlib.sha256((SET_DIR / name).read_bytes()).digest())
    manifest.write_text(json.dumps({"files": names, "sha256": digest.hexdigest()}, indent=1) + "\n")
    return [SET_DIR / name for name in names]


def describe_set(files: list[Path]) -> dict:
    from PIL import Image

    megapixels = []
    for f in files:
        with Image.open(f) as image:
            megapixels.append(image.width * image.height / 1e6)
    manifest = json.loads(SET_MANIFEST.read_text())
    return {
        "images": len(files),
        "megapixels": {"min": round(min(megapixels), 2), "max": round(max(megapixels), 2),
                       "median": round(statistics.median(megapixels), 2),
                       "total": round(sum(megapixels), 1)},
        "bytes": sum(f.stat().st_size for f in files),
        "sha256": manifest["sha256"],
        "dir": str(SET_DIR.relative_to(REPO)),
    }


# ---------------------------------------------------------------- helpers

def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = round(p / 100 * (len(ordered) - 1))
    return ordered[min(rank, len(ordered) - 1)]


def watch_hwm(pid: int) -> list[int]:
    """Polls the VmHWM (KiB) of process `pid` every 10 ms until it exits;
    the list's one element is the latest value seen. (wait4's ru_maxrss is
    no good here: a forked child starts with its parent's resident pages,
    and Linux keeps that high-water mark across exec.)"""
    seen = [0]
    path = Path(f"/proc/{pid}/status")

    def poll() -> None:
        while True:
            try:
                text = path.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    seen[0] = max(seen[0], int(line.split()[1]))
            time.sleep(0.01)
    threading.Thread(target=poll, daemon=True).start()
    return seen


def run_measured(command: list[str], env: dict | None = None) -> dict:
    """Runs `command`; its wall time, CPU seconds (wait4), peak RSS (its
    VmHWM, polled), stdout and stderr."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=REPO)
        hwm = watch_hwm(child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed ({child.returncode}):\n{stderr[-4000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": hwm[0] / 1024, "stdout": stdout, "stderr": stderr}


def base_env(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGTAG")}
    env.update({
        "IMGTAG__INDEX__EDGE__DIR": str(work / "index"),
        "IMGTAG__STORE__URL": str(work / "objects"),
        "IMGTAG_LOG": "warn",
    })
    return env


# ---------------------------------------------------------------- 1. ingest vs Python

def ingest(imgtag: Path, scratch: Path, extra_env: dict | None = None) -> dict:
    """One `imgtag ingest` of the set into a fresh index and store."""
    work = Path(tempfile.mkdtemp(dir=scratch, prefix="ingest-"))
    run = run_measured([str(imgtag), "ingest", str(SET_DIR), "--tenant", TENANT, "--json"],
                       env={**base_env(work), **(extra_env or {})})
    shutil.rmtree(work, ignore_errors=True)
    events = [json.loads(line) for line in run["stdout"].splitlines() if line.startswith("{")]
    failed = [e for e in events if e["event"] == "failed"]
    if failed or len(events) != len(SET_FILES):
        raise SystemExit(f"bench: imgtag ingest: {len(events)} events, {len(failed)} failed: "
                         f"{failed[:1]}")
    # The totals line on stderr: "N images in X s (Y images/s; Z s with start-up): ..."
    summary = [l for l in run["stderr"].splitlines() if " images in " in l][-1]
    seconds = float(summary.split(" images in ")[1].split(" ")[0])
    total = float(summary.split("; ")[1].split(" s with")[0])
    # Service time: the stages, without the wait for a CPU permit (the
    # Python reference's latency excludes queueing too).
    service = [sum(v for k, v in e["timings_ms"].items() if k != "queue") for e in events]
    stages: dict[str, float] = {}
    for e in events:
        for k, v in e["timings_ms"].items():
            stages[k] = stages.get(k, 0.0) + v / len(events)
    n = len(events)
    return {
        "images_per_s": n / seconds,
        "seconds": seconds,
        "startup_seconds": total - seconds,
        "cpu_seconds": run["cpu"],
        "images_per_cpu_second": n / run["cpu"],
        "latency_ms": {"p50": percentile(service, 50), "p99": percentile(service, 99)},
        "peak_rss_mib": run["peak_rss_mib"],
        "stage_ms_mean": {k: round(v, 2) for k, v in sorted(stages.items())},
        "processed": sum(e["event"] == "processed" for e in events),
        "duplicates": sum(e["event"] == "duplicate" for e in events),
        "near_duplicate_images": sum(any(d["kind"] == "near" for d in e.get("duplicates", []))
                                     for e in events),
        "ocr_read": sum(bool(e.get("ocr", {}).get("read")) for e in events),
        "note": "CPU seconds (wait4) and peak RSS (VmHWM, polled every 10 ms) of the whole process, start-up included; "
                "images/s over the processing (models loaded)",
    }


def reference(scratch: Path, workers: int) -> dict:
    """The Python reference pipeline with `workers` processes."""
    out = Path(tempfile.mkdtemp(dir=scratch, prefix="reference-"))
    summary_file = out / "summary.json"
    run_measured([sys.executable, str(REPO / "scripts" / "bench_reference.py"), "--images",
                  str(SET_DIR), "--out", str(out / "run"), "--workers", str(workers),
                  "--json", str(summary_file)])
    r = json.loads(summary_file.read_text())
    shutil.rmtree(out, ignore_errors=True)
    if r["failed"]:
        raise SystemExit(f"bench: the Python reference failed on {r['failed']} images: "
                         f"{r['failures'][:1]}")
    return {
        "images_per_s": r["images_per_s"],
        "seconds": r["seconds"],
        "startup_seconds": r["startup_seconds"],
        "cpu_seconds": r["cpu_seconds"]["total"],
        "images_per_cpu_second": r["cpu_seconds"]["images_per_cpu_second"],
        "latency_ms": {"p50": r["latency_ms"]["p50"], "p99": r["latency_ms"]["p99"]},
        "peak_rss_mib": r["peak_rss_mib"]["tree_sampled_rss"],
        "peak_pss_mib": r["peak_rss_mib"]["tree_sampled_pss"],
        "stage_ms_mean": {k: round(v, 2) for k, v in sorted(r["stage_ms_mean"].items())},
        "processed": r["processed"],
        "workers": workers,
        "environment": r["environment"],
        "note": "CPU seconds of the processing only (workers + parent); peak RSS sampled over "
                "the process tree every 100 ms",
    }


# ---------------------------------------------------------------- 3. model-only floor

def floor(bench_floor: Path, scratch: Path) -> dict:
    out = scratch / "floor.json"
    run_measured([str(bench_floor), "--images", str(SET_DIR), "--json", str(out)],
                 env=base_env(scratch / "floor"))
    return json.loads(out.read_text())


# ---------------------------------------------------------------- 4. workers over RabbitMQ

class Broker:
    """The bench's queues on the local RabbitMQ (pika), and its capture of
    result events."""

    def __init__(self) -> None:
        import pika

        self.pika = pika
        self.connection = pika.BlockingConnection(pika.URLParameters(AMQP))
        self.channel = self.connection.channel()
        self.queues = [f"{PREFIX}.jobs", f"{PREFIX}.dead", f"{PREFIX}.capture"]

    def config_env(self) -> dict:
        return {
            "IMGTAG__BROKER__URL": AMQP,
            "IMGTAG__BROKER__JOBS_QUEUE": f"{PREFIX}.jobs",
            "IMGTAG__BROKER__DEAD_LETTER_QUEUE": f"{PREFIX}.dead",
            "IMGTAG__BROKER__RETRY_QUEUE_PREFIX": f"{PREFIX}.retry",
            "IMGTAG__BROKER__RESULTS_EXCHANGE": f"{PREFIX}.results",
            "IMGTAG__SOURCES__ALLOWED_ROOTS": f'["{SET_DIR}"]',
        }

    def reset(self) -> None:
        """Deletes what an earlier run may have left (queues, exchange)."""
        channel = self.connection.channel()
        for queue in self.queues + [f"{PREFIX}.retry.{ms}ms" for ms in (1000, 10000, 60000)]:
            channel.queue_delete(queue)
        channel.exchange_delete(f"{PREFIX}.results")
        channel.close()

    def capture(self) -> None:
        self.channel.exchange_declare(f"{PREFIX}.results", "topic", durable=True, passive=True)
        self.channel.queue_declare(f"{PREFIX}.capture")
        self.channel.queue_bind(f"{PREFIX}.capture", f"{PREFIX}.results", "#")

    def wait_events(self, n: int, timeout: float) -> tuple[int, float]:
        """Acks `n` result events; returns (failed events, time of the last)."""
        failed, seen, last = 0, 0, time.perf_counter()
        deadline = time.perf_counter() + timeout
        while seen < n:
            if time.perf_counter() > deadline:
                raise SystemExit(f"bench: only {seen} of {n} result events within {timeout} s")
            method, _, body = self.channel.basic_get(f"{PREFIX}.capture", auto_ack=True)
            if method is None:
                time.sleep(0.005)
                continue
            seen += 1
            last = time.perf_counter()
            failed += json.loads(body)["event"] == "failed"
        return failed, last

    def purge_jobs(self) -> None:
        self.channel.queue_purge(f"{PREFIX}.jobs")

    def close(self) -> None:
        self.reset()
        self.connection.close()


def start_worker(imgtag: Path, core: int, work: Path, env: dict) -> subprocess.Popen:
    env = base_env(work) | env | {"IMGTAG_LOG": "info,lapin=warn"}
    child = subprocess.Popen(["taskset", "-c", str(core), str(imgtag), "worker"], env=env,
                             cwd=REPO, stderr=subprocess.PIPE, text=True)
    ready = threading.Event()

    def read() -> None:
        for line in child.stderr:
            if "consuming" in line:
                ready.set()
    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(120):
        child.kill()
        raise SystemExit("bench: a worker did not start consuming within 120 s")
    return child


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def publish(imgtag: Path, broker: Broker, paths: list[str], scratch: Path) -> float:
    """Publishes one job per file; returns the jobs/s `imgtag publish` reports."""
    run = run_measured([str(imgtag), "publish", *paths, "--tenant", TENANT],
                       env=base_env(scratch / "publish") | broker.config_env())
    line = [l for l in run["stderr"].splitlines() if l.startswith("published ")][-1]
    return float(line.split("(")[1].split(" ")[0])


def workers_run(imgtag: Path, broker: Broker, processes: int, scratch: Path) -> dict:
    """`processes` workers, each pinned to its own core and holding its own
    embedded index (one process per data directory); the set published
    once they all consume; images/s from publishing to the last event."""
    broker.reset()
    children = []
    try:
        for core in range(processes):
            work = Path(tempfile.mkdtemp(dir=scratch, prefix=f"worker{core}-"))
            children.append(start_worker(imgtag, core, work, broker.config_env()))
        broker.capture()
        started = time.perf_counter()
        publish(imgtag, broker, [str(SET_DIR)], scratch)
        failed, last = broker.wait_events(len(SET_FILES), 600)
        seconds = last - started
        rss = [peak_rss_mib(c.pid) for c in children]
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(60)
    if failed:
        raise SystemExit(f"bench: {failed} jobs failed in worker mode")
    return {"processes": processes, "images_per_s": len(SET_FILES) / seconds, "seconds": seconds,
            "peak_rss_mib": rss}


def publish_rate(imgtag: Path, broker: Broker, scratch: Path, jobs: int = 10_000) -> dict:
    """`imgtag publish` of `jobs` file jobs (hard links to the set) into
    the queue with no consumer; the queue is purged afterwards."""
    links = scratch / "publish-links"
    links.mkdir()
    for i in range(jobs):
        source = SET_FILES[i % len(SET_FILES)]
        os.link(source, links / f"{i:05d}{source.suffix}")
    broker.reset()
    # The jobs queue must exist for publish's topology check; publish declares it.
    rate = publish(imgtag, broker, [str(links)], scratch)
    broker.purge_jobs()
    broker.reset()
    shutil.rmtree(links)
    return {"jobs": jobs, "jobs_per_second": rate,
            "note": "publisher confirms in windows of 256; the jobs reference files (no bytes inline)"}


# ---------------------------------------------------------------- report

def machine(imgtag: Path) -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    git = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True,  # noqa: E731
                                    text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "commit": git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain",
                                                                           "--untracked-files=no") else ""),
        "imgtag": subprocess.run([str(imgtag), "--version"], capture_output=True,
                                 text=True).stdout.strip(),
        "profile": "release (thin LTO)",
        "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }


def row(key: str | None, what: str, ours: float, peer: float | None, ratio: float | None,
        unit: str, peer_name: str) -> dict:
    met, target = None, None
    if key in TARGETS:
        field, op, value, target = TARGETS[key]
        got = ratio if field == "ratio" else ours
        met = got >= value if op == ">=" else got <= value
    return {"key": key, "what": what, "ours": ours, "peer": peer, "peer_name": peer_name,
            "ratio": ratio, "unit": unit, "target": target, "met": met}


def rows_of(r: dict) -> list[dict]:
    ing, ref = r["ingest"]["best"], r["reference"]["best"]
    thumb, fl, wk = r["thumbnail"], r["floor"], r["workers"]
    overhead = (fl["images_per_second"] / ing["images_per_s"] - 1) * 100
    py = f"Python reference, {ref['workers']} processes"
    off, ocr = r["ingest_ocr_off"]["best"], r["ocr_documents"]
    gate = (ing["cpu_seconds"] / off["cpu_seconds"] - 1) * 100
    return [
        row("e2e", "end to end: images/s (ingest, 2 cores)", ing["images_per_s"], ref["images_per_s"],
            ing["images_per_s"] / ref["images_per_s"], "images/s", py),
        row("e2e_per_cpu", "end to end: images per CPU second", ing["images_per_cpu_second"],
            ref["images_per_cpu_second"], ing["images_per_cpu_second"] / ref["images_per_cpu_second"],
            "images/CPU-s", py),
        row("latency_p50", "latency per image, p50 (service time)", ing["latency_ms"]["p50"],
            ref["latency_ms"]["p50"], ref["latency_ms"]["p50"] / ing["latency_ms"]["p50"], "ms", py),
        row("latency_p99", "latency per image, p99 (service time)", ing["latency_ms"]["p99"],
            ref["latency_ms"]["p99"], ref["latency_ms"]["p99"] / ing["latency_ms"]["p99"], "ms", py),
        row("rss", "peak RSS during the run", ing["peak_rss_mib"], ref["peak_rss_mib"],
            ref["peak_rss_mib"] / ing["peak_rss_mib"], "MiB", py),
        row("thumbnail", "thumbnail path: images/s (1 core, process per image)",
            thumb["imgtag_images_per_s"], thumb["vipsthumbnail_images_per_s"],
            thumb["ratio_imgtag_over_vips"], "images/s", "vipsthumbnail"),
        row(None, "model-only floor: images/s (models alone, 2 threads)", fl["images_per_second"],
            None, None, "images/s", ""),
        row("overhead", "pipeline overhead over the model-only floor", overhead, None, None, "%", ""),
        row(None, "worker over RabbitMQ, 1 process (1 core)", wk[0]["images_per_s"], None, None,
            "images/s", ""),
        row(None, "worker over RabbitMQ, 2 processes (1 core each)", wk[1]["images_per_s"], None,
            None, "images/s", ""),
        row("scaling", "worker scaling, 2 processes over 1", wk[1]["images_per_s"] / wk[0]["images_per_s"],
            None, None, "x", ""),
        row(None, f"imgtag publish ({r['publish']['jobs']} jobs)", r["publish"]["jobs_per_second"], None,
            None, "jobs/s", ""),
        row("ocr_gate", f"OCR in auto: ingest CPU over OCR off (photo set; {ing['ocr_read']} of "
            f"{ing['processed'] + ing['duplicates']} read)", gate, None, None, "%", ""),
        row("ocr_per_doc", f"OCR: CPU per document ({len(ocr['documents'])} documents, 1 thread)",
            ocr["total"]["imgtag_cpu_s"] / len(ocr["documents"]),
            ocr["total"]["rapidocr_cpu_s"] / len(ocr["documents"]),
            ocr["ratio_rapidocr_over_imgtag"], "s", "rapidocr 3.10.0, same models"),
    ]


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def table(rows: list[dict], m: dict) -> str:
    lines = ["| what | ours | peer | ours better by | unit | target |",
             "|---|---|---|---|---|---|"]
    for x in rows:
        peer = f"{fmt(x['peer'])} ({x['peer_name']})" if x["peer"] is not None else ""
        ratio = f"{x['ratio']:.2f}x" if x["ratio"] is not None else ""
        target = ""
        if x["target"]:
            target = f"{x['target']}: {'met' if x['met'] else 'NOT met'}"
        lines.append(f"| {x['what']} | {fmt(x['ours'], x['unit'])} | {peer} | {ratio} | {x['unit']} | {target} |")
    lines.append("")
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
                 f"imgtag {m['commit']} ({m['profile']}), {m['rustc']}, Python {m['python']}.")
    return "\n".join(lines)


def write_benchmarks_md(text: str) -> None:
    path = REPO / "BENCHMARKS.md"
    doc = path.read_text()
    begin, end = doc.index(TABLE_BEGIN) + len(TABLE_BEGIN), doc.index(TABLE_END)
    path.write_text(doc[:begin] + "\n" + text + "\n" + doc[end:])


# ---------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--imgtag", type=Path, required=True, help="the release imgtag binary")
    parser.add_argument("--bench-floor", type=Path, required=True, help="the bench_floor example")
    parser.add_argument("--ocr", type=Path, required=True, help="the imgtag-models `ocr` example")
    parser.add_argument("--rounds", type=int, default=2, help="runs of ingest and of the reference")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument("--no-markdown", action="store_true", help="leave BENCHMARKS.md as it is")
    args = parser.parse_args()
    bench_thumbnail.require_tools()

    global SET_FILES
    SET_FILES = make_set()
    results: dict = {"machine": machine(args.imgtag), "set": describe_set(SET_FILES)}
    log(f"image set: {results['set']['images']} images, {results['set']['megapixels']['min']}-"
        f"{results['set']['megapixels']['max']} MP, {results['set']['megapixels']['total']} MP in all")
    scratch = Path(tempfile.mkdtemp(prefix="imgtag-bench-"))
    try:
        # Alternate the two so that drift in the machine's speed hits both.
        ours, without_ocr, peers = [], [], []
        for round_ in range(args.rounds):
            log(f"round {round_ + 1}/{args.rounds}: imgtag ingest")
            ours.append(ingest(args.imgtag, scratch))
            log(f"  {ours[-1]['images_per_s']:.2f} images/s, {ours[-1]['images_per_cpu_second']:.2f} "
                f"images/CPU-s, peak RSS {ours[-1]['peak_rss_mib']:.0f} MiB, "
                f"{ours[-1]['ocr_read']} read by OCR")
            log(f"round {round_ + 1}/{args.rounds}: imgtag ingest, OCR off")
            without_ocr.append(ingest(args.imgtag, scratch, OCR_OFF))
            log(f"  {without_ocr[-1]['images_per_s']:.2f} images/s, "
                f"{without_ocr[-1]['cpu_seconds']:.1f} CPU s, peak RSS "
                f"{without_ocr[-1]['peak_rss_mib']:.0f} MiB")
            log(f"round {round_ + 1}/{args.rounds}: Python reference, {os.cpu_count()} processes")
            peers.append(reference(scratch, os.cpu_count() or 2))
            log(f"  {peers[-1]['images_per_s']:.2f} images/s, {peers[-1]['images_per_cpu_second']:.2f} "
                f"images/CPU-s, peak RSS {peers[-1]['peak_rss_mib']:.0f} MiB")
        best = lambda runs: max(runs, key=lambda x: x["images_per_s"])  # noqa: E731
        results["ingest"] = {"best": best(ours), "runs": ours}
        results["reference"] = {"best": best(peers), "runs": peers}
        results["ingest_ocr_off"] = {"best": best(without_ocr), "runs": without_ocr}

        log("OCR per document: imgtag's engine and rapidocr's pipeline (scripts/bench_ocr.py)")
        results["ocr_documents"] = bench_ocr.measure(args.ocr, scratch)
        log("\n" + bench_ocr.table(results["ocr_documents"]))

        log("thumbnail path against vipsthumbnail (images of 12 MP and more)")
        large = [f for f in SET_FILES if f.stem.endswith("mp") and float(f.stem.split("-")[-1][:-2]) >= 12]
        results["thumbnail"] = bench_thumbnail.measure(args.imgtag, large, scratch / "thumbs", 3)

        log("model-only floor")
        results["floor"] = floor(args.bench_floor, scratch)

        log("workers over RabbitMQ: 1 process, then 2")
        broker = Broker()
        try:
            results["workers"] = [workers_run(args.imgtag, broker, n, scratch) for n in (1, 2)]
            log("publish rate")
            results["publish"] = publish_rate(args.imgtag, broker, scratch)
        finally:
            broker.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    rows = rows_of(results)
    results["rows"] = rows
    text = table(rows, results["machine"])
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    if not args.no_markdown:
        write_benchmarks_md(text)
    log(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}"
        + ("" if args.no_markdown else " and BENCHMARKS.md"))
    return 0


SET_FILES: list[Path] = []

if __name__ == "__main__":
    sys.exit(main())
