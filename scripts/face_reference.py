#!/usr/bin/env python3
"""Independent Python reference for the face detector (models/src/faces).

Runs YuNet 2023mar (models/manifest.toml [model.faces]) with onnxruntime +
numpy + Pillow, written from the model's facts rather than from the Rust code:

  * letterbox: the image's long side scaled to each of `--scales`, largest
    first (each side `(side * scale + long / 2) // long`, Pillow BILINEAR,
    which the Rust resampler reproduces byte for byte; the largest scale
    starts from the image, each smaller one from the scale before it, and a
    start at least twice the scale is first shrunk by that whole factor with
    Image.reduce),
    placed at the top left of a black
    canvas whose sides are the scaled sides rounded up to a multiple of 32
    (as FaceDetectorYN pads its input); BGR, 0-255, no normalisation, NCHW.
    The model is scripts/convert_yunet.py's graph, whose input size is free;
  * decoding (OpenCV's FaceDetectorYN for the 2023mar graph): per cell of
    strides 8, 16 and 32, row-major over the canvas's (h / s) x (w / s)
    grid, score = sqrt(clamp(cls) * clamp(obj)); centre
    ((col + b0) * s, (row + b1) * s), size (exp(b2) * s, exp(b3) * s); five
    landmarks ((col + k[2i]) * s, (row + k[2i+1]) * s);
  * every scale's boxes mapped back to the image, then one greedy NMS
    (IoU > 0.3 suppressed), boxes clipped to the image. Scores must be above
    the threshold (0.7), as in OpenCV's NMSBoxes.

Prints one JSON object per image: its faces (x, y, w, h, score, landmarks).
The e2e face test (models/tests/faces.rs) holds the Rust detector to the
astronaut's boxes printed here (the sample, and `astronaut-4x3`).

Run it in the parity venv (scripts/parity creates .imgtag/venv-parity):

    .imgtag/venv-parity/bin/python scripts/face_reference.py
    .imgtag/venv-parity/bin/python scripts/face_reference.py --image some.jpg
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / ".imgtag" / "models" / "face-detection-yunet-2023mar-dynamic.onnx"
SAMPLES = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg"]
# Pictures made from a sample, which models/tests/faces.rs makes the same way
# (Pillow BILINEAR, which its resampler reproduces): name -> (sample, crop
# box, size). `astronaut-4x3` is not square, is reduced and filtered at 512,
# reduced at 256, and its canvases are padded (512x416 and 256x224).
DERIVED = {"astronaut-4x3": ("astronaut.png", (16, 0, 496, 376), (1300, 1018))}
MAX_SCALE = 640
STRIDES = (8, 16, 32)
PAD = max(STRIDES)


def letterbox(image: Image.Image, source: Image.Image,
              scale: int) -> tuple[np.ndarray, Image.Image]:
    """The 1x3xHxW BGR input (H, W: multiples of 32) of `image` at `scale`,
    resized from `source` (the image, or its previous, larger scale), and the
    resized image."""
    w, h = image.size
    long = max(w, h)
    nw = max(1, (w * scale + long // 2) // long)
    nh = max(1, (h * scale + long // 2) // long)
    factor = max(source.size) // scale
    if factor >= 2:
        source = source.reduce(factor)
    resized = source if source.size == (nw, nh) else source.resize((nw, nh), Image.BILINEAR)
    cw, ch = -(-nw // PAD) * PAD, -(-nh // PAD) * PAD
    canvas = np.zeros((ch, cw, 3), dtype=np.float32)
    canvas[:nh, :nw] = np.asarray(resized, dtype=np.float32)
    bgr = canvas[:, :, ::-1]
    return np.ascontiguousarray(bgr.transpose(2, 0, 1))[None], resized


def decode(outputs: dict[str, np.ndarray], width: int, height: int,
           threshold: float) -> list[dict]:
    """Faces in pixels of the `width` x `height` canvas the graph ran on."""
    faces = []
    for s in STRIDES:
        cols, rows = width // s, height // s
        if outputs[f"cls_{s}"].shape[1] != rows * cols:
            raise ValueError(f"stride {s}: {outputs[f'cls_{s}'].shape} for a {cols}x{rows} grid")
        cls = np.clip(outputs[f"cls_{s}"][0, :, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{s}"][0, :, 0], 0, 1)
        score = np.sqrt(cls * obj)
        bbox = outputs[f"bbox_{s}"][0].astype(np.float64)
        kps = outputs[f"kps_{s}"][0].astype(np.float64)
        for idx in np.nonzero(score > threshold)[0]:
            row, col = divmod(int(idx), cols)
            cx = float(col + bbox[idx, 0]) * s
            cy = float(row + bbox[idx, 1]) * s
            bw = math.exp(bbox[idx, 2]) * s
            bh = math.exp(bbox[idx, 3]) * s
            landmarks = [
                [float(col + kps[idx, 2 * i]) * s, float(row + kps[idx, 2 * i + 1]) * s]
                for i in range(5)
            ]
            faces.append(
                {
                    "rect": [cx - bw / 2, cy - bh / 2, bw, bh],
                    "score": float(score[idx]),
                    "landmarks": landmarks,
                }
            )
    return faces


def iou(a: list[float], b: list[float]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def detect(session, image: Image.Image, scales: list[int], threshold: float, nms: float):
    w, h = image.size
    candidates = []
    source = image
    for scale in sorted({min(s, MAX_SCALE) for s in scales}, reverse=True):
        tensor, source = letterbox(image, source, scale)
        nw, nh = source.size
        names = [o.name for o in session.get_outputs()]
        outputs = dict(zip(names, session.run(names, {"input": tensor})))
        fx, fy = w / nw, h / nh
        for face in decode(outputs, tensor.shape[3], tensor.shape[2], threshold):
            x, y, bw, bh = face["rect"]
            if not (0 <= x + bw / 2 < nw and 0 <= y + bh / 2 < nh):
                continue  # centred on the padding
            face["rect"] = [x * fx, y * fy, bw * fx, bh * fy]
            face["landmarks"] = [[px * fx, py * fy] for px, py in face["landmarks"]]
            face["scale"] = scale
            candidates.append(face)
    candidates.sort(key=lambda f: -f["score"])
    kept = []
    for face in candidates:
        if all(iou(face["rect"], k["rect"]) <= nms for k in kept):
            kept.append(face)
    for face in kept:
        x, y, bw, bh = face["rect"]
        x1, y1 = min(max(x, 0.0), w), min(max(y, 0.0), h)
        x2, y2 = min(max(x + bw, 0.0), w), min(max(y + bh, 0.0), h)
        face["rect"] = [round(v, 2) for v in (x1, y1, x2 - x1, y2 - y1)]
        face["score"] = round(face["score"], 4)
        face["landmarks"] = [[round(px, 2), round(py, 2)] for px, py in face["landmarks"]]
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", type=Path, action="append",
                        help="an image to run (default: the sample photos and DERIVED)")
    parser.add_argument("--scales", default="512,256",
                        help="long sides the image is scaled to, at most 640 "
                             "(default: FaceConfig's, 512,256)")
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--nms", type=float, default=0.3)
    args = parser.parse_args()
    if not MODEL.is_file():
        print(f"face_reference: {MODEL} is missing: run scripts/setup", file=sys.stderr)
        return 2
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
    scales = [int(s) for s in args.scales.split(",")]
    samples = REPO / ".imgtag" / "samples"
    images = [(path.name, Image.open(path).convert("RGB"))
              for path in args.image or [samples / name for name in SAMPLES]]
    if not args.image:
        for name, (sample, box, size) in DERIVED.items():
            image = Image.open(samples / sample).convert("RGB")
            images.append((name, image.crop(box).resize(size, Image.BILINEAR)))
    for name, image in images:
        faces = detect(session, image, scales, args.threshold, args.nms)
        print(json.dumps({"image": name, "size": image.size, "faces": faces}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
