#!/usr/bin/env python3
"""An S3-compatible server for imgtag's tests: moto's S3 on 127.0.0.1.

Run it through `scripts/s3-server` (which picks the venv `scripts/setup`
installs into .imgtag/venv-s3). On start it:

- creates an IAM user allowed `s3:*`, with one access key, and switches
  moto's authentication on (INITIAL_NO_AUTH_ACTION_COUNT = 0): every request
  must carry a valid AWS Signature Version 4 for that key, so a client that
  signs wrongly gets 403, as it would from AWS;
- creates the buckets named with `--bucket`;
- serves HTTP (or HTTPS with `--tls-cert`/`--tls-key`), one request at a
  time: moto checks `If-None-Match: *` and then writes, without a lock
  between the two, so two threads could both pass the check; serialising
  requests makes a conditional write atomic, as S3 guarantees;
- prints one JSON line on stdout, then serves until killed:
  {"endpoint": "http://127.0.0.1:PORT", "region": "us-east-1",
   "access_key_id": "...", "secret_access_key": "..."}

With `--exit-on-stdin-eof` it also exits when its standard input closes, so a
test that dies without stopping it does not leave it running.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading

REGION = "us-east-1"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--bucket", action="append", default=[], help="bucket to create (repeatable)")
    parser.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="exit when standard input is closed (the parent is gone)")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")

    # Imported here so that --help works without moto.
    from moto import settings
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.s3.models import s3_backends
    from werkzeug.serving import make_server

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    iam.create_user(REGION, "imgtag-tests")
    iam.put_user_policy("imgtag-tests", "s3-all", POLICY)
    key = iam.create_access_key("imgtag-tests")
    s3 = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for bucket in args.bucket:
        s3.create_bucket(bucket, REGION)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # moto builds whole responses; materialise anyway so that no
            # state is read after the lock is released.
            return list(app(environ, start_response))

    ssl_context = (args.tls_cert, args.tls_key) if args.tls_cert else None
    server = make_server("127.0.0.1", args.port, serialised, threaded=True,
                         request_handler=MotoRequestHandler, ssl_context=ssl_context)
    scheme = "https" if ssl_context else "http"
    print(json.dumps({
        "endpoint": f"{scheme}://127.0.0.1:{server.server_port}",
        "region": REGION,
        "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key,
    }), flush=True)

    if args.exit_on_stdin_eof:
        def watch_stdin() -> None:
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
