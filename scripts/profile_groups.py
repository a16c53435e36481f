#!/usr/bin/env python3
"""Groups a flat `perf report` by library and purpose (BENCHMARKS.md's
profile table):

    perf record -e cpu-clock -F 999 -o perf.data -- imgtag ingest DIR --tenant t
    perf report -i perf.data --no-children --sort dso,symbol --stdio > report.txt
    python3 scripts/profile_groups.py report.txt

Symbols are matched by name (libwebp's encoder kernels, libjpeg-turbo and
zune-jpeg, resizers, the `image` crate's conversions, ...); kernel samples
split into page zeroing and the rest; ONNX Runtime by its library.
"""

import re
import sys

CATEGORIES = [
 ("WebP encoding (libwebp)", re.compile(r"VP8|_SSE2$|_SSE41$|_C$|WebP|ImportYUV|PickBest|Reconstruct|Intra4|Intra16|Disto|Quantize|Transform|CollectHistogram|GetResidualCost|SetResidualCoeffs|PutBit|EmitTokens|^Flush$|PackRGB|SharpYuv|TrellisQuantize|CodeIntraModes|StoreStats|ConvertRGB|Accumulate|ExtractAlpha")),
 ("JPEG decoding (libjpeg-turbo, zune-jpeg)", re.compile(r"decode_mcu|jsimd|zune_jpeg|jpeg_|ycc|h2v|idct")),
 ("resizing (fast_image_resize, model preprocessing, image_hasher)", re.compile(r"fast_image_resize|resample|imageops::sample|resize")),
 ("pixel conversions and orientation (image crate)", re.compile(r"cicp|roundf|rotate|flip|cast_pixels|ConvertBuffer|to_luma|to_rgb|luma")),
 ("hashing and quality (sha2, pHash, Laplacian)", re.compile(r"sha2|sha256|quality|phash|dct|rustfft|fingerprint")),
 ("memory copy and allocation (libc, allocator)", re.compile(r"memmove|memcpy|memset|malloc|free|_int_|mi_|mimalloc|realloc|calloc")),
]
totals = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if not m: continue
    pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
    if kind == "k":
        cat = "kernel: zeroing fresh pages" if "clear_page" in sym else "kernel: faults, I/O, scheduling"
    elif "onnxruntime" in dso:
        cat = "ONNX Runtime (the two models)"
    else:
        cat = next((name for name, rx in CATEGORIES if rx.search(sym)), "other")
    totals[cat] = totals.get(cat, 0) + pct
for k, v in sorted(totals.items(), key=lambda kv: -kv[1]):
    print(f"{v:6.1f}%  {k}")
