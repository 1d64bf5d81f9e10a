"""A local HTTP server on 127.0.0.1 laid out like raw.githubusercontent.com release tags."""

from __future__ import annotations

import functools
import json
import threading
import time
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from compiler.crdschemas.embedded import BUNDLE


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, *args: object, server_ref: ReleaseServer, **kwargs: object) -> None:
        self.ref = server_ref
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.ref.requests.append(self.path)
        special = self.ref.routes.get(self.path)
        if special is not None:
            special(self)
            return
        body = self.ref.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ReleaseServer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[str] = []
        handler = functools.partial(_Handler, server_ref=self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def crd_yaml(group: str, kind: str, plural: str, versions: dict[str, dict]) -> bytes:
    """A CustomResourceDefinition as upstream release files hold it."""
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": kind, "plural": plural},
            "scope": "Cluster",
            "versions": [
                {"name": v, "served": True, "storage": i == 0, "schema": {"openAPIV3Schema": s}}
                for i, (v, s) in enumerate(versions.items())
            ],
        },
    }
    return yaml.safe_dump(crd, sort_keys=False).encode()


def embedded_schema(name: str) -> dict:
    with zipfile.ZipFile(BUNDLE) as archive:
        return json.loads(archive.read(name))


def drip(handler: BaseHTTPRequestHandler) -> None:
    """Headers at once, then one byte every 0.3 s, forever (until the client gives up)."""
    handler.send_response(200)
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    try:
        for _ in range(1000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.3)
    except OSError:
        pass


def redirect_to(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return handle
