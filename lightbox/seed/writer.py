"""CSV files of the landing contract, written row by row (streamed) in the contract's format:
UTF-8, a header row, RFC 4180 quoting by the csv module, booleans ``true``/``false``,
timestamps ISO 8601 with their offset, money as decimal strings, empty cell = null."""
from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from lightbox.landing.contract import SOURCES


def cell(value) -> str:
    kind = type(value)
    if kind is str:  # most cells: checked first, the large scale writes millions
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class Landing:
    """The landing folder being written: opens one CSV per (source, file name), counts rows."""

    def __init__(self, out: Path):
        self.out = out
        self.files: dict[str, "CsvFile"] = {}
        self.counts: dict[str, int] = {name: 0 for name in SOURCES}

    def file(self, source: str, name: str, extra_columns: tuple[str, ...] = ()) -> "CsvFile":
        rel = f"{source}/{name}"
        if rel not in self.files:
            self.files[rel] = CsvFile(self, source, rel, extra_columns)
        return self.files[rel]

    def close(self) -> None:
        for f in self.files.values():
            f.close()

    def relative_files(self) -> list[str]:
        return sorted(self.files)


class CsvFile:
    def __init__(self, landing: Landing, source: str, rel: str, extra_columns: tuple[str, ...]):
        self.landing = landing
        self.source = source
        self.rel = rel
        self.columns = SOURCES[source].column_names + tuple(extra_columns)
        path = landing.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.fh)  # RFC 4180: CRLF line ends, minimal quoting
        self.writer.writerow(self.columns)
        self.line = 1  # physical line of the last record written (header = 1)
        self.rows = 0

    def write(self, row: dict) -> int:
        """Write one row (a dict by column name; missing columns are empty); return its line."""
        get = row.get
        self.writer.writerow([cell(get(c)) for c in self.columns])
        self.line += 1
        self.rows += 1
        self.landing.counts[self.source] += 1
        return self.line

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()
