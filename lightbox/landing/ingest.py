"""The landing loader: every new landing file into ``raw.*`` exactly once, set-based.

A file is keyed by its source and the SHA-256 of its bytes (whatever its name): a file
already recorded in ``raw.landing_files`` for that source is skipped (a ``failed`` one is
retried). Each new file is loaded in ONE transaction:

1. stream the CSV (never the whole file in memory), validate each row
   (``lightbox.landing.validate``), and COPY the good rows straight into ``raw.<s>_history``
   and the bad ones into ``raw.quarantine`` with file, line and reason;
2. one ``insert … on conflict do update`` moves the file's newest version of each key into
   ``raw.<s>`` when it is later than what is there (later ``updated_at``; without one, or on a
   tie, the later file, then the later line);
3. record the file with its counts: rows in the file = loaded + quarantined.

Every file ends in exactly one recorded state: ``loaded``, ``empty``, ``quarantined`` (the
whole file, with the reason), ``failed`` (anything PostgreSQL refused or any other error:
the file is rolled back whole, recorded with the error, and retried by the next run; the
files after it load all the same) or ``ignored`` (a CSV outside the contract's folders,
logged). Nothing is loaded twice, nothing is lost, no file blocks another.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lightbox import db
from lightbox.landing.contract import SOURCES, Source
from lightbox.landing.validate import HeaderError, RowError, RowValidator

log = logging.getLogger(__name__)

CHUNK_ROWS = 50_000
PARALLEL_MIN_BYTES = 8 * 1024 * 1024  # smaller files are validated in one piece
PARALLEL_RANGE_BYTES = 4 * 1024 * 1024
MAX_FIELD_BYTES = 10 * 1024 * 1024
PAYLOAD_LIMIT = 4000  # characters of a bad row kept in raw.quarantine.payload

csv.field_size_limit(MAX_FIELD_BYTES)


@dataclass
class FileResult:
    source: str
    path: str
    sha256: str
    status: str  # loaded, empty, quarantined, failed, ignored, skipped (already recorded)
    rows_total: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    file_id: int | None = None
    error: str | None = None


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def new_files(self) -> list[FileResult]:
        return [f for f in self.files if f.status not in ("skipped", "ignored", "failed")]

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def ignored(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "ignored"]

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
            "files_failed": [{"path": f.path, "error": f.error} for f in self.failed],
            "files_ignored": [f.path for f in self.ignored],
            "by_source": by_source,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unknown_files(landing: Path) -> Iterator[tuple[str, Path]]:
    """(folder, file) for every CSV of the landing folder outside the source folders (the
    landing folder's own top level included), in a stable order. ``images/`` holds media."""
    if not landing.is_dir():
        return
    for entry in sorted(landing.iterdir()):
        if entry.is_file() and entry.suffix.lower() == ".csv":
            yield "", entry
        elif entry.is_dir() and entry.name not in SOURCES:
            for path in sorted(entry.rglob("*.csv")):
                if path.is_file():
                    yield entry.name, path


def landing_files(landing: Path) -> Iterator[tuple[Source, Path]]:
    """(source, file) for every CSV under a source folder, in a stable order."""
    for name in sorted(SOURCES):
        folder = landing / name
        if folder.is_dir():
            for path in sorted(folder.rglob("*.csv")):
                if path.is_file():
                    yield SOURCES[name], path


class _Records:
    """CSV records of a byte stream with the line each starts on (``first_line`` is the
    number of the stream's first line in its file). A UTF-8 byte order mark at the start of
    a file is dropped. Invalid UTF-8 survives as surrogate escapes (the validator rejects
    those rows). A CSV syntax error (a stray or unterminated quote) rejects the record's
    first line only: the lines the broken record swallowed are read again as records of
    their own, so one bad quote never takes the rest of the file with it."""

    def __init__(self, fh, first_line: int = 1):
        encoding = "utf-8-sig" if first_line == 1 else "utf-8"
        self.text = io.TextIOWrapper(fh, encoding=encoding, errors="surrogateescape", newline="")
        self.first_line = first_line

    def __iter__(self) -> Iterator[tuple[int, list[str] | None, str | None, str]]:
        source = iter(self.text)
        given_back: deque[str] = deque()
        taken: list[str] = []  # the lines of the record being read
        line_no = self.first_line - 1  # the last line handed to the reader

        def feed() -> Iterator[str]:
            nonlocal line_no
            while True:
                if given_back:
                    line = given_back.popleft()
                else:
                    line = next(source, None)
                    if line is None:
                        return
                line_no += 1
                taken.append(line)
                yield line

        reader = csv.reader(feed(), strict=True)
        while True:
            taken.clear()
            start = line_no + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                bad = taken[0] if taken else ""
                given_back.extendleft(reversed(taken[1:]))
                line_no = start
                reader = csv.reader(feed(), strict=True)
                hint = " (an unterminated quote?)" if "unexpected end of data" in str(exc) else ""
                yield start, None, f"unreadable CSV at line {start}: {exc}{hint}", bad.rstrip("\r\n")
                continue
            if fields == []:  # a blank line is no record
                continue
            yield start, fields, None, ""


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


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


class _RangeValidator:
    """Validates the records of one byte range of a file and hands COPY-ready CSV text of the
    good rows and (line, reason, payload) of the bad ones to ``sink`` in chunks.

    With ``header`` None the range starts at the file's beginning and its first record is
    the header (the whole-file path); otherwise the caller read the header already."""

    def __init__(self, source: Source, file_id: int, arrived: str, header: list[str] | None):
        self.source = source
        self.tail = (file_id, None, arrived)
        self.validator = RowValidator(source, header) if header is not None else None
        self.header_error: str | None = None
        self.header_pending = header is None
        self.rows_total = 0

    def run(self, fh, first_line: int, sink) -> None:
        records = _Records(fh, first_line)
        good = io.StringIO()
        writer = csv.writer(good, lineterminator="\n")
        good_rows = 0
        bad: list[tuple[int, str, str]] = []
        file_id, _, arrived = self.tail
        validator = self.validator
        for line, fields, error, raw in records:
            if self.header_pending:
                self.header_pending = False
                if fields is None:
                    self.header_error = f"header row unreadable: {error}"
                    self.rows_total += 1
                    bad.append((line, self.header_error, _payload(None, raw)))
                    continue
                try:
                    validator = self.validator = RowValidator(self.source, fields)
                except HeaderError as exc:
                    self.header_error = str(exc)
                    # No recognisable header: the first line is data, so it is a row too.
                    if "missing or unrecognised" in self.header_error:
                        self.rows_total += 1
                        bad.append((line, self.header_error, _payload(fields)))
                continue
            self.rows_total += 1
            if error is not None:
                bad.append((line, error, _payload(None, raw)))
            elif self.header_error is not None:
                bad.append((line, self.header_error, _payload(fields)))
            else:
                try:
                    values = validator.validate(list(fields))
                except RowError as exc:
                    bad.append((line, str(exc), _payload(fields)))
                else:
                    values.extend((file_id, line, arrived))
                    writer.writerow(values)
                    good_rows += 1
                    if good_rows >= CHUNK_ROWS:
                        sink(good.getvalue(), good_rows, bad)
                        good, bad, good_rows = io.StringIO(), [], 0
                        writer = csv.writer(good, lineterminator="\n")
        sink(good.getvalue(), good_rows, bad)


def _validate_range(args) -> tuple[str, int, list, int]:
    """Worker process: validate bytes [start, end) of a file (whole records only)."""
    path, start, end, first_line, source_name, header, file_id, arrived = args
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    chunks: list[tuple[str, int, list]] = []
    validator = _RangeValidator(SOURCES[source_name], file_id, arrived, header)
    validator.run(io.BytesIO(data), first_line, lambda text, n, bad: chunks.append((text, n, bad)))
    text = "".join(c[0] for c in chunks)
    bad = [b for c in chunks for b in c[2]]
    return text, sum(c[1] for c in chunks), bad, validator.rows_total


def _split_ranges(path: Path, range_bytes: int) -> tuple[list[str], list[tuple[int, int, int]]] | None:
    """The header and byte ranges of whole records after it, for validating in parallel.

    A newline ends a record when the number of quote characters before it is even (in RFC
    4180 every record holds an even number of them). None when the file does not fit that
    (a header over several lines, or no header at all): then it is read in one piece."""
    import mmap

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size = len(mm)
        header_end = mm.find(b"\n")
        if header_end < 0 or mm[:header_end].count(b'"') % 2:
            return None
        header_text = mm[:header_end].decode("utf-8", "surrogateescape").rstrip("\r").removeprefix("\ufeff")
        header = next(csv.reader([header_text]))
        ranges = []
        start, line = header_end + 1, 2
        quotes_parity = 0
        while start < size:
            target = min(start + range_bytes, size)
            end = target
            while end < size:
                nl = mm.find(b"\n", end)
                if nl < 0:
                    end = size
                    break
                if (quotes_parity + mm[start:nl].count(b'"')) % 2 == 0:
                    end = nl + 1
                    break
                end = nl + 1
            block = mm[start:end]
            quotes_parity = (quotes_parity + block.count(b'"')) % 2
            ranges.append((start, end, line))
            line += block.count(b"\n")
            start = end
        return header, ranges


def load_file(conn, source: Source, path: Path, landing: Path | None = None, workers: int = 1) -> FileResult:
    """Load one file in one transaction (the caller's connection, committed here). A big
    file is validated by ``workers`` processes at once, in byte ranges of whole records;
    the rows reach PostgreSQL in file order all the same.

    Any error rolls the file back and records it as ``failed`` with the error (a rerun
    retries it); the next file loads all the same."""
    sha = file_sha256(path)
    shown = str(path.relative_to(landing)) if landing and path.is_relative_to(landing) else str(path)
    try:
        return _load_file(conn, source, path, shown, sha, workers)
    except Exception as exc:  # noqa: BLE001 - recorded on the file, which a rerun retries
        conn.rollback()
        reason = f"{type(exc).__name__}: {exc}".strip()[:2000]
        log.error("%s %s failed, nothing of it loaded (a rerun retries it): %s", source.name, shown, reason)
        with conn.cursor() as cur:
            cur.execute(
                """insert into raw.landing_files (source, path, sha256, size_bytes, status, error)
                   values (%s, %s, %s, %s, 'failed', %s)
                   on conflict (source, sha256) do update set status = 'failed', error = excluded.error,
                       path = excluded.path, loaded_at = now()""",
                (source.name, shown, sha, path.stat().st_size, reason),
            )
        conn.commit()
        return FileResult(source.name, shown, sha, "failed", error=reason)


def record_unknown_files(conn, landing: Path) -> list[FileResult]:
    """CSV files outside the contract's source folders: never loaded, but each is logged and
    recorded once in raw.landing_files (status ``ignored``, with the reason)."""
    results = []
    for folder, path in unknown_files(landing):
        sha = file_sha256(path)
        shown = str(path.relative_to(landing))
        reason = f"folder {folder!r} is not a source of the landing contract ({', '.join(sorted(SOURCES))})"
        with conn.cursor() as cur:
            cur.execute(
                """insert into raw.landing_files (source, path, sha256, size_bytes, status, error)
                   values (%s, %s, %s, %s, 'ignored', %s) on conflict (source, sha256) do nothing
                   returning file_id""",
                (folder, shown, sha, path.stat().st_size, reason),
            )
            new = cur.fetchone() is not None
        conn.commit()
        if new:
            log.warning("%s ignored: %s", shown, reason)
        results.append(FileResult(folder, shown, sha, "ignored" if new else "skipped", error=reason))
    return results


def _load_file(conn, source: Source, path: Path, shown: str, sha: str, workers: int) -> FileResult:
    with conn.cursor() as cur:
        # Two loaders racing for the same bytes: the second waits here, then skips.
        cur.execute("select pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (source.name, sha))
        cur.execute("select status from raw.landing_files where source = %s and sha256 = %s", (source.name, sha))
        found = cur.fetchone()
        if found and found[0] != "failed":
            conn.commit()
            return FileResult(source.name, shown, sha, "skipped")
        if found:  # failed before: this is the retry
            cur.execute("delete from raw.landing_files where source = %s and sha256 = %s", (source.name, sha))
        size = path.stat().st_size
        cur.execute(
            "insert into raw.landing_files (source, path, sha256, size_bytes) values (%s, %s, %s, %s) "
            "returning file_id, loaded_at",
            (source.name, shown, sha, size),
        )
        file_id, arrived_at = cur.fetchone()
        arrived = arrived_at.isoformat()
        result = FileResult(source.name, shown, sha, "loaded", file_id=file_id)
        good_sql = (
            f"copy raw.{source.name}_history ({', '.join([*source.column_names, 'extra', '_file_id', '_line', '_arrived_at'])}) "
            "from stdin with (format csv)"
        )
        bad_sql = "copy raw.quarantine (source, file, file_sha256, line, reason, payload, loaded_at) from stdin with (format csv)"
        # One COPY at a time on the connection, in a background thread, so that the next
        # chunk is validated while the server ingests this one.
        copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy")
        inflight = []

        def copy_text(sql: str, text: str) -> None:
            cur.copy_expert(sql, io.StringIO(text))

        def sink(good_text: str, good_rows: int, bad: list) -> None:
            if inflight:
                inflight.pop().result()
            bad_text = ""
            if bad:
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\n")
                for line, reason, payload in bad:
                    writer.writerow((source.name, shown, sha, line, reason, payload, arrived))
                bad_text = out.getvalue()
            result.rows_loaded += good_rows
            result.rows_quarantined += len(bad)

            def both():
                if good_text:
                    copy_text(good_sql, good_text)
                if bad_text:
                    copy_text(bad_sql, bad_text)

            inflight.append(copier.submit(both))

        try:
            split = _split_ranges(path, max(PARALLEL_RANGE_BYTES, size // (workers * 4) + 1)) if (
                workers > 1 and size >= PARALLEL_MIN_BYTES
            ) else None
            header_ok = False
            header_error = None
            if split:
                try:
                    RowValidator(source, split[0])
                    header_ok = True
                except HeaderError:
                    pass  # the one-piece path quarantines every row with the reason
            if split and header_ok and len(split[1]) > 1:
                import multiprocessing

                header, ranges = split
                jobs = [(str(path), a, b, line, source.name, header, file_id, arrived) for a, b, line in ranges]
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    for text, n, bad, rows in pool.imap(_validate_range, jobs):
                        result.rows_total += rows
                        sink(text, n, bad)
            else:
                one_piece = _RangeValidator(source, file_id, arrived, None)
                with path.open("rb") as fh:
                    one_piece.run(fh, 1, sink)
                result.rows_total = one_piece.rows_total
                header_error = one_piece.header_error
            if inflight:
                inflight.pop().result()  # re-raises a COPY error here
        finally:
            copier.shutdown(wait=True)
        if header_error:  # the whole file is quarantined, for this reason
            result.status, result.error = "quarantined", header_error
        elif result.rows_total == 0:
            result.status = "empty"
        if result.rows_loaded:
            cur.execute(_upsert_current_sql(source), {"file_id": file_id})
        cur.execute(
            "update raw.landing_files set rows_total = %s, rows_loaded = %s, rows_quarantined = %s, status = %s, "
            "error = %s where file_id = %s",
            (result.rows_total, result.rows_loaded, result.rows_quarantined, result.status, result.error, file_id),
        )
        if result.rows_total != result.rows_loaded + result.rows_quarantined:
            raise RuntimeError(f"{shown}: {result.rows_total} rows but {result.rows_loaded} loaded + "
                               f"{result.rows_quarantined} quarantined")
    conn.commit()
    log.info(
        "%s %s: %d rows, %d loaded, %d quarantined",
        source.name, shown, result.rows_total, result.rows_loaded, result.rows_quarantined,
    )
    return result


def ingest_folder(
    landing: str | Path, url: str | None = None, sources: list[str] | None = None, workers: int | None = None
) -> IngestResult:
    """Load every new file of the landing folder. Rerunning it loads nothing twice."""
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    landing = Path(landing)
    result = IngestResult()
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist (set LIGHTBOX_LANDING or run `lightbox seed`)")
    conn = db.connect(url)
    try:
        for source, path in landing_files(landing):
            if sources and source.name not in sources:
                continue
            result.files.append(load_file(conn, source, path, landing, workers=workers))
        result.files.extend(record_unknown_files(conn, landing))
    finally:
        conn.close()
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(ingest_folder(sys.argv[1]).summary())
