"""The landing fuzz suite (issue 15): hostile files, generated with hypothesis, loaded into the
real PostgreSQL. Whatever a supplier sends:

- validation accepts only what PostgreSQL stores: no file fails, everything loaded reads back;
- every file ends in one recorded state, and its rows = loaded + quarantined, none lost;
- through the DAG: ``ingest_landing`` succeeds, and nothing is written outside LIGHTBOX_HOME.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbox.landing.contract import SOURCES, Column
from lightbox.landing.ingest import ingest_folder

HOSTILE_CHARS = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["\x00", "\ufeff", '"', ",", "\n", "\r", "\udcff", "\udce9", "\u2028", "\\", "'", ";",
                     "\t", "\x7f", "é", "€", "𝄞"]),
)
HOSTILE_TEXT = st.text(HOSTILE_CHARS, max_size=12)

NUMBERS = st.one_of(
    st.sampled_from(["1e400", "1e1001", "-1e400", "-0", "0", "1.2345", "1.23456", "99999999999999.9999",
                     "100000000000000", "NaN", "Infinity", "1e-400", "0.000000000001", "+5", ".5", "5.", "1_000",
                     "0x10", "1e", "--1", "9" * 40, "-" + "9" * 19, "9223372036854775808"]),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
OFFSETS = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda m: ("+" if m >= 0 else "-") + f"{abs(m) // 60:02d}:{abs(m) % 60:02d}")
TIMESTAMPS = st.one_of(
    st.builds(lambda d, o: d.isoformat() + o, st.datetimes(), OFFSETS),
    st.sampled_from(["2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "0000-01-01T00:00:00Z",
                     "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-15:59", "2026-01-01 10:00", "2026-01-01",
                     "2026-01-01T10:00:00+1600", "2026-01-01T10:00:00.1234567Z", "now", "infinity", "epoch"]),
)
DATES = st.one_of(st.dates().map(str), st.sampled_from(["2026-02-30", "0000-01-01", "20260101", "infinity"]))
TYPED = {
    "int": NUMBERS,
    "numeric": NUMBERS,
    "bool": st.sampled_from(["true", "false", "TRUE", "False", "yes", "1", "t"]),
    "timestamptz": TIMESTAMPS,
    "date": DATES,
    "country": st.sampled_from(["PT", "DE", "XX", "pt", "UK"]),
    "currency": st.sampled_from(["USD", "EUR", "usd", "XXX", "ZZZ"]),
    "url": st.sampled_from(["https://a.example/x", "http://b.example", "javascript:alert(1)", "https://", "ftp://x"]),
    "sha256": st.sampled_from(["a" * 64, "A" * 64, "a" * 63, "g" * 64]),
    "media": st.sampled_from(["images/a.jpg", "../x.jpg", "file:///etc/passwd", "https://cdn.example/a.jpg",
                              "/etc/passwd", "s3://bucket/x", "images/../../x", "data:,x"]),
    "region": st.sampled_from(["eu", "cn", "EU", " cn ", "mars", ""]),
}


def cell(column: Column):
    typed = TYPED.get(column.type)
    if column.type == "enum":
        typed = st.sampled_from([*column.choices, "maybe", column.choices[0].upper()])
    options = [st.just(""), HOSTILE_TEXT]
    if typed is not None:
        options = [typed, typed, *options]
    else:
        options.append(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12))
    return st.one_of(options)


@st.composite
def landing_file(draw):
    """(source name, file bytes, records written, mutated?) for one hostile file."""
    source = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    header = list(source.column_names)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    extra = draw(st.lists(st.one_of(HOSTILE_TEXT, st.sampled_from(["note", "caf\udce9", "user_id"])), max_size=2))
    header = header + extra
    width = len(header)
    records = draw(st.lists(
        st.fixed_dictionaries({c.name: cell(c) for c in source.columns}).flatmap(
            lambda row: st.lists(HOSTILE_TEXT, min_size=len(extra), max_size=len(extra)).map(
                lambda tail: [row.get(name, "") for name in header[:width - len(extra)]] + tail)),
        max_size=6))
    out = io.StringIO()
    # QUOTE_MINIMAL quotes a bare "\r" only when the line terminator holds one: quote every
    # field so that the file is valid RFC 4180 and its record count is known
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_ALL, csv.QUOTE_MINIMAL])))
    writer.writerow(header)
    writer.writerows(records)
    data = out.getvalue().encode("utf-8", "surrogateescape")
    mutation = draw(st.sampled_from(["none", "none", "bom", "stray_quote", "bytes", "truncate"]))
    if mutation == "bom":
        data = b"\xef\xbb\xbf" + data
    elif mutation in ("stray_quote", "bytes", "truncate") and data:
        at = draw(st.integers(0, len(data)))
        if mutation == "stray_quote":
            data = data[:at] + b'"' + data[at:]
        elif mutation == "bytes":
            data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
        else:
            data = data[:at]
    mutated = mutation not in ("none", "bom") or (
        writer.dialect.quoting == csv.QUOTE_MINIMAL and writer.dialect.lineterminator == "\n"
        and any("\r" in c for r in [header, *records] for c in r))
    # a row of empty cells in a one-column file is a blank line, and a blank line is no record
    written = len([r for r in records if any(r) or len(r) > 1])
    return source.name, data, written, mutated


def _reset(conn, landing: Path) -> None:
    tables = ["raw.landing_files", "raw.quarantine"] + [f"raw.{s}, raw.{s}_history" for s in SOURCES]
    with conn.cursor() as cur:
        cur.execute(f"truncate {', '.join(tables)} restart identity")
    for child in landing.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def _write(landing: Path, files) -> list[tuple[str, str, int, bool]]:
    written = []
    for i, (source, data, records, mutated) in enumerate(files):
        folder = landing / source
        folder.mkdir(exist_ok=True)
        (folder / f"f{i}.csv").write_bytes(data)
        written.append((source, f"{source}/f{i}.csv", records, mutated))
    return written


def _check(conn, written) -> None:
    with conn.cursor() as cur:
        cur.execute("select source, path, status, error, rows_total, rows_loaded, rows_quarantined from raw.landing_files")
        states = {(r[0], r[1]): r[2:] for r in cur.fetchall()}
        for source, path, records, mutated in written:
            if (source, path) not in states:  # the same bytes twice in one source: loaded once
                continue
            status, error, total, loaded, bad = states[(source, path)]
            assert status in ("loaded", "empty", "quarantined"), (path, status, error)
            assert total == loaded + bad, path
            if not mutated:
                assert total == records, (path, total, records)  # no row lost
            cur.execute("select count(*) from raw.quarantine q join raw.landing_files f "
                        "on f.sha256 = q.file_sha256 and f.source = q.source where f.path = %s", (path,))
            assert cur.fetchone()[0] == bad, path
        for source in {w[0] for w in written}:  # everything loaded reads back into Python
            cur.execute(f"select * from raw.{source}_history")
            cur.fetchall()
            cur.execute(f"select * from raw.{source}")
            cur.fetchall()


COMMON = dict(deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])


@settings(max_examples=60, **COMMON)
@given(files=st.lists(landing_file(), min_size=1, max_size=3))
def test_hostile_files_load_or_quarantine_and_postgresql_stores_what_validation_accepts(conn, landing, files):
    _reset(conn, landing)
    written = _write(landing, files)
    result = ingest_folder(landing, workers=1)
    assert result.failed == [], [(f.path, f.error) for f in result.failed]
    _check(conn, written)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.slow
@settings(max_examples=5, **COMMON)
@given(files=st.lists(landing_file(), min_size=1, max_size=3))
def test_ingest_dag_succeeds_on_hostile_files(run_dag, conn, landing, lightbox_home, tmp_path, files):
    _reset(conn, landing)
    written = _write(landing, files)
    around = tmp_path / "around"  # stands for everything outside LIGHTBOX_HOME and the landing folder
    around.mkdir(exist_ok=True)
    outside_before = _tree(tmp_path) - {p for p in _tree(tmp_path) if p.startswith(("home", "landing"))}
    dag_run, states = run_dag("ingest_landing")
    assert str(dag_run.state) in ("success", "DagRunState.SUCCESS"), states
    assert all(s in ("success", "skipped") for s in states.values()), states
    _check(conn, written)
    outside_after = _tree(tmp_path) - {p for p in _tree(tmp_path) if p.startswith(("home", "landing"))}
    assert outside_after == outside_before
