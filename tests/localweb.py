"""A small local web for tests and benchmarks: a threaded stdlib HTTP server, virtual-hosted
by the Host header, serving a table of routes. Routes can stream (slow drips, endless
bodies) and every request is counted, so a test can prove what was never fetched.

Test code only (it lives under tests/); the demo serves its sample sites with ``lightbox.sites``.
"""
from __future__ import annotations

import http.server
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"


Route = Callable[[str, str], Response]  # (host, path?query) -> Response


class LocalWeb:
    """``with LocalWeb(host="127.0.0.1") as web: web.route("site.test", "/", ...)``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[tuple[str | None, str], Route | Response] = {}
        self.hits: Counter = Counter()
        self.lock = threading.Lock()
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                with web.lock:
                    web.hits[(host, self.path)] += 1
                path = urlsplit(self.path).path
                route = web.routes.get((host, path)) or web.routes.get((None, path))
                if route is None:
                    response = Response(404, b"not found", content_type="text/plain")
                else:
                    response = route(host, self.path) if callable(route) else route
                try:
                    self._send(response)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, response: Response):
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                headers = {k.lower(): v for k, v in response.headers.items()}
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if isinstance(response.body, bytes):
                    if "content-length" not in headers:
                        self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                    return
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                for chunk in response.body:
                    self.wfile.write(chunk)
                    self.wfile.flush()

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients hanging up on hostile routes is the point, not an error

        self.server = Server((host, port), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.host, self.port = self.server.server_address[:2]
        self.thread: threading.Thread | None = None

    def route(self, host: str | None, path: str, response: Route | Response) -> None:
        self.routes[(host.lower() if host else None, path)] = response

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits_for(self, host: str | None = None, prefix: str = "") -> int:
        with self.lock:
            return sum(n for (h, p), n in self.hits.items() if (host is None or h == host) and p.startswith(prefix))

    def start(self) -> "LocalWeb":
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "LocalWeb":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def drip(every: float = 0.2, chunk: bytes = b"<!-- -->", forever: bool = True, count: int = 10_000) -> Iterable[bytes]:
    """A body that never finishes: a few bytes at a time, slowly."""
    yield b"<html><body>"
    for _ in range(count if not forever else 10**9):
        time.sleep(every)
        yield chunk


def endless(chunk_size: int = 64 * 1024, total: int = 20 * 1024 * 1024, prefix: bytes = b"<html><body>") -> Iterable[bytes]:
    """A large body streamed without a Content-Length."""
    yield prefix
    sent = len(prefix)
    block = b"<p>" + b"x" * (chunk_size - 7) + b"</p>\n"
    while sent < total:
        yield block
        sent += len(block)
