#!/usr/bin/env python3
"""OCR per document: imgtag's engine against rapidocr's own Python pipeline.

Same models (PP-OCRv6 small det + rec), same documents (the ones
scripts/make_documents.py renders, plus scikit-image's page.png, in
.imgtag/documents), same threads (one ONNX Runtime intra-op thread each),
in one run:

- imgtag: `models/examples/ocr` (release), every document decoded once, read
  once to warm up, then `repeat` times; CPU seconds of the process per read
  (page orientation included, about 10 ms);
- rapidocr 3.10.0: `scripts/ocr_parity --bench` (its hash-pinned venv), warm,
  median of 3 reads per document, page orientation not included, the turned
  scan given to it upright. It also measures the PP-OCRv6 tiny models through
  the same pipeline, for comparison.

`measure()` is what scripts/bench.py calls; run alone it prints the table:

    python3 scripts/bench_ocr.py --ocr target/release/examples/ocr
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = REPO / ".imgtag" / "documents"


def documents() -> list[Path]:
    """The documents of the OCR reference, in its order."""
    expected = json.loads((REPO / "models/tests/data/ocr_expected.json").read_text())
    files = [DOCUMENTS / name for name in sorted(expected["documents"])]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise SystemExit(f"bench_ocr: {', '.join(missing)} missing: run scripts/setup")
    return files


def ours(ocr: Path, files: list[Path], repeat: int) -> dict:
    run = subprocess.run([str(ocr), *map(str, files), "--json", "--repeat", str(repeat)],
                         capture_output=True, text=True, cwd=REPO)
    if run.returncode != 0:
        raise SystemExit(f"bench_ocr: {ocr} failed:\n{run.stderr[-3000:]}")
    return {Path(r["file"]).name: {"cpu_s": r["cpu_seconds"],
                                   "lines": len((r.get("result") or {}).get("lines", []))}
            for r in json.loads(run.stdout)}


def theirs(scratch: Path) -> dict:
    bench_out = scratch / "ocr_python.json"
    run = subprocess.run([str(REPO / "scripts" / "ocr_parity"), "--bench",
                          "--out", str(scratch / "ocr_expected.json"),
                          "--bench-out", str(bench_out)],
                         capture_output=True, text=True, cwd=REPO)
    if run.returncode != 0:
        raise SystemExit(f"bench_ocr: scripts/ocr_parity --bench failed:\n{run.stderr[-3000:]}")
    return json.loads(bench_out.read_text())


def measure(ocr: Path, scratch: Path, repeat: int = 3) -> dict:
    files = documents()
    reference = theirs(scratch)
    rust = ours(ocr, files, repeat)
    rows = []
    for f in files:
        peer = reference["documents"][f.name]
        rows.append({
            "document": f.name,
            "lines": rust[f.name]["lines"],
            "imgtag_cpu_s": rust[f.name]["cpu_s"],
            "rapidocr_cpu_s": peer["ppocrv6_small"]["cpu_s"],
            "rapidocr_tiny_cpu_s": peer["ppocrv6_tiny"]["cpu_s"],
            "rapidocr_lines": peer["ppocrv6_small"]["lines"],
        })
    total = {key: sum(r[key] for r in rows)
             for key in ("imgtag_cpu_s", "rapidocr_cpu_s", "rapidocr_tiny_cpu_s")}
    return {
        "documents": rows,
        "total": total,
        "ratio_rapidocr_over_imgtag": total["rapidocr_cpu_s"] / total["imgtag_cpu_s"],
        "accuracy": {name: t["char_accuracy"] for name, t in reference["totals"].items()},
        "reference_load_average": reference["machine"]["load_average_1min_before_after"],
        "note": f"CPU seconds per read, one ONNX Runtime thread each; imgtag: mean of {repeat} "
                "warm reads with page orientation; rapidocr: median of 3 warm reads without it",
    }


def table(result: dict) -> str:
    lines = ["| document | lines | imgtag (CPU s) | rapidocr (CPU s) | less CPU | rapidocr, tiny models |",
             "|---|---|---|---|---|---|"]
    for r in result["documents"]:
        lines.append(f"| {r['document']} | {r['lines']} | {r['imgtag_cpu_s']:.2f} | "
                     f"{r['rapidocr_cpu_s']:.2f} | {r['rapidocr_cpu_s'] / r['imgtag_cpu_s']:.2f}x | "
                     f"{r['rapidocr_tiny_cpu_s']:.2f} |")
    t = result["total"]
    lines.append(f"| **total** | | **{t['imgtag_cpu_s']:.2f}** | **{t['rapidocr_cpu_s']:.2f}** | "
                 f"**{result['ratio_rapidocr_over_imgtag']:.2f}x** | {t['rapidocr_tiny_cpu_s']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ocr", type=Path, required=True, help="the release `ocr` example")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "ocr.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imgtag-bench-ocr-") as scratch:
        result = measure(args.ocr, Path(scratch), args.repeat)
    print(table(result))
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
