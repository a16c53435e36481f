"""Search latency through the HTTP API; see scripts/bench_api.

Standard library only. The server is the dev-profile binary the tests use;
the client runs on the same 2 cores, so the figures include its share.

Two modes, recorded side by side in bench/api.json:
- default (`samples`): the 5 sample photos alone in tenant `bench`;
- `--points N` (`points_N`): the same photos, plus N synthetic points
  written into the same scratch index by `bench_index fill` (realistic
  payloads: friendly tags, OCR text on about 30 %, the real embeddings
  mixed; tenant `bench` holds 15 % of them, 19 other tenants the rest)
  before `imgtag serve` starts.

Text searches alternate English and Chinese queries (the Chinese ones with
`lang=zh`); each request's client time is recorded, and its server time from
the server's access log line (`ms=`: routing, the text encoder, the
branches, fusion and JSON, not the loopback and the client's parsing).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import shutil
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "debug" / "imgtag"
FILL = TARGET / "debug" / "examples" / "bench_index"
SAMPLES = ROOT / ".imgtag" / "samples"
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "200"))
# What analysts type: things in photos, words on documents, tag names.
QUERIES_EN = ["coffee", "a cup of coffee", "a red car", "invoice", "receipt total", "cat",
              "dog on the grass", "vehicle", "invoice number", "thank you for shopping",
              "food on a plate", "a person in a suit"]
QUERIES_ZH = ["发票", "一杯咖啡", "猫", "收据 合计", "红色的汽车", "狗", "发票号码", "美食",
              "增值税发票", "交通工具", "谢谢惠顾", "支付成功"]
SAMPLE_CUSTOMER = "samples"
TARGET_P50_MS = 10.0
TARGET_POINTS = 100_000
TABLE_BEGIN = "<!-- bench_api:table:begin -->"
TABLE_END = "<!-- bench_api:table:end -->"


def run(*args, config=None):
    command = [str(BIN)] + (["--config", str(config)] if config else []) + list(args)
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def request(url, key, data=None, content_type=None):
    req = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {key}"})
    if content_type:
        req.add_header("Content-Type", content_type)
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as response:
        body = response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - started, body


def multipart(name, payload):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    return head + payload + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def percentiles(seconds):
    ms = sorted(s * 1000 for s in seconds)
    pick = lambda q: ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))]
    return {"n": len(ms), "p50_ms": round(pick(0.50), 2), "p99_ms": round(pick(0.99), 2),
            "mean_ms": round(statistics.fmean(ms), 2), "max_ms": round(ms[-1], 2)}


def text_url(url, i, lang):
    if lang == "zh":
        query = {"text": QUERIES_ZH[i % len(QUERIES_ZH)], "lang": "zh"}
    else:
        query = {"text": QUERIES_EN[i % len(QUERIES_EN)]}
    return f"{url}/api/v1/search?" + urllib.parse.urlencode(query)


class Server:
    """`imgtag serve` on a free port; keeps the access log's timings."""

    LINE = re.compile(r"route=(\S+?)[ }].*\brequest status=\d+ ms=([0-9.]+)")

    def __init__(self, config):
        self.process = subprocess.Popen([str(BIN), "--config", str(config), "serve"], cwd=ROOT,
                                        stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "IMGTAG_LOG": "info"})
        self.url = None
        self.timings = []  # (route, server ms), in log order
        started = time.perf_counter()
        for line in self.process.stderr:
            match = re.search(r"serving url=(\S+)", line)
            if match:
                self.url = match.group(1)
                break
        assert self.url, "the server did not start"
        self.start_s = time.perf_counter() - started
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            match = self.LINE.search(line)
            if match:
                self.timings.append((match.group(1), float(match.group(2))))

    def mark(self):
        return len(self.timings)

    def since(self, mark):
        time.sleep(0.2)  # the last request's log line
        return [ms / 1000 for _, ms in self.timings[mark:]]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def fill(index_dir, points):
    """Writes `points` synthetic points into the index (bench_index fill)."""
    started = time.perf_counter()
    out = subprocess.run([str(FILL), "fill", str(index_dir), "--points", str(points),
                          "--tenant", "bench"], cwd=ROOT, check=True, stdout=subprocess.PIPE,
                         text=True)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    summary["fill_seconds"] = round(time.perf_counter() - started, 1)
    return summary


def table(report):
    """The Markdown table of BENCHMARKS.md's API section: one column per
    mode of bench/api.json."""
    runs = report["runs"]
    modes = sorted(runs, key=lambda m: (m != "samples", len(m), m))
    def column(mode):
        run = runs[mode]
        if mode == "samples":
            return "5 sample photos"
        bench = (run.get("fill") or {}).get("tenant_sizes", {}).get("bench")
        return f"{run['index_points']:,} points ({bench:,} + 5 in the tenant)"
    rows = [("text search p50, English", "text search, English", "p50_ms"),
            ("text search p99, English", "text search, English", "p99_ms"),
            ("text search p50, Chinese", "text search, Chinese", "p50_ms"),
            ("text search p99, Chinese", "text search, Chinese", "p99_ms"),
            ("text search p50, both", "text search, all", "p50_ms"),
            ("text search p99, both", "text search, all", "p99_ms"),
            ("text search p50, server time (access log)", "text search, all", "server.p50_ms"),
            ("upload search p50 (chelsea.png)", "upload search (chelsea.png, 451x300 PNG)", "p50_ms"),
            ("similar to a stored image p50", "similar to a stored image", "p50_ms"),
            ("image record p50", "image record", "p50_ms"),
            ("thumbnail bytes p50", "thumbnail bytes", "p50_ms"),
            ("stats p50", "stats", "p50_ms"),
            ("text search, 4 clients at once: p50", "text search, 4 clients at once (both languages)", "p50_ms"),
            ("text search, 4 clients at once: throughput", "text search, 4 clients at once (both languages)", "requests_per_s")]
    lines = ["| what | " + " | ".join(column(m) for m in modes) + " | unit | target |",
             "|---|" + "---|" * len(modes) + "---|---|"]
    for label, case, field in rows:
        values = []
        for mode in modes:
            value = runs[mode]["results"].get(case, {})
            for part in field.split("."):
                value = value.get(part, {}) if isinstance(value, dict) else {}
            failed = runs[mode]["results"].get(case, {})
            values.append(f"timed out ({failed['error'].split()[1]} after {failed['after_s']:g} s)"
                          if "error" in failed else "" if value == {} else f"{value:g}")
        unit = "requests/s" if field == "requests_per_s" else "ms"
        target = ""
        if label == "text search p50, both":
            big = [m for m in modes if runs[m]["index_points"] >= TARGET_POINTS]
            if big:
                met = all(runs[m]["results"][case]["p50_ms"] <= TARGET_P50_MS for m in big)
                target = f"<= {TARGET_P50_MS:g} ms at {TARGET_POINTS:,} points: {'met' if met else 'NOT met'}"
            else:
                target = f"<= {TARGET_P50_MS:g} ms at {TARGET_POINTS:,} points: not run"
        lines.append(f"| {label} | " + " | ".join(values) + f" | {unit} | {target} |")
    loads = "; ".join(f"{m}: {runs[m]['measured_at'][:16]}, load average {runs[m]['load_average'][0]:.1f} "
                      f"before, {runs[m]['load_average'][1]:.1f} after" for m in modes
                      if "load_average" in runs[m])
    lines += ["", f"Machine: {report['machine']['cpus']} cores, {report['machine']['platform']}; "
              f"{report['profile']}; {report['rounds']} requests per row. Runs: {loads}."]
    return "\n".join(lines)


def write_table(report):
    doc = ROOT / "BENCHMARKS.md"
    text = doc.read_text()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        return False
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    doc.write_text(f"{head}{TABLE_BEGIN}\n{table(report)}\n{TABLE_END}{tail}")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=0,
                        help="synthetic points added to the index before serving (0: the samples alone)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch directory (its path is printed)")
    parser.add_argument("--reuse", type=Path, metavar="DIR",
                        help="serve a directory kept by an earlier --keep run as it is")
    args = parser.parse_args()
    work = args.reuse or Path(tempfile.mkdtemp(prefix="imgtag-bench-api-"))
    config = work / "imgtag.toml"
    base = (f'[index.edge]\ndir = "{work / "index"}"\n[store]\nurl = "{work / "objects"}"\n'
            f'[analyzers.semantic.conse]\ncache_dir = "{ROOT / ".imgtag" / "cache" / "bench"}"\n')
    if args.reuse:
        ids, filled = json.loads((work / "prepared.json").read_text())
        args.points = filled["points_written"] if filled else 0
    else:
        config.write_text(base)
        events = [json.loads(line) for line in run(
            "ingest", str(SAMPLES), "--tenant", "bench", "--customer", SAMPLE_CUSTOMER, "--json",
            config=config).splitlines() if line.startswith("{")]
        ids = [e["image_id"] for e in events if e.get("image_id")]
        assert len(ids) == len(list(SAMPLES.iterdir())), events
        filled = fill(work / "index", args.points) if args.points else None
        (work / "prepared.json").write_text(json.dumps([ids, filled]))
    mode = f"points_{args.points}" if args.points else "samples"
    key = json.loads(run("api-key", "--tenant", "bench", "--json"))
    config.write_text(base + f'[api]\nlisten = "127.0.0.1:0"\n[[api.keys]]\ntenant = "bench"\n'
                      f'sha256 = "{key["sha256"]}"\n')
    key = key["key"]
    load_before = os.getloadavg()[0]
    server = Server(config)
    url = server.url
    try:
        # The samples are still found first among themselves (in the
        # 100k mode, tenant `bench` also holds thousands of drinks).
        _, body = request(f"{url}/api/v1/search?text=coffee&customer={SAMPLE_CUSTOMER}", key)
        hits = json.loads(body)["hits"]
        assert hits[0]["record"]["filename"] == "coffee.png", hits[0]["record"]["filename"]
        # The tenant's images, sensitive ones excluded: a filter-only
        # search counts them without `stats`, which is slow in big tenants.
        tenant_images = (filled["tenant_sizes"]["bench"] if filled else 0) + len(ids)
        # What each query finds: hits, and why the first one matched.
        answers = {}
        for lang, queries in (("en", QUERIES_EN), ("zh", QUERIES_ZH)):
            for i, query in enumerate(queries):
                _, body = request(text_url(url, i, lang), key)
                hits = json.loads(body)["hits"]
                answers[query] = {"hits": len(hits), "first_why": hits[0].get("why") if hits else None}
        cat = (SAMPLES / "chelsea.png").read_bytes()
        cases = {
            "upload search (chelsea.png, 451x300 PNG)": lambda i: request(
                f"{url}/api/v1/search/image", key, *multipart("chelsea.png", cat)),
            "similar to a stored image": lambda i: request(
                f"{url}/api/v1/images/{ids[i % len(ids)]}/similar", key),
            "image record": lambda i: request(f"{url}/api/v1/images/{ids[i % len(ids)]}", key),
            "thumbnail bytes": lambda i: request(
                f"{url}/api/v1/images/{ids[i % len(ids)]}/renditions/thumb", key),
            "stats": lambda i: request(f"{url}/api/v1/stats", key),
        }
        results = {}
        # Text searches, English and Chinese alternately, one at a time.
        for i in range(20):  # warm-up
            request(text_url(url, i // 2, "en" if i % 2 == 0 else "zh"), key)
        client = {"en": [], "zh": []}
        server_ms = {"en": [], "zh": []}
        for i in range(2 * ROUNDS):
            lang = "en" if i % 2 == 0 else "zh"
            mark = server.mark()
            seconds, _ = request(text_url(url, i // 2, lang), key)
            client[lang].append(seconds)
            server_ms[lang].append(mark)
        marks = server_ms
        time.sleep(0.2)
        for lang in ("en", "zh"):
            server_ms[lang] = [server.timings[m][1] / 1000 for m in marks[lang]
                               if m < len(server.timings)]
        for lang, name in (("en", "English"), ("zh", "Chinese")):
            results[f"text search, {name}"] = {**percentiles(client[lang]),
                                               "server": percentiles(server_ms[lang])}
        results["text search, all"] = {**percentiles(client["en"] + client["zh"]),
                                        "server": percentiles(server_ms["en"] + server_ms["zh"])}
        # Four clients at once, text searches in both languages: throughput
        # on 2 cores.
        done, lock = [], threading.Lock()
        def client_thread(offset):
            for i in range(ROUNDS // 4):
                seconds, _ = request(text_url(url, offset + i, "en" if (offset + i) % 2 else "zh"), key)
                with lock:
                    done.append(seconds)
        started = time.perf_counter()
        threads = [threading.Thread(target=client_thread, args=(k * 7,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        concurrent = percentiles(done)
        concurrent["requests_per_s"] = round(len(done) / wall, 1)
        results["text search, 4 clients at once (both languages)"] = concurrent
        for name, call in cases.items():
            first = time.perf_counter()
            try:
                call(0)
            except urllib.error.HTTPError as error:
                # `stats` in a tenant of thousands of images outlasts the
                # server's request timeout (30 s): recorded, not timed.
                results[name] = {"error": f"HTTP {error.code} {error.reason}",
                                 "after_s": round(time.perf_counter() - first, 1)}
                continue
            for i in range(10):  # warm-up
                call(i)
            mark = server.mark()
            results[name] = {**percentiles([call(i)[0] for i in range(ROUNDS)]),
                             "server": percentiles(server.since(mark))}
    finally:
        server.stop()
        if args.keep or args.reuse:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    overall = results["text search, all"]
    run_report = {
        "what": ("HTTP API latency, client on loopback, sequential requests unless said; "
                 + ("the 5 sample photos alone in tenant `bench`" if not args.points else
                    f"the 5 sample photos plus {args.points} synthetic points "
                    f"({filled['tenant_sizes'].get('bench')} of them in tenant `bench`)")),
        "index_points": filled["index_points"] if filled else len(ids),
        "tenant_bench_images": tenant_images,
        "fill": filled,
        "server_start_seconds": round(server.start_s, 2),
        "queries": {"en": QUERIES_EN, "zh": QUERIES_ZH},
        "answers": answers,
        "target": {"text_search_p50_ms": TARGET_P50_MS, "applies": bool(args.points >= 100_000),
                   "met": overall["p50_ms"] <= TARGET_P50_MS},
        "rounds": ROUNDS,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "results": results,
    }
    out = ROOT / "bench" / "api.json"
    try:
        report = json.loads(out.read_text())
        if "runs" not in report:
            report = {}
    except (OSError, ValueError):
        report = {}
    report.update({
        "what": ("HTTP API latency (scripts/bench_api): `samples` is the default run, "
                 "`points_N` the run with `--points N`"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "profile": ("dev (dependencies at opt-level 3, imgtag-models and imgtag-pipeline 2, "
                    "imgtag-workers 0)"),
        "rounds": ROUNDS,
    })
    report.setdefault("runs", {})[mode] = {
        **run_report, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"mode {mode}: {run_report['what']}")
    print(f"{'request':<50} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'server p50':>11}")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<50} {r['error']} after {r['after_s']} s")
            continue
        extra = f"  ({r['requests_per_s']} req/s)" if "requests_per_s" in r else ""
        server_p50 = r["server"]["p50_ms"] if "server" in r else ""
        print(f"{name:<50} {r['n']:>5} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['mean_ms']:>8} "
              f"{server_p50:>11}{extra}")
    print(f"wrote {out.relative_to(ROOT)}")
    if write_table(report):
        print("wrote BENCHMARKS.md (between the bench_api markers)")


if __name__ == "__main__":
    sys.exit(main())
