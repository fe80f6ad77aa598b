"""Photo media: where a photo's bytes may come from, and reading them safely.

The landing contract (shared/DESIGN.md) says an ``image_path`` is one of:

- a path relative to the landing folder (``images/…``) that stays inside it, symlinks
  included;
- an ``http(s)://`` URL, fetched by the crawler's safe fetcher (public addresses only);
- a ``file://`` or ``s3://`` URI inside a media root (``LIGHTBOX_MEDIA_ROOTS``, default the
  landing folder and the object store).

Anything else is refused. The rule is checked twice: lexically at ingest
(``image_path_problem``, so that a bad path is quarantined with its reason), and again on the
resolved path when the bytes are read (``read_photo_bytes``), because a symlink or a changed
setting can move a path that looked fine. Whoever serves or copies a photo (replication, the
inspector app) gets only bytes that Pillow identifies as an image and, when the row gives a
``sha256``, bytes of that hash.
"""
from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

MAX_BYTES = 100 * 1024 * 1024
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HTTP = re.compile(r"^https?://[^\s/$.?#@][^\s@]*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MediaError(ValueError):
    """An image_path outside the contract, or bytes that are not the photo."""


def _roots(roots=None) -> tuple[str, ...]:
    if roots is not None:
        return tuple(r.rstrip("/") for r in roots)
    from lightbox.config import settings

    return settings().media_roots


def _landing(landing: Path | str | None) -> str:
    if landing is None:
        from lightbox.config import settings

        landing = settings().landing
    return os.fspath(landing)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _uri_problem(value: str, scheme: str, roots: tuple[str, ...]) -> str | None:
    """None when a file:// or s3:// URI lies inside one of ``roots`` (lexically)."""
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        return "a media URI has no query or fragment"
    raw_path = unquote(parts.path)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            return "a file:// URI names no host"
        if not raw_path.startswith("/"):
            return "a file:// URI has an absolute path"
        where = posixpath.normpath(raw_path)
    else:
        if not parts.netloc:
            return "an s3:// URI names its bucket"
        segments = raw_path.split("/")
        if any(s in (".", "..") for s in segments):
            return "an s3:// key has no '.' or '..' segments"
        where = parts.netloc + raw_path
    for root in roots:
        root_parts = urlsplit(root)
        if root_parts.scheme != scheme:
            continue
        base = posixpath.normpath(unquote(root_parts.path)) if scheme == "file" else root_parts.netloc + unquote(root_parts.path)
        if _inside(where, base.rstrip("/") or "/"):
            return None
    return f"{scheme}:// URI outside the media roots (LIGHTBOX_MEDIA_ROOTS)"


def image_path_problem(value: str, roots=None) -> str | None:
    """Why ``value`` is not an image_path the contract allows, or None. Lexical only (no
    file system access): ingest calls it for every row."""
    if _CONTROL.search(value):
        return "control character in the path"
    match = _SCHEME.match(value)
    if match is None:
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", value):
            return "an absolute path (a landing path is relative to the landing folder)"
        if "\\" in value:
            return "a backslash in the path (use '/')"
        normal = posixpath.normpath(value)
        if normal == ".." or normal.startswith("../") or normal == ".":
            return "the path leaves the landing folder"
        return None
    scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        return None if _HTTP.match(value) else "not a valid http(s) URL"
    if scheme in ("file", "s3"):
        return _uri_problem(value, scheme, _roots(roots))
    return f"scheme {scheme}:// is not allowed (landing path, http(s)://, file:// or s3:// inside a media root)"


def photo_url(image_path: str, landing: Path | str | None = None, roots=None) -> str:
    """The URL to read a photo from, after the contract's checks on the *resolved* path
    (symlinks followed). Raises MediaError."""
    problem = image_path_problem(image_path, roots)
    if problem:
        raise MediaError(f"image_path {image_path[:200]!r}: {problem}")
    scheme = (_SCHEME.match(image_path) or [None, ""])[1].lower()
    if scheme in ("http", "https", "s3"):
        return image_path
    if scheme == "file":
        real = os.path.realpath(unquote(urlsplit(image_path).path))
        for root in _roots(roots):
            parts = urlsplit(root)
            if parts.scheme == "file" and _inside(real, os.path.realpath(unquote(parts.path)).rstrip("/") or "/"):
                return f"file://{real}"
        raise MediaError(f"image_path {image_path[:200]!r}: resolves outside the media roots")
    base = os.path.realpath(_landing(landing))
    real = os.path.realpath(os.path.join(base, image_path))
    if not real.startswith(base + os.sep):
        raise MediaError(f"image_path {image_path[:200]!r}: resolves outside the landing folder")
    return f"file://{real}"


def check_image(data: bytes, sha256: str | None = None, what: str = "image") -> None:
    """Raise MediaError unless ``data`` is an image (Pillow identifies and verifies it) and,
    when ``sha256`` is given, has that hash."""
    if sha256 and hashlib.sha256(data).hexdigest() != sha256.lower():
        raise MediaError(f"{what}: bytes differ from the recorded sha256")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"{what}: not an image ({type(exc).__name__})") from None
    except Image.DecompressionBombError:
        raise MediaError(f"{what}: too many pixels") from None


def read_photo_bytes(
    image_path: str,
    landing: Path | str | None = None,
    max_bytes: int = MAX_BYTES,
    sha256: str | None = None,
    roots=None,
) -> bytes:
    """The bytes of a catalogue photo, checked (see ``check_image``). Raises
    FileNotFoundError, MediaError (a ValueError) or the safe fetcher's FetchError."""
    url = photo_url(image_path, landing, roots)
    if url.startswith(("http://", "https://")):
        from lightbox.crawl.fetch import (
            fetch_bytes,  # the crawler's rules: public addresses only
        )

        data = fetch_bytes(url, max_bytes=max_bytes)
    elif url.startswith("file://"):
        path = url[len("file://"):]
        # O_NOFOLLOW: a symlink swapped in after the check above is refused, not followed.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(max_bytes + 1)
    else:
        from lightbox.objects import filesystem

        fs, path = filesystem(url)
        with fs.open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MediaError(f"{image_path[:200]}: over the {max_bytes}-byte limit")
    check_image(data, sha256, what=image_path[:200])
    return data
