"""moto server for tests and local work, with DynamoDB writes made atomic.

Real DynamoDB evaluates a ConditionExpression and applies the write as one atomic step
per item. moto's threaded server evaluates the condition and writes in separate steps
without a lock, so two concurrent conditional writes can both succeed (lost updates in
a token bucket or counter). This launcher runs the stock moto application and
serialises DynamoDB requests only (identified by their X-Amz-Target header), which
restores DynamoDB's guarantee; SQS long polls and everything else stay concurrent.

Usage: python moto_server.py [-H HOST] [-p PORT]
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class SerialisedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            # Materialise the body inside the lock: moto does its work while the
            # response iterable is produced.
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        SerialisedDynamoDB(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
