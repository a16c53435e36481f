#!/usr/bin/env python3
"""Python reference pipeline: the per-image work of `imgtag ingest`, done the
way a Python ML service (Immich ML, PhotoPrism-style) would, as the peer the
Rust pipeline is benchmarked against.

    python3 scripts/bench_reference.py --images DIR --out DIR [--workers N] [--json RESULT.json]

Runs in the parity venv plus scripts/requirements-bench.txt (qdrant-client):

    scripts/parity --help     # creates .imgtag/venv-parity if needed (cheap)
    .imgtag/venv-parity/bin/python -m pip install --require-hashes --no-deps \\
        --only-binary=:all: -r scripts/requirements-bench.txt
    .imgtag/venv-parity/bin/python scripts/bench_reference.py \\
        --images .imgtag/samples --out /tmp/bench-ref --workers 1 --json /tmp/bench-ref.json

Per image (in a worker process; N processes, because of the GIL), mirroring
pipeline/src/stage.rs + workers/src/analyzers/ + workers/src/process/:

  1. read the bytes; SHA-256 of them;
  2. decode once with Pillow: Image.open, JPEG shrink-on-load with
     Image.draft at the DCT scale imgtag's ShrinkHint allows (long side stays
     >= the largest rendition, 1280, short side >= the model input's 512),
     embedded ICC profile -> sRGB (ImageCms), EXIF orientation
     (ImageOps.exif_transpose, in place), EXIF fields (camera, date, GPS);
  3. analysis image: Rec. 709 luma (as the `image` crate's to_luma8), long
     side <= 512 (Pillow BILINEAR, antialiased like fast_image_resize);
     pHash as image_hasher does it (16x16 Lanczos, unnormalised 2-D DCT-II,
     top-left 8x8 against their median, LSB-first bits); quality signals
     (4-neighbour Laplacian variance, mean luma, clipped fractions, flags);
  4. renditions (pipeline/src/rendition.rs default_renditions): `preview`
     1280 px and `thumb` 256 px long side, never upscaled, largest first and
     each smaller one from the previous, Pillow LANCZOS (imgtag: Lanczos3),
     WebP quality 80 method 4 (libwebp's default), no metadata;
  5. model input: short side bounded to 512 (LANCZOS), RGB; then the
     preprocessing of scripts/parity_reference.py (classifier_crop /
     classifier_tensor, nsfw_crop(.., "package") / nsfw_tensor) and one
     onnxruntime run per model at batch 1 (sessions built by
     parity_reference.session: CPU, intra_op_num_threads --intra-op-threads,
     inter_op 1, sequential, ORT_ENABLE_ALL);
  6. tags: top-5 classes with probability >= 0.1, friendly (hierarchy) tags
     from models/data/, check and EXIF tags; NSFW score; 1280-d embedding;
     the 512-d ConSE semantic vector (models/src/semantic.rs) from the label
     vectors imgtag caches in .imgtag/cache/conse-labels-*.safetensors
     (cache key re-computed here and checked); without that cache, the
     label vectors are computed before the run (not timed) with the text
     encoder, Universal Sentence Encoder Multilingual v3 int8, as
     scripts/parity_reference.py runs it: one label text per run;
  7. objects written durably (temp file, fsync, rename, fsync directories):
     the renditions and the original, keyed tenant/image_id/name.ext.

The parent process is the index writer (one writer, as qdrant local mode
requires): per image a duplicate look-up (same id, same sha256, pHash-band
candidates checked by Hamming distance and embedding cosine) and an upsert
into qdrant-client's local mode (QdrantClient(path=...)), named vectors
`image` (1280) and `semantic_v2` (512; workers/src/index/layout.rs), the
record imgtag stores as payload.

Timing: `seconds` is the wall time from the first image handed out to the
last one indexed, models already loaded; `startup_seconds` (spawning the
workers, imports, model loads, label vectors, opening the index) is
reported apart. Latency per image = the worker's time for it + the parent's
index time for it (queueing excluded).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import platform
import queue
import resource
import shutil
import statistics
import sys
import threading
import time
import tomllib
import traceback
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

# --- imgtag's defaults (each with where it comes from) -----------------------
RENDITIONS = [("thumb", 256), ("preview", 1280)]  # pipeline/src/rendition.rs
WEBP_QUALITY = 80
WEBP_METHOD = 4  # libwebp's default, what the `webp` crate's WebPConfig::new() keeps
MODEL_INPUT_SHORT_SIDE = 512  # pipeline/src/stage.rs PipelineConfig
ANALYSIS_MAX_SIDE = 512  # pipeline/src/analysis.rs
MIN_SIDE, BLUR_VARIANCE, DARK_MEAN, BRIGHT_MEAN, CLIPPED = 224, 100.0, 50.0, 205.0, 0.5  # quality.rs
TOP_K, CLASS_THRESHOLD, NSFW_THRESHOLD, CONSE_TOP_T = 5, 0.1, 0.8, 5  # workers/src/analyzers/
PHASH_MAX_DISTANCE, MIN_COSINE, MAX_DUPLICATE_CANDIDATES = 6, 0.9, 2000  # workers/src/index
MAX_INPUT_BYTES, MAX_SIDE, MAX_PIXELS = 64 * 1024 * 1024, 20_000, 100_000_000  # decode.rs
IMAGE_ID_NAMESPACE = uuid.UUID(int=0x6F0C2B7E4A514D0E9C3F81A2D5E7B914)  # workers/src/index/ids.rs
COLLECTION = "images"
SEMANTIC_VECTOR = "semantic_v2"  # workers/src/index/layout.rs VectorName::Semantic
MARKER = ".bench_reference"
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"}


# ---------------------------------------------------------------------------
# Shared, built once in the parent and handed to the workers
# ---------------------------------------------------------------------------


def load_vocabulary(models: Path) -> dict:
    """Labels, friendly tags and the ConSE label texts, as imgtag builds them
    (models/src/labels.rs, friendly.rs, semantic.rs)."""
    names = {}
    for line in (models / "imagenet_synset_to_lemma.txt").read_text(encoding="utf-8").splitlines():
        wnid, _, lemmas = line.partition("\t")
        names[wnid.strip()] = lemmas.split(", ")[0].strip()
    wnids = [w.strip() for w in (models / "imagenet_synsets.txt").read_text().splitlines() if w.strip()]
    labels = [names[w] for w in wnids]

    hierarchy_text = (REPO / "models/data/imagenet_hierarchy.json").read_text(encoding="utf-8")
    friendly_text = (REPO / "models/data/friendly_tags.toml").read_text(encoding="utf-8")
    hierarchy = json.loads(hierarchy_text)
    synsets = hierarchy["synsets"]
    ancestor_sets, ancestors = [], []
    for position, cls in enumerate(hierarchy["classes"]):
        assert cls["index"] == position and cls["wnid"] == wnids[position], cls
        order, seen, i = [cls["wnid"]], {cls["wnid"]}, 0
        while i < len(order):  # breadth-first over every parent
            for parent in synsets[order[i]]["parents"]:
                if parent not in seen:
                    seen.add(parent)
                    order.append(parent)
            i += 1
        ancestors.append([synsets[w]["lemmas"][0] for w in order[1:] if synsets[w]["lemmas"]])
        ancestor_sets.append(seen)

    friendly = tomllib.loads(friendly_text)
    default_threshold = float(friendly["default_threshold"])
    tag_names, thresholds, tag_classes = [], [], []
    by_class: list[list[str]] = [[] for _ in wnids]
    for name in sorted(friendly["tag"]):  # a BTreeMap in Rust
        entry = friendly["tag"][name]
        include, exclude = entry["synsets"], entry.get("exclude", [])
        classes = [i for i, s in enumerate(ancestor_sets)
                   if any(x in s for x in include) and not any(x in s for x in exclude)]
        for c in classes:
            by_class[c].append(name)
        tag_names.append(name)
        thresholds.append(float(entry.get("threshold", default_threshold)))
        tag_classes.append(classes)

    texts = []
    for i, label in enumerate(labels):
        text = label
        if ancestors[i][:2]:
            text += ", a kind of " + ", ".join(ancestors[i][:2])
        if by_class[i]:
            text += "; " + ", ".join(t.replace("_", " ") for t in by_class[i])
        texts.append(text)
    friendly_version = hashlib.sha256((hierarchy_text + friendly_text).encode()).hexdigest()[:12]
    return {
        "labels": labels,
        "friendly_names": tag_names,
        "friendly_thresholds": thresholds,
        "friendly_classes": tag_classes,
        "label_texts": texts,
        "friendly_version": friendly_version,
    }


def manifest_models() -> dict:
    data = tomllib.loads((REPO / "models/manifest.toml").read_text())
    return data["model"]


def read_safetensors(path: Path, tensor: str) -> tuple[dict, "np.ndarray"]:
    import numpy as np

    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    meta = header.get("__metadata__", {})
    t = header[tensor]
    if t["dtype"] != "F32":
        raise ValueError(f"{path}: {tensor} is {t['dtype']}, not F32")
    start, end = t["data_offsets"]
    data = np.frombuffer(raw, dtype="<f4", count=(end - start) // 4, offset=8 + n + start)
    return meta, data.reshape(t["shape"]).astype(np.float32)


def text_dimensions() -> int:
    """Length of the text encoder's vectors: the manifest's `[model.text]`
    output `outputs` [batch, 512] (models/src/text.rs `dimensions`)."""
    (shape,) = [o["shape"] for o in manifest_models()["text"]["outputs"] if o["name"] == "outputs"]
    return int(shape[-1])


def conse_label_vectors(vocab: dict, models: Path, cache_dir: Path, work: Path) -> tuple[Path, str]:
    """The label vectors imgtag caches (models/src/semantic.rs), found by the
    same cache key; if absent, computed here into `work` (once, not timed).

    Computed the way imgtag computes them (Conse::build: one label text per
    run of the text encoder, L2-normalised), by scripts/parity_reference.py's
    TextReference: Universal Sentence Encoder Multilingual v3 int8, the
    original graph from its wheel with onnxruntime-extensions (string in,
    tokenisation inside), each text first cut to the manifest's max_tokens
    as imgtag's tokenizer cuts it (no label text is that long).
    """
    import numpy as np

    manifest = manifest_models()
    rows, columns = len(vocab["labels"]), text_dimensions()
    h = hashlib.sha256()
    h.update(b"imgtag conse label vectors v1\n")
    h.update(manifest["text"]["sha256"].encode())
    h.update(b"\n")
    for text in vocab["label_texts"]:
        h.update(text.encode())
        h.update(b"\n")
    key = h.hexdigest()
    path = cache_dir / f"conse-labels-{key[:16]}.safetensors"
    if path.is_file():
        meta, vectors = read_safetensors(path, "label_vectors")
        if meta.get("imgtag.cache_key") == key and vectors.shape == (rows, columns):
            return path, "imgtag cache (key verified)"
    print(f"bench: no valid ConSE label-vector cache at {path}; computing {rows} label vectors "
          f"with {manifest['text']['id']} (once, not timed)", file=sys.stderr)
    import parity_reference as pr

    graph, _, max_tokens = pr.text_graph(models.parent)
    encoder = pr.TextReference(graph, max_tokens)
    vectors = np.stack([encoder.embed(encoder.encode(t)["graph_text"])
                        for t in vocab["label_texts"]]).astype(np.float32)
    if vectors.shape != (rows, columns):
        sys.exit(f"bench: error: label vectors of shape {vectors.shape}, expected {(rows, columns)}")
    out = work / "conse_label_vectors.npy"
    np.save(out, vectors)
    return out, f"computed by this script with {manifest['text']['id']} (no imgtag cache)"


# ---------------------------------------------------------------------------
# Worker: everything per image up to the objects written
# ---------------------------------------------------------------------------


class Worker:
    def __init__(self, cfg: dict) -> None:
        import numpy as np
        import parity_reference as pr
        from PIL import Image, ImageCms, ImageOps

        self.np, self.pr, self.Image, self.ImageCms, self.ImageOps = np, pr, Image, ImageCms, ImageOps
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's bomb check (error at 2x)
        self.cfg = cfg
        models = Path(cfg["models"])
        expected = pr.load_manifest_sha256s()
        for name in (pr.CLASSIFIER_FILE, pr.NSFW_FILE):
            pr.check_file(models / name, expected)  # imgtag checks sha256 at load too
        threads = cfg["intra_op_threads"]
        self.cls = pr.session(models / pr.CLASSIFIER_FILE, threads)
        self.nsfw = pr.session(models / pr.NSFW_FILE, threads)
        vocab = cfg["vocab"]
        self.labels = vocab["labels"]
        self.tag_names = [tag_name(label) for label in self.labels]
        n_classes = len(self.labels)
        m = np.zeros((len(vocab["friendly_names"]), n_classes), dtype=np.float32)
        for row, classes in enumerate(vocab["friendly_classes"]):
            m[row, classes] = 1.0
        self.friendly_matrix = m
        self.friendly_names = vocab["friendly_names"]
        self.friendly_thresholds = np.array(vocab["friendly_thresholds"], dtype=np.float32)
        lv = Path(cfg["label_vectors"])
        self.label_vectors = (np.load(lv) if lv.suffix == ".npy"
                              else read_safetensors(lv, "label_vectors")[1])
        self.srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        self.icc_transforms: dict[bytes, object] = {}
        # DCT-II basis as image_hasher's (rustdct, unnormalised), for 16x16.
        n = 16
        k = np.arange(n)[:, None]
        self.dct = np.cos(np.pi / n * (np.arange(n)[None, :] + 0.5) * k)
        self.objects = Path(cfg["out"]) / "objects"
        self.tenant = cfg["tenant"]

    # -- decode ------------------------------------------------------------

    def decode(self, data: bytes):
        Image = self.Image
        if not data:
            raise ValueError("empty input")
        if len(data) > MAX_INPUT_BYTES:
            raise ValueError(f"{len(data)} bytes > {MAX_INPUT_BYTES}")
        im = Image.open(io.BytesIO(data))
        width, height = im.size
        if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
            raise ValueError(f"{width}x{height} exceeds the decode limits")
        fmt = (im.format or "unknown").lower()
        frames = getattr(im, "n_frames", 1)
        exif = im.getexif()
        orientation = exif.get(0x0112, 1)
        if fmt == "jpeg" and im.mode in ("RGB", "L"):
            # imgtag's ShrinkHint: long side >= max(largest rendition, analysis
            # 512), short side >= the model input's 512 (or the original).
            s = jpeg_shrink(width, height, max(max(r for _, r in RENDITIONS), ANALYSIS_MAX_SIDE),
                            MODEL_INPUT_SHORT_SIDE)
            if s > 1:
                im.draft(im.mode, (width // s, height // s))
        im.load()
        icc = im.info.get("icc_profile")
        if orientation in (2, 3, 4, 5, 6, 7, 8):
            self.ImageOps.exif_transpose(im, in_place=True)
        if icc and im.mode in ("RGB", "RGBA", "L", "CMYK"):
            im = self.to_srgb(im, icc)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
            im.mode == "P" and "transparency" in im.info)
        if has_alpha and im.mode != "RGBA":
            im = im.convert("RGBA")
        elif not has_alpha and im.mode != "RGB":
            im = im.convert("RGB")
        meta = {"format": fmt, "width": width, "height": height, "frames": frames,
                **exif_fields(exif)}
        return im, meta

    def to_srgb(self, im, icc: bytes):
        ImageCms = self.ImageCms
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        key = (icc, im.mode)
        transform = self.icc_transforms.get(key)
        if transform is None:
            try:
                src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                transform = ImageCms.buildTransform(src, self.srgb, im.mode, out_mode)
            except (ImageCms.PyCMSError, OSError, ValueError):
                transform = False  # unusable profile: pixels kept as they are, as imgtag does
            if len(self.icc_transforms) > 64:
                self.icc_transforms.clear()
            self.icc_transforms[key] = transform
        if not transform:
            return im
        return ImageCms.applyTransform(im, transform)

    # -- analysis image, pHash, quality ------------------------------------

    def analysis(self, rgb, width: int, height: int) -> tuple[str, dict]:
        np, Image = self.np, self.Image
        grey = rgb.convert("L", (0.2126, 0.7152, 0.0722, 0))  # to_luma8's Rec. 709 weights
        w, h = grey.size
        if max(w, h) > ANALYSIS_MAX_SIDE:
            grey = grey.resize(fitted_size(w, h, ANALYSIS_MAX_SIDE), Image.Resampling.BILINEAR)
        small = np.asarray(grey.resize((16, 16), Image.Resampling.LANCZOS), dtype=np.float32)
        coeffs = (self.dct @ small @ self.dct.T)[:8, :8].ravel()
        bits = coeffs >= np.median(coeffs)
        phash = int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "big")

        a = np.asarray(grey, dtype=np.int32)
        mean = float(a.mean())
        dark = float((a <= 10).mean())
        bright = float((a >= 245).mean())
        if a.shape[0] >= 3 and a.shape[1] >= 3:
            lap = (a[1:-1, :-2] + a[1:-1, 2:] + a[:-2, 1:-1] + a[2:, 1:-1] - 4 * a[1:-1, 1:-1])
            sharpness = float(lap.var(dtype=np.float64))
        else:
            sharpness = 0.0
        flags = [name for name, on in (
            ("too_small", min(width, height) < MIN_SIDE),
            ("blurry", sharpness < BLUR_VARIANCE),
            ("underexposed", mean < DARK_MEAN or dark > CLIPPED),
            ("overexposed", mean > BRIGHT_MEAN or bright > CLIPPED),
        ) if on]
        return f"{phash:016x}", {"sharpness": sharpness, "mean_luma": mean, "dark_fraction": dark,
                                 "bright_fraction": bright, "flags": flags}

    # -- renditions ---------------------------------------------------------

    def renditions(self, im) -> list[tuple[str, int, int, bytes]]:
        Image = self.Image
        made = []
        source = im
        for name, side in sorted(RENDITIONS, key=lambda r: -r[1]):
            size = fitted_size(source.width, source.height, side)
            if size != source.size:
                source = source.resize(size, Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            source.save(buf, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
            made.append((name, source.width, source.height, buf.getvalue()))
        return made

    # -- models -------------------------------------------------------------

    def model_input(self, im):
        w, h = im.size
        short, long = min(w, h), max(w, h)
        bound = -(-long * MODEL_INPUT_SHORT_SIDE // short) if short > MODEL_INPUT_SHORT_SIDE else long
        size = fitted_size(w, h, bound)
        if size != im.size:
            im = im.resize(size, self.Image.Resampling.LANCZOS)
        return im if im.mode == "RGB" else im.convert("RGB")

    def infer(self, rgb) -> tuple:
        pr, np = self.pr, self.np
        t0 = time.perf_counter()
        x_cls = pr.classifier_tensor(pr.classifier_crop(rgb))[None]
        x_nsfw = pr.nsfw_tensor(pr.nsfw_crop(rgb, "package"))[None]
        t1 = time.perf_counter()
        logits, emb = self.cls.run(["logits", "embedding"], {"input": x_cls})
        (out,) = self.nsfw.run(["outputs"], {"input:0": x_nsfw})
        t2 = time.perf_counter()
        probs = pr.softmax(logits[0]).astype(np.float32)
        embedding = pr.l2_normalise(emb[0]).astype(np.float32)
        nsfw = float(min(max(out[0, 1], 0.0), 1.0))
        top = np.argsort(-probs, kind="stable")
        classes = [(int(i), self.labels[i], float(probs[i])) for i in top[:TOP_K]]
        tags = [{"name": self.tag_names[i], "score": p, "source": "classifier"}
                for i, _, p in classes if p >= CLASS_THRESHOLD]
        scores = np.minimum(self.friendly_matrix @ probs, 1.0)
        hits = [(float(scores[j]), self.friendly_names[j]) for j in np.nonzero(scores >= self.friendly_thresholds)[0]]
        hits.sort(key=lambda s: (-s[0], s[1]))
        tags += [{"name": n, "score": s, "source": "hierarchy"} for s, n in hits]
        sem = (probs[top[:CONSE_TOP_T], None] * self.label_vectors[top[:CONSE_TOP_T]]).sum(axis=0)
        semantic = (sem / max(float(np.linalg.norm(sem)), 1e-12)).astype(np.float32)
        t3 = time.perf_counter()
        return classes, tags, embedding, semantic, nsfw, (t1 - t0, t2 - t1, t3 - t2)

    # -- one image ----------------------------------------------------------

    def process(self, path: str) -> dict:
        st = {}
        t = time.perf_counter()
        started = t

        def lap(name: str) -> None:
            nonlocal t
            now = time.perf_counter()
            st[name] = now - t
            t = now

        data = Path(path).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        lap("read_sha256")
        im, meta = self.decode(data)
        lap("decode")
        rgb = im if im.mode == "RGB" else im.convert("RGB")
        phash, quality = self.analysis(rgb, meta["width"], meta["height"])
        lap("analysis")
        rends = self.renditions(im)
        lap("renditions")
        model_rgb = self.model_input(rgb)
        lap("model_input")
        classes, tags, embedding, semantic, nsfw, (prep, inf, post) = self.infer(model_rgb)
        st["model_preprocess"], st["inference"], st["postprocess"] = prep, inf, post
        t = time.perf_counter()
        tags += [{"name": f, "score": 1.0, "source": "check"} for f in quality["flags"]]
        if meta.get("gps"):
            tags.append({"name": "geotagged", "score": 1.0, "source": "exif"})
        if meta.get("camera"):
            tags.append({"name": "camera_photo", "score": 1.0, "source": "exif"})

        image_id = str(uuid.uuid5(IMAGE_ID_NAMESPACE, f"{self.tenant}\n{sha}"))
        records = {}
        for name, w, h, blob in rends:
            key = f"{self.tenant}/{image_id}/{name}.webp"
            put_durably(self.objects, key, blob)
            records[name] = {"uri": key, "format": "webp", "bytes": len(blob), "width": w, "height": h}
        key = f"{self.tenant}/{image_id}/original.{meta['format']}"
        put_durably(self.objects, key, data)
        records["original"] = {"uri": key, "format": meta["format"], "bytes": len(data)}
        lap("store")
        return {
            "path": path, "image_id": image_id, "sha256": sha, "phash": phash, "quality": quality,
            "metadata": meta, "classes": classes, "tags": tags, "nsfw": nsfw,
            "embedding": embedding, "semantic": semantic, "renditions": records,
            "stages": st, "worker_seconds": time.perf_counter() - started,
        }


def tag_name(label: str) -> str:
    """models/src/tags.rs tag_name: lowercase, runs of other chars as `_`."""
    out = []
    for c in label.lower():
        if c.isalnum():
            out.append(c)
        elif out and out[-1] != "_":
            out.append("_")
    return "".join(out).rstrip("_")


def fitted_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """pipeline/src/resize.rs fitted_size (round half away from zero)."""
    long = max(width, height)
    if long <= max_side:
        return width, height
    scale = max_side / long
    fit = lambda side: min(max(int(math.floor(side * scale + 0.5)), 1), max_side)  # noqa: E731
    return fit(width), fit(height)


def jpeg_shrink(width: int, height: int, min_long: int, min_short: int) -> int:
    """pipeline/src/decode/jpeg.rs shrink_factor: the smallest of 1/8, 1/4,
    1/2 keeping both bounds (libjpeg scales round up)."""
    long, short = max(width, height), min(width, height)
    need_long, need_short = min(min_long, long), min(min_short, short)
    for s in (8, 4, 2):
        if -(-long // s) >= need_long and -(-short // s) >= need_short:
            return s
    return 1


def exif_fields(exif) -> dict:
    out = {}
    make, model = (str(exif.get(t) or "").strip() for t in (0x010F, 0x0110))
    camera = " ".join(p for p in (make, model) if p)
    if camera:
        out["camera"] = camera
    try:
        sub = exif.get_ifd(0x8769)
        taken = sub.get(0x9003) or exif.get(0x0132)
        if taken:
            out["captured_at"] = str(taken).strip()
        gps = exif.get_ifd(0x8825)
        if gps and 2 in gps and 4 in gps:
            def deg(v, ref):
                d = float(v[0]) + float(v[1]) / 60 + float(v[2]) / 3600
                return -d if ref in ("S", "W") else d
            out["gps"] = {"lat": deg(gps[2], gps.get(1)), "lon": deg(gps[4], gps.get(3))}
    except Exception:  # noqa: BLE001 - metadata problems never reject an image
        pass
    return out


def put_durably(root: Path, key: str, data: bytes) -> None:
    """Like workers/src/store.rs put: atomic replace, then fsync the file and
    every directory up to the root."""
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    d = path.parent
    while True:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if d == root or root not in d.parents:
            break
        d = d.parent


def vm_hwm_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker_main(cfg: dict, tasks, results) -> None:
    t0 = time.perf_counter()
    try:
        worker = Worker(cfg)
    except Exception:  # noqa: BLE001
        results.put(("load_failed", os.getpid(), traceback.format_exc()))
        return
    cpu0 = time.process_time()
    results.put(("ready", os.getpid(), time.perf_counter() - t0))
    while True:
        path = tasks.get()
        if path is None:
            break
        try:
            results.put(("done", path, worker.process(path)))
        except Exception as error:  # noqa: BLE001 - one bad image fails alone
            results.put(("failed", path, f"{type(error).__name__}: {error}"))
    results.put(("exit", os.getpid(), {"cpu_seconds": time.process_time() - cpu0,
                                       "peak_rss_kib": vm_hwm_kib()}))


# ---------------------------------------------------------------------------
# Parent: the index writer
# ---------------------------------------------------------------------------


class IndexWriter:
    def __init__(self, path: Path, tenant: str, model_versions: dict) -> None:
        from qdrant_client import QdrantClient, models

        self.m = models
        self.client = QdrantClient(path=str(path))
        self.client.create_collection(COLLECTION, vectors_config={
            "image": models.VectorParams(size=1280, distance=models.Distance.COSINE),
            SEMANTIC_VECTOR: models.VectorParams(size=text_dimensions(), distance=models.Distance.COSINE),
        })
        self.tenant = tenant
        self.model_versions = model_versions
        self.models_key = hashlib.sha256(json.dumps(model_versions, sort_keys=True).encode()).hexdigest()[:16]

    def duplicates(self, r: dict, phash: int) -> list[dict]:
        """workers/src/index/scope.rs duplicates: same sha256, then pHash-band
        candidates confirmed by Hamming distance and image-vector cosine."""
        import numpy as np

        m = self.m
        tenant = m.FieldCondition(key="tenant_id", match=m.MatchValue(value=self.tenant))
        found, skip = [], [r["image_id"]]
        exact, _ = self.client.scroll(COLLECTION, scroll_filter=m.Filter(must=[
            tenant, m.FieldCondition(key="sha256", match=m.MatchValue(value=r["sha256"]))]),
            limit=64, with_payload=False)
        for p in exact:
            if str(p.id) != r["image_id"]:
                found.append({"image_id": str(p.id), "kind": "same_bytes"})
                skip.append(str(p.id))
        bands = [f"{b}:{(phash >> (b * 8)) & 0xFF:02x}" for b in range(8)]
        flt = m.Filter(must=[tenant, m.FieldCondition(key="phash_bands", match=m.MatchAny(any=bands))],
                       must_not=[m.HasIdCondition(has_id=skip)])
        query = r["embedding"]
        offset, examined = None, 0
        while True:
            page, offset = self.client.scroll(COLLECTION, scroll_filter=flt, limit=256, offset=offset,
                                              with_payload=["phash"], with_vectors=["image"])
            examined += len(page)
            for p in page:
                distance = (int(p.payload["phash"], 16) ^ phash).bit_count()
                if distance > PHASH_MAX_DISTANCE:
                    continue
                v = np.asarray(p.vector["image"], dtype=np.float32)
                cosine = float(query @ v) / max(float(np.linalg.norm(v)), 1e-12)
                if cosine >= MIN_COSINE:
                    found.append({"image_id": str(p.id), "kind": "near", "phash_distance": distance, "cosine": cosine})
            if offset is None or examined >= MAX_DUPLICATE_CANDIDATES:
                break
        return found

    def write(self, r: dict) -> dict:
        m = self.m
        if self.client.retrieve(COLLECTION, ids=[r["image_id"]], with_payload=False):
            return {"kind": "duplicate", "duplicates": [{"image_id": r["image_id"], "kind": "same_bytes"}]}
        phash = int(r["phash"], 16)
        dups = self.duplicates(r, phash)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        tag_scores: dict[str, dict] = {}
        for t in r["tags"]:
            if t["name"] not in tag_scores or tag_scores[t["name"]]["score"] < t["score"]:
                tag_scores[t["name"]] = {"score": min(max(t["score"], 0.0), 1.0), "source": t["source"]}
        meta = r["metadata"]
        payload = {
            "tenant_id": self.tenant,
            "image_id": r["image_id"],
            "sha256": r["sha256"],
            "phash": r["phash"],
            "phash_bands": [f"{b}:{(phash >> (b * 8)) & 0xFF:02x}" for b in range(8)],
            "tags": sorted(tag_scores),
            "tag_scores": tag_scores,
            "nsfw": {"score": r["nsfw"], "flagged": r["nsfw"] >= NSFW_THRESHOLD},
            "quality": {k: r["quality"][k] for k in ("sharpness", "mean_luma", "flags")},
            "metadata": {"captured_at": meta.get("captured_at"), "camera": meta.get("camera"),
                         "gps": meta.get("gps"), "width": meta["width"], "height": meta["height"],
                         "format": meta["format"]},
            "renditions": {k: {x: v[x] for x in ("uri", "format", "bytes")} for k, v in r["renditions"].items()},
            "source_uri": Path(r["path"]).resolve().as_uri(),
            "filename": Path(r["path"]).name,
            "labels": {},
            "label_pairs": [],
            "model_versions": self.model_versions,
            "models_key": self.models_key,
            "ingested_at": now,
            "updated_at": now,
        }
        self.client.upsert(COLLECTION, wait=True, points=[m.PointStruct(
            id=r["image_id"],
            vector={"image": r["embedding"].tolist(), SEMANTIC_VECTOR: r["semantic"].tolist()},
            payload=payload)])
        return {"kind": "processed", "duplicates": dups}

    def count(self) -> int:
        return self.client.count(COLLECTION).count

    def close(self) -> None:
        self.client.close()


class TreeRss:
    """Samples the summed VmRSS (and PSS) of this process and its descendants."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _tree() -> list[int]:
        """This process and its descendants (/proc/PID/task/TID/children)."""
        out, todo = [], [os.getpid()]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for task in os.scandir(f"/proc/{pid}/task"):
                    with open(f"{task.path}/children") as f:
                        todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
        return out

    @staticmethod
    def _kib(path: str, field: str) -> int:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(field):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = self._tree()
            self.peak_rss = max(self.peak_rss, sum(self._kib(f"/proc/{p}/status", "VmRSS:") for p in pids))
            self.peak_pss = max(self.peak_pss, sum(self._kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
            self._stop.wait(self.interval)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    v = sorted(values)
    pos = (len(v) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def prepare_out(out: Path) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        sys.exit(f"bench: error: {out} is not empty and was not made by this script; give a new directory")
    for sub in ("objects", "index", "work"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for name in ("results.jsonl",):
        (out / name).unlink(missing_ok=True)
    (out / "work").mkdir(parents=True)
    (out / MARKER).write_text("scratch output of scripts/bench_reference.py; rewritten on each run\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, required=True, help="directory of images (not recursive)")
    ap.add_argument("--out", type=Path, required=True, help="output directory (objects/, index/, results.jsonl)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--json", type=Path, help="also write the summary JSON here")
    ap.add_argument("--intra-op-threads", type=int, default=1, help="onnxruntime intra_op_num_threads per session")
    ap.add_argument("--tenant", default="bench")
    ap.add_argument("--models", type=Path, default=REPO / ".imgtag" / "models")
    ap.add_argument("--cache-dir", type=Path, default=REPO / ".imgtag" / "cache",
                    help="imgtag's ConSE label-vector cache directory")
    args = ap.parse_args()
    if args.workers < 1 or args.intra_op_threads < 1:
        ap.error("--workers and --intra-op-threads must be >= 1")
    try:
        import qdrant_client  # noqa: F401
    except ImportError:
        sys.exit("bench: error: qdrant-client is missing; install scripts/requirements-bench.txt "
                 "into this venv (see the header of scripts/bench_reference.py)")

    files = sorted(str(p) for p in args.images.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        sys.exit(f"bench: error: no images in {args.images}")
    out = args.out.resolve()
    prepare_out(out)

    # One OpenMP/BLAS thread per worker: N processes share N cores.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

    rss = TreeRss()
    rss.start()
    t_start = time.perf_counter()
    vocab = load_vocabulary(args.models)
    label_vectors, label_vectors_source = conse_label_vectors(vocab, args.models, args.cache_dir, out / "work")
    manifest = manifest_models()
    ref = lambda k: f"{manifest[k]['id']}@{manifest[k]['version']}"  # noqa: E731
    model_versions = {
        "classifier": ref("classifier"),
        "nsfw": ref("nsfw"),
        "friendly_tags": f"imgtag-friendly-tags@{vocab['friendly_version']}+{ref('classifier')}",
        "semantic": f"conse-top{CONSE_TOP_T}@{ref('classifier')}+{ref('text')}",
    }
    cfg = {"models": str(args.models), "vocab": vocab, "label_vectors": str(label_vectors),
           "intra_op_threads": args.intra_op_threads, "out": str(out), "tenant": args.tenant}

    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=worker_main, args=(cfg, tasks, results), daemon=True)
             for _ in range(args.workers)]
    for p in procs:
        p.start()
    index = IndexWriter(out / "index", args.tenant, model_versions)
    def receive():
        """The next worker message; exits if a worker died without a word."""
        while True:
            try:
                return results.get(timeout=2.0)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead or all(p.exitcode is not None for p in procs):
                    rss.stop()
                    sys.exit(f"bench: error: worker(s) ended early: "
                             f"{[(p.pid, p.exitcode) for p in procs]}")

    load_seconds = []
    while len(load_seconds) < args.workers:
        kind, pid, value = receive()
        if kind == "load_failed":
            sys.exit(f"bench: error: worker {pid} could not load the models:\n{value}")
        load_seconds.append(value)
    startup = time.perf_counter() - t_start

    # --- processing ---
    parent_cpu0 = time.process_time()
    t0 = time.perf_counter()
    for f in files:
        tasks.put(f)
    for _ in procs:
        tasks.put(None)
    done, failed, latencies, stage_sums, index_seconds = [], [], [], {}, []
    worker_stats = []
    lines = []
    pending = len(files)
    while pending:
        kind, path, r = receive()
        if kind == "exit":  # a worker that ran out of images
            worker_stats.append(r)
        elif kind == "done":
            ti = time.perf_counter()
            outcome = index.write(r)
            dt = time.perf_counter() - ti
            index_seconds.append(dt)
            latencies.append(r["worker_seconds"] + dt)
            for k, v in r["stages"].items():
                stage_sums[k] = stage_sums.get(k, 0.0) + v
            done.append((r, outcome))
            lines.append(json.dumps({
                "filename": Path(path).name, "event": outcome["kind"], "image_id": r["image_id"],
                "sha256": r["sha256"], "phash": r["phash"], "width": r["metadata"]["width"],
                "height": r["metadata"]["height"], "format": r["metadata"]["format"],
                "top_classes": [{"index": i, "label": lab, "probability": p} for i, lab, p in r["classes"]],
                "tags": r["tags"], "nsfw": r["nsfw"], "quality": r["quality"],
                "renditions": r["renditions"], "duplicates": outcome["duplicates"],
                "semantic_norm": float((r["semantic"] ** 2).sum() ** 0.5),
                "latency_ms": (r["worker_seconds"] + dt) * 1e3,
            }))
            pending -= 1
        elif kind == "failed":
            failed.append({"filename": Path(path).name, "error": r})
            lines.append(json.dumps({"filename": Path(path).name, "event": "failed", "error": r}))
            pending -= 1
    seconds = time.perf_counter() - t0
    parent_cpu = time.process_time() - parent_cpu0
    while len(worker_stats) < len(procs):
        kind, pid, value = receive()
        if kind == "exit":
            worker_stats.append(value)
    for p in procs:
        p.join()
    indexed = index.count()
    index.close()
    rss.stop()
    (out / "results.jsonl").write_text("\n".join(lines) + "\n")

    import numpy as np
    import onnxruntime as ort
    import PIL
    from PIL import features

    n = len(done)
    parent_hwm = vm_hwm_kib()
    cpu_seconds = parent_cpu + sum(w["cpu_seconds"] for w in worker_stats)
    summary = {
        "generator": "scripts/bench_reference.py",
        "images": len(files),
        "processed": sum(1 for _, o in done if o["kind"] == "processed"),
        "duplicates": sum(1 for _, o in done if o["kind"] == "duplicate"),
        "failed": len(failed),
        "failures": failed,
        "indexed_points": indexed,
        "workers": args.workers,
        "intra_op_num_threads": args.intra_op_threads,
        "seconds": seconds,
        "images_per_s": n / seconds if seconds > 0 else 0.0,
        "startup_seconds": startup,
        "model_load_seconds": {"max_worker": max(load_seconds), "per_worker": load_seconds,
                               "note": "spawned interpreter: imports, sha256 checks, 2 ORT sessions, label vectors"},
        "latency_ms": {"p50": percentile(latencies, 50) * 1e3, "p99": percentile(latencies, 99) * 1e3,
                       "mean": statistics.fmean(latencies) * 1e3 if latencies else float("nan"),
                       "note": "worker time (read .. objects written) + parent index time; queueing excluded"},
        "stage_ms_mean": {k: v / max(n, 1) * 1e3 for k, v in stage_sums.items()}
        | {"index": statistics.fmean(index_seconds) * 1e3 if index_seconds else float("nan")},
        "cpu_seconds": {"total": cpu_seconds, "parent": parent_cpu,
                        "workers": [w["cpu_seconds"] for w in worker_stats],
                        "images_per_cpu_second": n / cpu_seconds if cpu_seconds > 0 else 0.0,
                        "note": "process CPU time (all threads) during processing only"},
        "peak_rss_mib": {
            "tree_sampled_rss": rss.peak_rss / 1024, "tree_sampled_pss": rss.peak_pss / 1024,
            "sum_of_process_peaks": (parent_hwm + sum(w["peak_rss_kib"] for w in worker_stats)) / 1024,
            "parent": parent_hwm / 1024,
            "workers": [w["peak_rss_kib"] / 1024 for w in worker_stats],
            "ru_maxrss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "ru_maxrss_children_largest": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "note": ("tree_sampled_*: max over 100 ms samples of the sum over this process and all its "
                     "descendants (RSS counts pages shared between processes once per process; PSS splits "
                     "them); sum_of_process_peaks: parent + each worker's VmHWM (an upper bound); "
                     "ru_maxrss_children_largest is the largest single child, not a sum"),
        },
        "choices": {
            "decode": "Pillow Image.open; JPEG Image.draft at imgtag's ShrinkHint scale; ImageCms ICC->sRGB "
                      "(transforms cached per profile); ImageOps.exif_transpose(in_place=True)",
            "resize": "renditions and model input: Pillow LANCZOS (imgtag: Lanczos3); analysis: BILINEAR",
            "webp": f"Pillow/libwebp quality {WEBP_QUALITY} method {WEBP_METHOD}, no metadata",
            "phash": "image_hasher's pHash: 16x16 LANCZOS, unnormalised DCT-II (numpy matrices), 8x8 >= median",
            "conse": label_vectors_source,
            "index": "qdrant-client local mode (QdrantClient(path=...)), written by the parent process",
            "inference": "classifier then NSFW, sequential, batch 1 per image",
        },
        "out": str(out),
        "environment": {
            "python": platform.python_version(),
            "pillow": PIL.__version__,
            "numpy": np.__version__,
            "onnxruntime": ort.__version__,
            "qdrant_client": _version("qdrant-client"),
            "libjpeg_turbo": features.version("libjpeg_turbo"),
            "libwebp": features.version("webp"),
            "littlecms2": features.version("littlecms2"),
            "cpu_count": os.cpu_count(),
            "loadavg_at_end": os.getloadavg(),
        },
    }
    for r, outcome in sorted(done, key=lambda d: d[0]["path"]):
        top = ", ".join(f"{lab} {p:.3f}" for _, lab, p in r["classes"][:3])
        friendly = ",".join(t["name"] for t in r["tags"] if t["source"] == "hierarchy")
        print(f"{outcome['kind']:<10} {Path(r['path']).name:<24} {top} | {friendly} | nsfw {r['nsfw']:.4f}",
              file=sys.stderr)
    for f in failed:
        print(f"failed     {f['filename']:<24} {f['error']}", file=sys.stderr)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0 if not failed else 1


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "missing"


if __name__ == "__main__":
    sys.exit(main())
