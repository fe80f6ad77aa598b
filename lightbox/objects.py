"""Object storage through fsspec: the primary media store, evidence, model artifacts and the
regional mirrors are all URLs (``file://`` here, ``s3://`` in the cluster mode).

``read_photo_bytes`` resolves a photo's ``image_path`` the way the landing contract says:
relative to the landing folder (``images/…``) or a ``file://``, ``s3://`` or ``http(s)://``
URI. HTTP(S) goes through the crawler's safe fetcher, never straight to the network.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from lightbox.config import settings


def filesystem(url: str):
    """(fsspec filesystem, path inside it) for a URL or a local path."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def put_bytes(url: str, data: bytes) -> str:
    fs, path = filesystem(url)
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    with fs.open(path, "wb") as fh:
        fh.write(data)
    return url


def get_bytes(url: str) -> bytes:
    fs, path = filesystem(url)
    with fs.open(path, "rb") as fh:
        return fh.read()


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return fs.exists(path)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_content_addressed(base_url: str, data: bytes, suffix: str = "") -> tuple[str, str]:
    """Store ``data`` under ``base_url/<sha256[:2]>/<sha256><suffix>`` (once; the same bytes
    always land at the same key). Returns (url, sha256)."""
    digest = sha256_hex(data)
    url = join(base_url, digest[:2], digest + suffix)
    if not exists(url):
        put_bytes(url, data)
    return url, digest


def photo_url(image_path: str, landing: Path | None = None) -> str:
    """The URL of a photo's image from its landing ``image_path``."""
    if "://" in image_path:
        return image_path
    base = landing or settings().landing
    resolved = (base / image_path).resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise ValueError(f"image_path {image_path!r} points outside the landing folder")
    return f"file://{resolved}"


def read_photo_bytes(image_path: str, landing: Path | None = None, max_bytes: int = 100 * 1024 * 1024) -> bytes:
    """The bytes of a catalogue photo. Raises FileNotFoundError or ValueError with a reason."""
    url = photo_url(image_path, landing)
    if url.startswith(("http://", "https://")):
        from lightbox.crawl.fetch import fetch_bytes  # safe fetch: public addresses only

        return fetch_bytes(url, max_bytes=max_bytes)
    fs, path = filesystem(url)
    size = fs.size(path)
    if size is not None and size > max_bytes:
        raise ValueError(f"{image_path}: {size} bytes is over the {max_bytes}-byte limit")
    with fs.open(path, "rb") as fh:
        return fh.read()
