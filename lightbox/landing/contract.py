"""The landing contract of shared/DESIGN.md as data: every source's folder, key and typed
columns. The raw tables, the validation and the sample-data generator all read it from here.

Each source ``s`` has two tables in schema ``raw``:
- ``raw.s_history``: every version of every key that ever arrived (file, line, arrival time);
- ``raw.s``: the current row per key (the later ``updated_at`` wins; without ``updated_at``,
  or on a tie, the later file, then the later line).
Both carry ``extra`` (jsonb: unknown columns, kept) and ``_file_id``, ``_line``,
``_arrived_at``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """The values a number column may hold: ``low``/``high`` inclusive bounds (None: open),
    ``positive`` excludes zero, ``places`` the most decimal places (the contract's
    ``numeric(p, s)``). Out of range means quarantine: PostgreSQL and every reader
    downstream see only numbers they can hold."""

    low: str | None = None
    high: str | None = None
    places: int | None = None
    positive: bool = False


# Money: numeric(18,4). A sale is never negative (a refund is not a sale); a partner's line
# may be (a reversal), which settlement judges.
MONEY = Range("0", "99999999999999.9999", 4)
SIGNED_MONEY = Range("-99999999999999.9999", "99999999999999.9999", 4)
# Exchange rates: US dollars per unit, numeric(18,12), above zero.
RATE = Range("0", "999999", 12, positive=True)
# Camera settings as the camera wrote them, numeric(18,8): implausible values (an aperture of
# 0, a negative exposure) load and are the quality suites' business; only what no reader can
# hold is out of range.
MEASURE = Range("-9999999999.99999999", "9999999999.99999999", 8)
PIXELS = Range("1", "1000000")


@dataclass(frozen=True)
class Column:
    name: str
    # id, text, int, numeric, bool, timestamptz, date, country, currency, enum, url, sha256,
    # media (an image_path: lightbox.landing.media), region (a code of LIGHTBOX_REGIONS)
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    range: Range | None = None

    @property
    def sql_type(self) -> str:
        return {
            "id": "text",
            "text": "text",
            "int": "bigint",
            "numeric": "numeric",
            "bool": "boolean",
            "timestamptz": "timestamptz",
            "date": "date",
            "country": "text",
            "currency": "text",
            "enum": "text",
            "url": "text",
            "sha256": "text",
            "media": "text",
            "region": "text",
        }[self.type]


@dataclass(frozen=True)
class Source:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def has_updated_at(self) -> bool:
        return "updated_at" in self.column_names

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name, type_="text", required=False, choices=(), range_=None):
    return Column(name, type_, required, tuple(choices), range_)


TS = "timestamptz"

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "users",
            ("user_id",),
            (
                _c("user_id", "id", True),
                _c("username", "text", True),
                _c("country", "country"),
                _c("joined_at", TS, True),
                _c("auto_licensing", "bool", True),
                _c("default_exclusive", "bool", True),
                _c("updated_at", TS, True),
                _c("deleted_at", TS),
            ),
        ),
        Source(
            "photos",
            ("photo_id",),
            (
                _c("photo_id", "id", True),
                _c("owner_id", "id", True),
                _c("uploaded_at", TS, True),
                _c("title"),
                _c("description"),
                _c("keywords"),
                _c("category"),
                _c("width", "int", range_=PIXELS),
                _c("height", "int", range_=PIXELS),
                _c("camera_make"),
                _c("camera_model"),
                _c("focal_length_mm", "numeric", range_=MEASURE),
                _c("aperture", "numeric", range_=MEASURE),
                _c("iso", "int"),
                _c("exposure_s", "numeric", range_=MEASURE),
                _c("has_people", "bool"),
                _c("has_property", "bool"),
                _c("model_release", "bool"),
                _c("property_release", "bool"),
                _c("submitted_for_licensing", "bool", True),
                _c("removed_from_licensing", "bool", True),
                _c("exclusive", "bool"),
                _c("image_path", "media", True),
                _c("sha256", "sha256"),
                _c("updated_at", TS, True),
                _c("deleted_at", TS),
            ),
        ),
        Source(
            "inspections",
            ("photo_id", "decided_at"),
            (
                _c("photo_id", "id", True),
                _c("inspector_id", "id", True),
                _c("decision", "enum", True, ("accepted", "rejected", "changes_required")),
                _c("reason"),
                _c("decided_at", TS, True),
            ),
        ),
        Source(
            "sales",
            ("sale_id",),
            (
                _c("sale_id", "id", True),
                _c("photo_id", "id", True),
                _c("sold_at", TS, True),
                _c("license_type"),
                _c("amount", "numeric", True, range_=MONEY),
                _c("currency", "currency", True),
            ),
        ),
        Source(
            "licenses",
            ("license_id",),
            (
                _c("license_id", "id", True),
                _c("photo_id", "id", True),
                _c("licensee"),
                _c("licensee_domain"),
                _c("starts_at", TS, True),
                _c("ends_at", TS),
            ),
        ),
        Source(
            "region_consents",
            ("event_id",),
            (
                _c("event_id", "id", True),
                _c("user_id", "id", True),
                _c("region", "region", True),
                _c("photo_id", "id"),
                _c("action", "enum", True, ("grant", "revoke")),
                _c("at", TS, True),
            ),
        ),
        Source(
            "stock_listings",
            ("site", "listing_id"),
            (
                _c("site", "id", True),
                _c("listing_id", "id", True),
                _c("listing_url", "url"),
                _c("image_url", "url", True),
                _c("contributor"),
                _c("title"),
                _c("listed_at", TS),
            ),
        ),
        Source(
            "settlement_reports",
            ("partner", "report_id", "line_id"),
            (
                _c("partner", "id", True),
                _c("report_id", "id", True),
                _c("line_id", "id", True),
                _c("case_ref"),
                _c("photo_id", "id"),
                _c("infringer_domain"),
                _c("gross_amount", "numeric", True, range_=SIGNED_MONEY),
                _c("currency", "currency", True),
                _c("partner_fee", "numeric", True, range_=SIGNED_MONEY),
                _c("collected_at", TS, True),
            ),
        ),
        Source(
            "fx_rates",
            ("rate_date", "currency"),
            (
                _c("rate_date", "date", True),
                _c("currency", "currency", True),
                _c("usd_per_unit", "numeric", True, range_=RATE),
            ),
        ),
        Source(
            "crawl_seeds",
            ("url",),
            (
                _c("url", "url", True),
                _c("priority", "int", range_=Range("-1000000", "1000000")),
                _c("max_depth", "int", range_=Range("0", "1000")),
                _c("source", "enum", True, ("seed", "photographer_report")),
                _c("reported_by", "id"),
            ),
        ),
    )
}

META_COLUMNS = ("extra", "_file_id", "_line", "_arrived_at")


def raw_ddl() -> str:
    """DDL for the raw schema: bookkeeping, quarantine, and two tables per source."""
    parts = [
        """
create schema if not exists raw;
create table if not exists raw.landing_files (
    file_id bigserial primary key,
    source text not null,
    path text not null,
    sha256 text not null,
    size_bytes bigint not null,
    rows_total bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_quarantined bigint not null default 0,
    -- loaded | empty | quarantined (the whole file, see error) | failed (error; a rerun
    -- retries it) | ignored (a file outside the contract's source folders)
    status text not null default 'loading',
    error text,
    loaded_at timestamptz not null default now()
);
-- A file is keyed by its source and its bytes: the same bytes delivered to the wrong folder
-- first can still load in the right one. (Older databases keyed by sha256 alone.)
alter table raw.landing_files drop constraint if exists landing_files_sha256_key;
create unique index if not exists landing_files_source_sha256 on raw.landing_files (source, sha256);
create table if not exists raw.quarantine (
    quarantine_id bigserial primary key,
    source text not null,
    file text not null,
    file_sha256 text not null,
    line bigint not null,
    reason text not null,
    payload text,
    loaded_at timestamptz not null default now()
);
alter table raw.quarantine drop constraint if exists quarantine_file_sha256_line_key;
create unique index if not exists quarantine_source_file_line on raw.quarantine (source, file_sha256, line);
"""
    ]
    for source in SOURCES.values():
        cols = ",\n    ".join(f"{c.name} {c.sql_type}" for c in source.columns)
        key = ", ".join(source.key)
        meta = "extra jsonb not null default '{}',\n    _file_id bigint not null,\n    _line bigint not null,\n    _arrived_at timestamptz not null"
        parts.append(
            f"""
create table if not exists raw.{source.name}_history (
    {cols},
    {meta},
    primary key ({key}, _file_id, _line)
);
create table if not exists raw.{source.name} (
    {cols},
    {meta},
    primary key ({key})
);
create index if not exists {source.name}_history_file on raw.{source.name}_history (_file_id);
create index if not exists {source.name}_arrived on raw.{source.name} (_arrived_at);
"""
        )
    return "\n".join(parts)
