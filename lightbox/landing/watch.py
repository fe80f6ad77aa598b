"""Noticing new landing files cheaply: what the landing folder's event trigger
(:mod:`lightbox.triggers`) and ``ingest_landing``'s first task look at. No Airflow here.

A *snapshot* maps each landing CSV (path relative to the landing folder) to its size and
modification time; comparing two snapshots says what arrived. It lists directories only
(no file is read), so polling it every second costs a few milliseconds even with thousands
of files. Which files are *new to the warehouse* is a question for ``raw.landing_files``:
a landing file never changes once written (the landing contract), so a path already
recorded there has been loaded, and the loader's content-hash check stays the final word.
"""
from __future__ import annotations

import os
from pathlib import Path

from lightbox.landing.contract import SOURCES

Snapshot = dict[str, tuple[int, int]]  # relative path -> (size in bytes, mtime in ns)


def _walk(folder: str, prefix: str, out: Snapshot) -> None:
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        rel = f"{prefix}/{entry.name}"
        try:
            if entry.is_dir(follow_symlinks=False):
                _walk(entry.path, rel, out)
            elif entry.name.endswith(".csv") and entry.is_file():
                st = entry.stat()
                out[rel] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:  # renamed or removed while we looked
            continue


def snapshot(landing: str | Path) -> Snapshot:
    """Every ``*.csv`` under a source folder of the landing folder (what the loader reads)."""
    out: Snapshot = {}
    for name in sorted(SOURCES):
        _walk(os.path.join(str(landing), name), name, out)
    return out


def arrived(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths that are new in ``after`` or whose size or mtime changed since ``before``."""
    return sorted(path for path, stat in after.items() if before.get(path) != stat)


def unloaded_sources(conn, landing: str | Path) -> list[str]:
    """The sources that hold a landing file whose path ``raw.landing_files`` has not
    recorded yet: the only ones an ingest run needs to look at."""
    paths = snapshot(landing)
    if not paths:
        return []
    with conn.cursor() as cur:
        cur.execute("select path from raw.landing_files where path = any(%s)", (list(paths),))
        known = {row[0] for row in cur.fetchall()}
    return sorted({path.split("/", 1)[0] for path in paths if path not in known})
