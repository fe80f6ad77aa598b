"""The landing loader: every new landing file into ``raw.*`` exactly once, set-based.

A file is keyed by the SHA-256 of its bytes (whatever its name): a file already in
``raw.landing_files`` is skipped. Each new file is loaded in ONE transaction:

1. stream the CSV (never the whole file in memory), validate each row
   (``lightbox.landing.validate``), and COPY the good rows straight into ``raw.<s>_history``
   and the bad ones into ``raw.quarantine`` with file, line and reason;
2. one ``insert … on conflict do update`` moves the file's newest version of each key into
   ``raw.<s>`` when it is later than what is there (later ``updated_at``; without one, or on a
   tie, the later file, then the later line);
3. record the file with its counts: rows in the file = loaded + quarantined.

A crash anywhere rolls the file back whole, so a rerun loads it again from scratch: nothing
is loaded twice, nothing is lost.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lightbox import db
from lightbox.landing.contract import SOURCES, Source
from lightbox.landing.validate import HeaderError, RowError, RowValidator

log = logging.getLogger(__name__)

CHUNK_ROWS = 50_000
MAX_FIELD_BYTES = 10 * 1024 * 1024
PAYLOAD_LIMIT = 4000  # characters of a bad row kept in raw.quarantine.payload

csv.field_size_limit(MAX_FIELD_BYTES)


@dataclass
class FileResult:
    source: str
    path: str
    sha256: str
    status: str  # loaded, skipped (already loaded), empty
    rows_total: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    file_id: int | None = None


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def new_files(self) -> list[FileResult]:
        return [f for f in self.files if f.status != "skipped"]

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def summary(self) -> dict:
        by_source: dict[str, dict[str, int]] = {}
        for f in self.new_files:
            s = by_source.setdefault(f.source, {"files": 0, "loaded": 0, "quarantined": 0})
            s["files"] += 1
            s["loaded"] += f.rows_loaded
            s["quarantined"] += f.rows_quarantined
        return {
            "files_seen": len(self.files),
            "files_new": len(self.new_files),
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "by_source": by_source,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def landing_files(landing: Path) -> Iterator[tuple[Source, Path]]:
    """(source, file) for every CSV under a source folder, in a stable order."""
    for name in sorted(SOURCES):
        folder = landing / name
        if folder.is_dir():
            for path in sorted(folder.rglob("*.csv")):
                if path.is_file():
                    yield SOURCES[name], path


class _Records:
    """CSV records of a byte stream with the line each starts on. Invalid UTF-8 survives as
    surrogate escapes (the validator rejects those rows); a CSV syntax error rejects one
    record and the reader carries on."""

    def __init__(self, fh):
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
        self.reader = csv.reader(text, strict=True)
        self.next_line = 1

    def __iter__(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        while True:
            start = self.next_line
            try:
                fields = next(self.reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = max(self.reader.line_num, start)
                self.next_line = end + 1
                where = f"line {start}" if end == start else f"lines {start}-{end}"
                yield start, None, f"unreadable CSV at {where}: {exc}"
                continue
            self.next_line = self.reader.line_num + 1
            if fields == []:  # a blank line is no record
                continue
            yield start, fields, None


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


class _CopyBuffer:
    """Rows collected as CSV text and sent to PostgreSQL with COPY in chunks. The COPY of one
    chunk runs in a background thread while the next chunk is validated: the server parses
    on the second core meanwhile (psycopg2 releases the GIL while it waits on libpq)."""

    def __init__(self, cur, table: str, columns: list[str], executor):
        self.cur = cur
        self.sql = f"copy {table} ({', '.join(columns)}) from stdin with (format csv)"
        self.executor = executor
        self.inflight = None
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.pending = 0
        self.total = 0

    def add(self, row) -> None:
        self.writer.writerow(row)
        self.pending += 1
        if self.pending >= CHUNK_ROWS:
            self.flush()

    def _copy(self, buffer: io.StringIO) -> None:
        buffer.seek(0)
        self.cur.copy_expert(self.sql, buffer)

    def flush(self) -> None:
        if self.pending:
            self.wait()
            self.inflight = self.executor.submit(self._copy, self.buffer)
            self.total += self.pending
            self.pending = 0
            self.buffer = io.StringIO()
            self.writer = csv.writer(self.buffer, lineterminator="\n")

    def wait(self) -> None:
        if self.inflight is not None:
            self.inflight.result()  # re-raises a COPY error here
            self.inflight = None


def _payload(fields: list[str] | None, raw: str | None = None) -> str:
    text = raw if fields is None else _csv_line(fields).rstrip("\n")
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if text else ""
    return text.replace("\x00", "\ufffd")[:PAYLOAD_LIMIT]


def _upsert_current_sql(source: Source) -> str:
    cols = list(source.column_names) + ["extra", "_file_id", "_line", "_arrived_at"]
    key = ", ".join(source.key)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in source.key)
    if source.has_updated_at:
        order = f"{key}, updated_at desc, _line desc"
        newer = (
            f"(excluded.updated_at, excluded._file_id, excluded._line) >= "
            f"(raw.{source.name}.updated_at, raw.{source.name}._file_id, raw.{source.name}._line)"
        )
    else:
        order = f"{key}, _line desc"
        newer = f"(excluded._file_id, excluded._line) >= (raw.{source.name}._file_id, raw.{source.name}._line)"
    col_list = ", ".join(cols)
    return (
        f"insert into raw.{source.name} ({col_list}) "
        f"select distinct on ({key}) {col_list} from raw.{source.name}_history "
        f"where _file_id = %(file_id)s order by {order} "
        f"on conflict ({key}) do update set {updates} where {newer}"
    )


def load_file(conn, source: Source, path: Path, landing: Path | None = None) -> FileResult:
    """Load one file in one transaction (the caller's connection, committed here)."""
    sha = file_sha256(path)
    shown = str(path.relative_to(landing)) if landing and path.is_relative_to(landing) else str(path)
    with conn.cursor() as cur:
        # Two loaders racing for the same bytes: the second waits here, then skips.
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (sha,))
        cur.execute("select file_id from raw.landing_files where sha256 = %s", (sha,))
        if cur.fetchone():
            conn.commit()
            return FileResult(source.name, shown, sha, "skipped")
        cur.execute(
            "insert into raw.landing_files (source, path, sha256, size_bytes) values (%s, %s, %s, %s) "
            "returning file_id, loaded_at",
            (source.name, shown, sha, path.stat().st_size),
        )
        file_id, arrived_at = cur.fetchone()
        result = FileResult(source.name, shown, sha, "loaded", file_id=file_id)
        # One COPY at a time on the connection: a single background thread.
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy")
        good = _CopyBuffer(
            cur, f"raw.{source.name}_history", [*source.column_names, "extra", "_file_id", "_line", "_arrived_at"], executor
        )
        bad = _CopyBuffer(
            cur, "raw.quarantine", ["source", "file", "file_sha256", "line", "reason", "payload", "loaded_at"], executor
        )
        arrived = arrived_at.isoformat()

        def reject(line: int, reason: str, payload: str) -> None:
            bad.add((source.name, shown, sha, line, reason, payload, arrived))

        with path.open("rb") as fh:
            records = iter(_Records(fh))
            validator = None
            header_error = None
            for line, fields, error in records:
                if validator is None and header_error is None:
                    if fields is None:
                        header_error = f"header row unreadable: {error}"
                        reject(line, header_error, "")
                        result.rows_total += 1
                        continue
                    try:
                        validator = RowValidator(source, fields)
                        continue
                    except HeaderError as exc:
                        header_error = str(exc)
                        # The first line is data if no header is recognisable: keep it too.
                        if "missing or unrecognised" in header_error:
                            result.rows_total += 1
                            reject(line, header_error, _payload(fields))
                        continue
                result.rows_total += 1
                if error is not None:
                    reject(line, error, "")
                    continue
                if header_error is not None:
                    reject(line, header_error, _payload(fields))
                    continue
                try:
                    values = validator.validate(list(fields))
                except RowError as exc:
                    reject(line, str(exc), _payload(fields))
                    continue
                values.extend((file_id, line, arrived))
                good.add(values)
        try:
            good.flush()
            bad.flush()
            good.wait()
            bad.wait()
        finally:
            executor.shutdown(wait=True)
        result.rows_loaded = good.total
        result.rows_quarantined = bad.total
        if result.rows_total == 0:
            result.status = "empty"
        if good.total:
            cur.execute(_upsert_current_sql(source), {"file_id": file_id})
        cur.execute(
            "update raw.landing_files set rows_total = %s, rows_loaded = %s, rows_quarantined = %s, status = %s "
            "where file_id = %s",
            (result.rows_total, result.rows_loaded, result.rows_quarantined, result.status, file_id),
        )
        assert result.rows_total == result.rows_loaded + result.rows_quarantined
    conn.commit()
    log.info(
        "%s %s: %d rows, %d loaded, %d quarantined",
        source.name, shown, result.rows_total, result.rows_loaded, result.rows_quarantined,
    )
    return result


def ingest_folder(landing: str | Path, url: str | None = None, sources: list[str] | None = None) -> IngestResult:
    """Load every new file of the landing folder. Rerunning it loads nothing twice."""
    landing = Path(landing)
    result = IngestResult()
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist (set LIGHTBOX_LANDING or run `lightbox seed`)")
    conn = db.connect(url)
    try:
        for source, path in landing_files(landing):
            if sources and source.name not in sources:
                continue
            try:
                result.files.append(load_file(conn, source, path, landing))
            except Exception:
                conn.rollback()
                raise
    finally:
        conn.close()
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(ingest_folder(sys.argv[1]).summary())
