"""A region's object store, through fsspec (``file://`` by default, ``s3://`` in the cluster).

Objects live under ``<region uri>/photos/<shard>/<photo id>.<sha256[:16]><ext>``: the key
names the photo and its content, so a new version of a photo gets a new key and the
inventory never points at a key whose bytes changed under it. ``shard`` is the first two
hex digits of SHA-256(photo_id), to keep folders small. The photo id is percent-encoded
(dots included) so the first dot of a name always ends the id.

Every method raises on failure: a region that cannot be reached must fail its sync loudly.
"""
from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import quote, unquote

from lightbox.objects import filesystem

PREFIX = "photos"
_EXT = re.compile(r"^\.[a-z0-9]{1,6}$")


class RegionUnreachable(RuntimeError):
    """The region's store cannot be listed or written."""


def object_key(photo_id: str, sha256: str, image_path: str = "") -> str:
    shard = hashlib.sha256(photo_id.encode()).hexdigest()[:2]
    name = quote(photo_id, safe="-_~").replace(".", "%2E")
    ext = ""
    base = image_path.rsplit("/", 1)[-1]
    if "." in base:
        candidate = "." + base.rsplit(".", 1)[-1].lower()
        if _EXT.match(candidate):
            ext = candidate
    return f"{PREFIX}/{shard}/{name}.{sha256[:16]}{ext}"


def photo_id_of(key: str) -> str | None:
    """The photo id a key belongs to, or None for a key that is not one of ours."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    name = parts[2]
    if "." not in name:
        return None
    photo_id = unquote(name.split(".", 1)[0])
    if hashlib.sha256(photo_id.encode()).hexdigest()[:2] != parts[1]:
        return None
    return photo_id


class RegionStore:
    """Keys are relative to the region's root URL."""

    def __init__(self, uri: str):
        self.uri = uri.rstrip("/")
        self.fs, self.root = filesystem(self.uri)
        self.root = self.root.rstrip("/")
        self._dirs: set[str] = set()
        self._local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def list(self) -> dict[str, int]:
        """Every object under ``photos/``: {key: size in bytes}. Creates the root if missing."""
        try:
            self.fs.makedirs(self.root, exist_ok=True)
            base = self._path(PREFIX)
            if not self.fs.exists(base):
                return {}
            if self._local:
                return self._list_local(base)
            found = self.fs.find(base, detail=True)
        except Exception as exc:  # any failure to list is an unreachable region
            raise RegionUnreachable(f"cannot list region store {self.uri}: {exc}") from exc
        prefix_len = len(self.root) + 1
        listing = {}
        for path, info in found.items():
            if info.get("type", "file") != "file":
                continue
            path = path.rstrip("/")
            if not path.startswith(self.root + "/"):
                # some filesystems return paths without the leading slash
                path = "/" + path if ("/" + path).startswith(self.root + "/") else path
            listing[path[prefix_len:]] = int(info.get("size") or 0)
        return listing

    def _list_local(self, base: str) -> dict[str, int]:
        """The same listing as ``find``, with os.scandir: a steady-state sync of a large local
        region spends most of its time listing, and fsspec's per-file info() doubles it."""
        listing = {}
        prefix_len = len(self.root) + 1
        stack = [base]
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        listing[entry.path[prefix_len:]] = entry.stat(follow_symlinks=False).st_size
        return listing

    # Local stores use the os module directly: the same operations as fsspec's, without its
    # per-call overhead, which dominates a first sync of many small objects.
    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        parent = path.rsplit("/", 1)[0]
        if self._local:
            if parent not in self._dirs:
                os.makedirs(parent, exist_ok=True)
                self._dirs.add(parent)
            with open(path, "wb") as fh:
                fh.write(data)
            return
        self.fs.makedirs(parent, exist_ok=True)
        with self.fs.open(path, "wb") as fh:
            fh.write(data)

    def get(self, key: str) -> bytes:
        if self._local:
            with open(self._path(key), "rb") as fh:
                return fh.read()
        with self.fs.open(self._path(key), "rb") as fh:
            return fh.read()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            if self._local:
                os.remove(path)
            else:
                self.fs.rm_file(path)
        except FileNotFoundError:
            pass  # already gone: the goal of a delete
