"""Row validation against the landing contract: each cell is checked and normalised, or the
row is rejected with a reason a person understands ("photos.uploaded_at: '2026-01-01 10:00'
has no UTC offset"). Pure Python, no database: the loader calls ``RowValidator.validate``
for every row, so the checks are compiled once per file and kept cheap."""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from lightbox.landing.contract import Column, Range, Source


class RowError(ValueError):
    """A row that breaks the contract; ``str()`` is the reason stored in raw.quarantine."""


_TIMESTAMP_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$", re.ASCII)
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_INT = re.compile(r"^[+-]?\d{1,18}$", re.ASCII)
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_BOOLS = {"true": "true", "false": "false", "TRUE": "true", "FALSE": "false", "True": "true", "False": "false"}
_SURROGATES = re.compile("[\udc80-\udcff]")
_MAX_OFFSET = timedelta(hours=16)  # PostgreSQL refuses a UTC offset of ±16:00 or more


def _range_check(label: str, bounds: Range | None, show) -> Callable[[str], str]:
    """A check of a number's value against the contract's range (a well-formed number in)."""
    if bounds is None:
        return lambda v: v
    low = Decimal(bounds.low) if bounds.low is not None else None
    high = Decimal(bounds.high) if bounds.high is not None else None
    span = f"{'above' if bounds.positive else 'from'} {bounds.low} to {bounds.high}" if low is not None else f"up to {high}"

    low_f = float(low) if low is not None else float("-inf")
    high_f = float(high) if high is not None else float("inf")
    margin = 1e-6 * max(1.0, abs(low_f) if low is not None else 0.0, abs(high_f) if high is not None else 0.0)

    def exact(v: str) -> str:
        d = Decimal(v)
        if (low is not None and (d < low or (bounds.positive and d == low))) or (high is not None and d > high):
            raise RowError(f"{label}: {show(v)} is out of range ({span})")
        if bounds.places is not None:
            _, digits, exponent = d.as_tuple()
            trailing = len(digits) - len("".join(map(str, digits)).rstrip("0") or "0")
            if exponent + trailing < -bounds.places:
                raise RowError(f"{label}: {show(v)} has more than {bounds.places} decimal places")
        return v

    def check(v: str) -> str:
        # The common case, a plain decimal well inside the range, without Decimal: the
        # places from the digits, the range from a float with a margin; else exactly.
        if len(v) > 30 or "e" in v or "E" in v:
            return exact(v)
        if bounds.places is not None:
            fraction = v.partition(".")[2]
            if len(fraction) > bounds.places and len(fraction.rstrip("0")) > bounds.places:
                raise RowError(f"{label}: {show(v)} has more than {bounds.places} decimal places")
        f = float(v)
        if low_f + margin < f < high_f - margin and not (bounds.positive and f <= low_f + margin):
            return v
        return exact(v)

    return check


def _countries() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


def _currencies() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


_CACHE: dict[str, frozenset[str]] = {}


def _codes(kind: str) -> frozenset[str]:
    if kind not in _CACHE:
        _CACHE[kind] = _countries() if kind == "country" else _currencies()
    return _CACHE[kind]


def _checker(source: Source, column: Column) -> Callable[[str], str]:
    """A function that returns the cell normalised for COPY, or raises RowError."""
    label = f"{source.name}.{column.name}"

    def show(value: str) -> str:
        return repr(value if len(value) <= 60 else value[:57] + "...")

    kind = column.type
    if kind in ("text", "id"):
        return lambda v: v
    if kind == "media":
        from lightbox.config import settings
        from lightbox.landing.media import image_path_problem

        roots = settings().media_roots
        plain = re.compile(r"^(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9_][A-Za-z0-9_.\-/]*$", re.ASCII)

        def check_media(v: str) -> str:
            if plain.match(v):  # the common case: a plain landing path, no '.' or '..' segment
                return v
            problem = image_path_problem(v, roots)
            if problem:
                raise RowError(f"{label}: {show(v)}: {problem}")
            return v

        return check_media
    if kind == "region":
        from lightbox.config import settings

        regions = {r.code for r in settings().regions}
        listing = ", ".join(sorted(regions))

        def check_region(v: str) -> str:
            code = v.strip().lower()
            if code not in regions:
                raise RowError(f"{label}: {show(v)} is not a region of LIGHTBOX_REGIONS ({listing})")
            return code

        return check_region
    if kind == "bool":

        def check_bool(v: str) -> str:
            try:
                return _BOOLS[v]
            except KeyError:
                raise RowError(f"{label}: {show(v)} is not a boolean (true or false)") from None

        return check_bool
    in_range = _range_check(label, column.range, show)
    if kind == "int":
        int_low = int(column.range.low) if column.range and column.range.low is not None else -(10**18)
        int_high = int(column.range.high) if column.range and column.range.high is not None else 10**18

        def check_int(v: str) -> str:
            if not _INT.match(v):
                raise RowError(f"{label}: {show(v)} is not a whole number")
            if column.range is not None and not int_low <= int(v) <= int_high:
                raise RowError(f"{label}: {show(v)} is out of range ({column.range.low} to {column.range.high})")
            return v

        return check_int
    if kind == "numeric":

        def check_numeric(v: str) -> str:
            if not _NUMERIC.match(v):
                raise RowError(f"{label}: {show(v)} is not a decimal number")
            return in_range(v)

        return check_numeric
    if kind == "timestamptz":

        def check_timestamp(v: str) -> str:
            if not _TIMESTAMP_SHAPE.match(v):
                if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", v):
                    raise RowError(f"{label}: {show(v)} has no UTC offset (write e.g. {v}+00:00)")
                raise RowError(f"{label}: {show(v)} is not an ISO 8601 timestamp with offset")
            try:
                moment = datetime.fromisoformat(v)
            except ValueError:
                raise RowError(f"{label}: {show(v)} is not a valid date and time") from None
            if abs(moment.utcoffset()) >= _MAX_OFFSET:
                raise RowError(f"{label}: {show(v)} has an offset beyond ±15:59")
            if moment.year in (1, 9999):  # readers downstream (Python) hold years 1-9999 in UTC
                try:
                    moment.astimezone(timezone.utc)
                except OverflowError:
                    raise RowError(f"{label}: {show(v)} is out of range (years 1-9999 in UTC)") from None
            return v

        return check_timestamp
    if kind == "date":

        def check_date(v: str) -> str:
            if not _DATE_SHAPE.match(v):
                raise RowError(f"{label}: {show(v)} is not an ISO date (YYYY-MM-DD)")
            try:
                date.fromisoformat(v)
            except ValueError:
                raise RowError(f"{label}: {show(v)} is not a valid date") from None
            return v

        return check_date
    if kind in ("country", "currency"):
        codes = _codes(kind)
        what = "an ISO 3166-1 alpha-2 country code" if kind == "country" else "an ISO 4217 currency code"

        def check_code(v: str) -> str:
            if v not in codes:
                raise RowError(f"{label}: {show(v)} is not {what}")
            return v

        return check_code
    if kind == "enum":
        choices = frozenset(column.choices)
        listing = ", ".join(column.choices)

        def check_enum(v: str) -> str:
            if v not in choices:
                raise RowError(f"{label}: {show(v)} is not one of {listing}")
            return v

        return check_enum
    if kind == "url":

        def check_url(v: str) -> str:
            if not _URL.match(v):
                raise RowError(f"{label}: {show(v)} is not an http(s) URL")
            return v

        return check_url
    if kind == "sha256":

        def check_sha(v: str) -> str:
            if not _SHA256.match(v):
                raise RowError(f"{label}: {show(v)} is not a lowercase hex SHA-256")
            return v

        return check_sha
    raise ValueError(f"no checker for column type {kind!r}")


class HeaderError(ValueError):
    """The header row cannot be mapped to the contract; every row of the file is quarantined."""


class RowValidator:
    """Validates the rows of one file, given its header row."""

    def __init__(self, source: Source, header: Sequence[str]):
        self.source = source
        names = [h.strip().lower().lstrip("\ufeff") for h in header]
        for name in names:
            if _SURROGATES.search(name):
                raise HeaderError(f"header row is not valid UTF-8 (column {name.encode('utf-8', 'surrogateescape')!r})")
            if "\x00" in name:
                raise HeaderError("header row holds a NUL byte")
        self.width = len(names)
        known = set(source.column_names)
        duplicates = sorted({n for n in names if names.count(n) > 1 and n})
        if duplicates:
            raise HeaderError(f"header repeats column(s) {', '.join(duplicates)}")
        missing_required = [c.name for c in source.columns if c.required and c.name not in names]
        if missing_required:
            if not known.intersection(names):
                raise HeaderError(
                    "header row missing or unrecognised: the first line must name the columns "
                    f"({', '.join(source.column_names)})"
                )
            raise HeaderError(f"header lacks required column(s) {', '.join(missing_required)}")
        self.positions = {name: i for i, name in enumerate(names)}
        self.extra_positions = [(i, names[i] or f"column_{i + 1}") for i in range(len(names)) if names[i] not in known]
        # A column the file lacks reads the empty cell appended after the row's own cells.
        missing = self.width
        self.order = [self.positions.get(c.name, missing) for c in source.columns]
        self.checks = [(i, _checker(source, c)) for i, c in enumerate(source.columns) if c.type not in ("text", "id")]
        self.required = [(i, c.name) for i, c in enumerate(source.columns) if c.required]

    def validate(self, fields: list[str]) -> list[str | None]:
        """The row's values in contract column order (None = null) plus the extra json, or
        raises RowError."""
        if len(fields) != self.width:
            raise RowError(
                f"expected {self.width} fields as in the header, found {len(fields)} "
                "(broken quoting or a stray delimiter?)"
            )
        joined = "\x1f".join(fields)
        if not joined.isascii() and _SURROGATES.search(joined):
            raise RowError("invalid UTF-8 bytes in the row")
        if "\x00" in joined:
            raise RowError("NUL byte in the row")
        fields.append("")
        out = [fields[p] or None for p in self.order]
        for i, name in self.required:
            if out[i] is None:
                raise RowError(f"{self.source.name}.{name}: required value is empty")
        for i, check in self.checks:
            value = out[i]
            if value is not None:
                out[i] = check(value)
        if self.extra_positions:
            extra = {name: fields[i] for i, name in self.extra_positions if fields[i] != ""}
            out.append(json.dumps(extra, ensure_ascii=False) if extra else "{}")
        else:
            out.append("{}")
        return out
