#!/usr/bin/env python3
"""Thumbnail path, imgtag against vipsthumbnail, in one run on the same files.

The path: decode a large JPEG -> 256 px on the long side -> WebP quality 80.
- Input set: the sample photos upscaled (Lanczos, by `vips resize`) into
  JPEGs of 12 to 24 megapixels, made once into .imgtag/bench/ (deterministic).
- Both tools run pinned to one core (`taskset -c 0`), one process per
  image, each image `--rounds` times; the best round counts (least noise).
- Peak RSS of one imgtag process decoding a 50 MP JPEG is read from
  getrusage(RUSAGE_CHILDREN).

Prints a table and writes bench/thumbnail.json. Needs `vips`/`vipsthumbnail`
(Debian libvips-tools) and a built imgtag (the path is an argument).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png"]


def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")


def dimensions(path: Path) -> tuple[int, int]:
    def field(name: str) -> int:
        out = subprocess.run(["vipsheader", "-f", name, str(path)], capture_output=True, text=True)
        return int(out.stdout)
    return field("width"), field("height")


def megapixels_to_scale(path: Path, megapixels: float) -> float:
    width, height = dimensions(path)
    return (megapixels * 1e6 / (width * height)) ** 0.5


def make_inputs(work: Path) -> tuple[list[Path], Path]:
    work.mkdir(parents=True, exist_ok=True)
    inputs = []
    for n, name in enumerate(SAMPLES):
        target = work / f"{Path(name).stem}-large.jpg"
        if not target.exists():
            source = REPO / ".imgtag" / "samples" / name
            scale = megapixels_to_scale(source, 12 + 3 * n)  # 12, 15, 18, 21, 24 MP
            run(["vips", "resize", str(source), f"{target}[Q=90]", f"{scale:.4f}",
                 "--kernel", "lanczos3"])
        inputs.append(target)
    huge = work / "coffee-50mp.jpg"
    if not huge.exists():
        source = REPO / ".imgtag" / "samples" / "coffee.png"
        run(["vips", "resize", str(source), f"{huge}[Q=90]",
             f"{megapixels_to_scale(source, 50):.4f}", "--kernel", "lanczos3"])
    return inputs, huge


def peak_rss_kib(command: list[str]) -> int:
    """Peak RSS of `command` alone, measured by a fresh intermediate process."""
    probe = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return int(result.stdout)


def best_time(commands: list[list[str]], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for command in commands:
            run(command)
        best = min(best, time.perf_counter() - start)
    return best


def require_tools() -> None:
    for tool in ("vips", "vipsthumbnail", "vipsheader", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is required (apt-get install libvips-tools util-linux)")


def measure(imgtag: Path, inputs: list[Path], out: Path, rounds: int) -> dict:
    """The thumbnail path of `inputs`, imgtag against vipsthumbnail, both
    pinned to core 0, one process per image, best of `rounds`."""
    out.mkdir(parents=True, exist_ok=True)
    pin = ["taskset", "-c", "0"]
    ours = [pin + [str(imgtag), "convert", str(p), "--format", "webp", "--max-side", "256",
                   "--quality", "80", "-o", str(out / f"{p.stem}.imgtag.webp")] for p in inputs]
    vips = [pin + ["vipsthumbnail", str(p), "--size", "256", "-o",
                   str(out / f"{p.stem}.vips.webp[Q=80,strip]")] for p in inputs]
    # vips is told to use one worker thread too (VIPS_CONCURRENCY), besides the pinning.
    os.environ["VIPS_CONCURRENCY"] = "1"
    t_ours = best_time(ours, rounds)
    t_vips = best_time(vips, rounds)
    n = len(inputs)
    return {
        "what": "decode JPEG -> 256 px long side -> WebP q80, one process per image, 1 core",
        "images": n,
        "megapixels": [round(w * h / 1e6, 1) for w, h in map(dimensions, inputs)],
        "imgtag_images_per_s": round(n / t_ours, 2),
        "vipsthumbnail_images_per_s": round(n / t_vips, 2),
        "ratio_imgtag_over_vips": round(t_vips / t_ours, 2),
        "rounds": rounds,
        "vips": subprocess.run(["vipsthumbnail", "--vips-version"], capture_output=True,
                               text=True).stdout.strip(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--imgtag", type=Path, required=True, help="the imgtag binary")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    require_tools()

    work = REPO / ".imgtag" / "bench"
    inputs, huge = make_inputs(work)
    out = work / "out"
    results = measure(args.imgtag, inputs, out, args.rounds)
    rss_kib = peak_rss_kib([str(args.imgtag), "convert", str(huge), "--format", "webp",
                            "--max-side", "256", "-o", str(out / "huge.webp")])
    results["imgtag_peak_rss_mib_50mp"] = round(rss_kib / 1024, 1)
    results["huge_megapixels"] = round(50.0, 1)
    results["machine"] = f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}"
    print(f"{'what':<44} {'imgtag':>10} {'vipsthumbnail':>14} {'ratio':>7}")
    print(f"{'thumbnail path, images/s (1 core)':<44} {results['imgtag_images_per_s']:>10} "
          f"{results['vipsthumbnail_images_per_s']:>14} {results['ratio_imgtag_over_vips']:>7}")
    print(f"imgtag peak RSS, 50 MP JPEG -> 256 px WebP: {results['imgtag_peak_rss_mib_50mp']} MiB")
    (REPO / "bench").mkdir(exist_ok=True)
    (REPO / "bench" / "thumbnail.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
