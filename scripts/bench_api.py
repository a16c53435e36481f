"""Search latency through the HTTP API; see scripts/bench_api.

Standard library only. The server is the dev-profile binary the tests use;
the client runs on the same 2 cores, so the figures include its share.
"""

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
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "debug" / "imgtag"
SAMPLES = ROOT / ".imgtag" / "samples"
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "200"))
QUERIES = ["coffee", "a cup of coffee", "cat", "a red motorcycle", "rocket launch",
           "astronaut", "animal", "vehicle", "drink on a table", "space"]


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


def main():
    work = Path(tempfile.mkdtemp(prefix="imgtag-bench-api-"))
    config = work / "imgtag.toml"
    base = (f'[index.edge]\ndir = "{work / "index"}"\n[store]\nurl = "{work / "objects"}"\n'
            f'[analyzers.semantic.conse]\ncache_dir = "{ROOT / ".imgtag" / "cache" / "bench"}"\n')
    config.write_text(base)
    run("ingest", str(SAMPLES), "--tenant", "bench", config=config)
    key = json.loads(run("api-key", "--tenant", "bench", "--json"))
    config.write_text(base + f'[api]\nlisten = "127.0.0.1:0"\n[[api.keys]]\ntenant = "bench"\n'
                      f'sha256 = "{key["sha256"]}"\n')
    key = key["key"]
    server = subprocess.Popen([str(BIN), "--config", str(config), "serve"], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "IMGTAG_LOG": "info"})
    url = None
    for line in server.stderr:
        match = re.search(r"serving url=(\S+)", line)
        if match:
            url = match.group(1)
            break
    assert url, "the server did not start"
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    try:
        _, body = request(f"{url}/api/v1/search?text=coffee", key)
        hits = json.loads(body)["hits"]
        assert hits[0]["record"]["filename"] == "coffee.png", hits[0]["record"]["filename"]
        ids = [h["record"]["image_id"] for h in hits]
        cat = (SAMPLES / "chelsea.png").read_bytes()
        cases = {
            "text search": lambda i: request(
                f"{url}/api/v1/search?" + urllib.parse.urlencode({"text": QUERIES[i % len(QUERIES)]}), key),
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
        for name, call in cases.items():
            for i in range(10):  # warm-up
                call(i)
            results[name] = percentiles([call(i)[0] for i in range(ROUNDS)])
        # Four clients at once, text searches: throughput on 2 cores.
        done, lock = [], threading.Lock()
        def client(offset):
            for i in range(ROUNDS // 4):
                seconds, _ = cases["text search"](offset + i)
                with lock:
                    done.append(seconds)
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(k * 1000,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        concurrent = percentiles(done)
        concurrent["requests_per_s"] = round(len(done) / wall, 1)
        results["text search, 4 clients at once"] = concurrent
    finally:
        server.terminate()
        server.wait(timeout=60)
    report = {
        "what": "HTTP API latency on the 5 sample photos, client on loopback, sequential requests",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "profile": "dev (dependencies at opt-level 3)",
        "rounds": ROUNDS,
        "results": results,
    }
    out = ROOT / "bench" / "api.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'request':<44} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, r in results.items():
        extra = f"  ({r['requests_per_s']} req/s)" if "requests_per_s" in r else ""
        print(f"{name:<44} {r['n']:>5} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['mean_ms']:>8}{extra}")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
