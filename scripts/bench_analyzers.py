#!/usr/bin/env python3
"""Per-image CPU of each analyzer: see scripts/bench_analyzers."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
IMGTAG = TARGET / "debug" / "imgtag"
ROUNDS = int(os.environ.get("ROUNDS", "5"))
PHOTOS = sorted((REPO / ".imgtag" / "samples").glob("*.*"))
DOCUMENTS = sorted(
    p for p in (REPO / ".imgtag" / "id_documents").glob("*.*") if p.suffix in (".png", ".jpg")
)
STAGES = ["decode", "classifier", "nsfw", "semantic", "ocr", "read", "quality", "faces", "document"]
BEGIN, END = "<!-- bench_analyzers:table:begin -->", "<!-- bench_analyzers:table:end -->"


def timings(paths: list[Path]) -> list[dict[str, float]]:
    """One `imgtag tag` process over `paths` (one image at a time), after
    a warm-up image whose first model runs are left out: the milliseconds
    per stage of each image, as a worker that has been running sees them."""
    out = subprocess.run(
        [str(IMGTAG), "tag", str(paths[0]), *map(str, paths), "--json"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [image["timings_ms"] for image in json.loads(out)["images"][1:]]


def medians(paths: list[Path]) -> dict[str, float]:
    """Median over rounds and images of each stage's milliseconds."""
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(ROUNDS):
        for run in timings(paths):
            for stage in STAGES:
                samples[stage].append(run.get(stage, 0.0))
    return {stage: round(statistics.median(values), 2) for stage, values in samples.items()}


def table(results: dict[str, dict[str, float]]) -> str:
    photo, docs = results["photos"], results["documents"]
    base = sum(v for k, v in photo.items() if k not in ("faces", "document"))
    lines = [
        "| stage | photo, no text (ms) | document (ms) | added to a photo |",
        "|---|---|---|---|",
    ]
    for stage in STAGES:
        share = f"{100 * photo[stage] / base:.1f} %" if stage in ("faces", "document", "ocr") else ""
        lines.append(f"| {stage} | {photo[stage]:.2f} | {docs[stage]:.2f} | {share} |")
    lines.append(f"| everything else | {base:.2f} | | |")
    return "\n".join(lines)


def main() -> int:
    if not IMGTAG.is_file():
        print(f"bench_analyzers: error: {IMGTAG} is missing (cargo build)", file=sys.stderr)
        return 2
    results = {"rounds": ROUNDS, "photos": medians(PHOTOS), "documents": medians(DOCUMENTS)}
    text = table(results)
    print(text)
    bench = REPO / "bench"
    bench.mkdir(exist_ok=True)
    (bench / "analyzers.json").write_text(json.dumps(results, indent=2) + "\n")
    doc = REPO / "BENCHMARKS.md"
    body = doc.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in body:
        body = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, body, flags=re.S)
    else:
        body += (
            "\n## Analyzers per image (`scripts/bench_analyzers`)\n\n"
            "Median milliseconds per stage, one image per process, dev profile; "
            "`ocr` on a photo is the probe alone, `read` the full read. The faces "
            "and document analyzers may add at most 10 % to a photo without text.\n\n"
            f"{block}\n"
        )
    doc.write_text(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
