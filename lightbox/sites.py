"""Serving the sample websites on loopback: one threaded stdlib HTTP server that virtual-hosts
by the Host header, so ``http://dailyfotonews.com:8765/`` (resolved to 127.0.0.1 through
``LIGHTBOX_CRAWL_RESOLVE``) reads ``sites_dir/dailyfotonews.com/index.html``.

Static files only: ``/`` and folders map to ``index.html``, missing files are 404, the
Content-Type comes from the file extension, and no path leaves the host's folder.
"""
from __future__ import annotations

import mimetypes
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_PORT = 8765
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".xml": "application/xml",
}


def content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def resolve(root: Path, host_header: str | None, url_path: str) -> Path | None:
    """The file a request names, or None (unknown host, missing file, or a path escaping the host)."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        return None
    host = host.rsplit(":", 1)[0] if ":" in host else host
    host = host.rstrip(".")
    if not host or "/" in host or "\\" in host or host in (".", ".."):
        return None
    site = (root / host).resolve()
    if not site.is_dir() or site.parent != root:
        return None
    path = unquote(urlsplit(url_path).path)
    target = (site / path.lstrip("/")).resolve()
    if target != site and site not in target.parents:
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    server_version = "LightboxSampleSites/1.0"

    def __init__(self, *args, root: Path, **kwargs):
        self.root = root
        super().__init__(*args, **kwargs)

    def _send(self, head_only: bool) -> None:
        target = resolve(self.root, self.headers.get("Host"), self.path)
        if target is None:
            body = b"<!doctype html><title>404</title><h1>Not found</h1>\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(body)
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", content_type(target))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head_only:
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._send(head_only=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(head_only=True)

    def log_message(self, format, *args) -> None:  # quiet: the crawler records what it fetched
        pass


class SitesServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        stop(self)


def serve_sites(sites_dir, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> tuple[SitesServer, threading.Thread]:
    """Start serving ``sites_dir`` on ``host:port`` in a daemon thread (port 0 picks a free
    port: read ``server.port``). Stop it with ``stop(server)`` or ``server.stop()``."""
    root = Path(sites_dir).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    server = SitesServer((host, port), partial(_Handler, root=root))
    thread = threading.Thread(target=server.serve_forever, name=f"sample-sites:{server.port}", daemon=True)
    thread.start()
    return server, thread


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (for tests that generate and serve the sites)."""
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def stop(server: SitesServer) -> None:
    server.shutdown()
    server.server_close()
