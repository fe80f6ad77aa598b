"""Unit tests of row validation against the landing contract (no database)."""
import json

import pytest

from lightbox.landing.contract import SOURCES
from lightbox.landing.validate import HeaderError, RowError, RowValidator

USERS = SOURCES["users"]
HEADER = list(USERS.column_names)
GOOD = ["u1", "ana", "PT", "2025-01-01T10:00:00+00:00", "true", "false", "2025-01-02T00:00:00Z", ""]


def validate(row, header=HEADER, source=USERS):
    return RowValidator(source, header).validate(list(row))


def test_good_row_is_normalised_and_empty_cells_are_null():
    values = validate(GOOD)
    assert values[:7] == GOOD[:7]
    assert values[7] is None  # deleted_at empty -> null
    assert values[-1] == "{}"


def test_reordered_header_maps_by_name():
    header = list(reversed(HEADER))
    values = validate(list(reversed(GOOD)), header=header)
    assert values[0] == "u1" and values[2] == "PT"


def test_extra_columns_are_kept_as_json():
    values = validate(GOOD + ["blue"], header=HEADER + ["favourite_colour"])
    assert json.loads(values[-1]) == {"favourite_colour": "blue"}


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("joined_at", "2025-01-01 10:00:00", "has no UTC offset"),
        ("joined_at", "yesterday", "not an ISO 8601 timestamp"),
        ("joined_at", "2025-02-30T10:00:00+00:00", "not a valid date and time"),
        ("country", "XX", "ISO 3166-1"),
        ("country", "pt", "ISO 3166-1"),
        ("auto_licensing", "yes", "not a boolean"),
        ("user_id", "", "required value is empty"),
    ],
)
def test_bad_cells_are_rejected_with_a_reason(column, value, reason):
    row = list(GOOD)
    row[HEADER.index(column)] = value
    with pytest.raises(RowError, match=reason):
        validate(row)


def test_enums_numbers_and_currencies():
    sales = SOURCES["sales"]
    header = list(sales.column_names)
    ok = ["s1", "p1", "2025-01-01T00:00:00+01:00", "editorial", "12.50", "EUR"]
    assert validate(ok, header, sales)[4] == "12.50"
    with pytest.raises(RowError, match="not a decimal number"):
        validate(ok[:4] + ["12,50", "EUR"], header, sales)
    with pytest.raises(RowError, match="ISO 4217"):
        validate(ok[:5] + ["EURO"], header, sales)
    inspections = SOURCES["inspections"]
    with pytest.raises(RowError, match="not one of accepted, rejected, changes_required"):
        validate(["p1", "i1", "maybe", "", "2025-01-01T00:00:00Z"], list(inspections.column_names), inspections)


def test_wrong_field_count_invalid_utf8_and_nul():
    with pytest.raises(RowError, match="expected 8 fields"):
        validate(GOOD[:-1])
    broken = list(GOOD)
    broken[1] = "caf\udce9"  # what surrogateescape makes of a Latin-1 byte
    with pytest.raises(RowError, match="invalid UTF-8"):
        validate(broken)
    broken[1] = "a\x00b"
    with pytest.raises(RowError, match="NUL"):
        validate(broken)


def test_header_problems():
    with pytest.raises(HeaderError, match="missing or unrecognised"):
        RowValidator(USERS, GOOD)  # the first line is data
    with pytest.raises(HeaderError, match="lacks required column"):
        RowValidator(USERS, HEADER[1:])
    with pytest.raises(HeaderError, match="repeats"):
        RowValidator(USERS, HEADER + ["country"])
