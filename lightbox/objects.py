"""Object storage through fsspec: the primary media store, evidence, model artifacts and the
regional mirrors are all URLs (``file://`` here, ``s3://`` in the cluster mode).

Storage only: reading a catalogue photo by its ``image_path`` (the landing contract's rule,
safe HTTP) is ``lightbox.landing.media.read_photo_bytes``.
"""
from __future__ import annotations

import hashlib


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
