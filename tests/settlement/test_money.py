"""The money rules: banker's rounding in SQL equals Python's Decimal ROUND_HALF_EVEN, and a
split's parts always sum exactly to the gross."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbox.domains import registrable_domain
from lightbox.settlement.money import minor_units, round_half_even, split, to_usd

amounts = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=6, allow_nan=False)
places = st.integers(min_value=0, max_value=3)


def test_minor_units_per_currency():
    assert (minor_units("JPY"), minor_units("USD"), minor_units("KWD"), minor_units("XXQ")) == (0, 2, 3, None)


def test_round_half_even_examples():
    assert round_half_even(Decimal("2.5"), 0) == 2
    assert round_half_even(Decimal("3.5"), 0) == 4
    assert round_half_even(Decimal("-2.5"), 0) == -2
    assert round_half_even(Decimal("0.125"), 2) == Decimal("0.12")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.tuples(amounts, places), min_size=1, max_size=20))
def test_sql_rounding_matches_python(conn, values):
    with conn.cursor() as cur:
        cur.execute(
            "select settlement.round_half_even(x::numeric, p) from unnest(%s::text[], %s::int[]) as t (x, p)",
            ([str(v) for v, _ in values], [p for _, p in values]),
        )
        got = [r[0] for r in cur.fetchall()]
    assert got == [round_half_even(v, p) for v, p in values]


@given(
    gross_minor=st.integers(min_value=1, max_value=10**9),
    fee_fraction=st.fractions(min_value=0, max_value=1),
    share=st.decimals(min_value=0, max_value=1, places=4),
    places=places,
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=6),
)
def test_split_parts_sum_to_gross(gross_minor, fee_fraction, share, places, rate):
    unit = Decimal(1).scaleb(-places)
    gross = gross_minor * unit
    fee = int(gross_minor * fee_fraction) * unit
    parts = split(gross, fee, share, places)
    assert parts.partner_fee + parts.photographer + parts.platform == gross
    assert parts.photographer == round_half_even(parts.photographer, places)
    assert abs(parts.photographer - parts.net * share) <= unit / 2
    usd = to_usd(parts, rate)
    assert usd.partner_fee + usd.photographer + usd.platform == usd.gross
    # a full reversal is the exact negation (half-even is symmetric)
    back = split(-gross, -fee, share, places)
    assert (back.photographer, back.platform) == (-parts.photographer, -parts.platform)


def test_registrable_domain():
    assert registrable_domain("Shop.Example.co.uk") == "example.co.uk"
    assert registrable_domain("https://a.b.example.com/page") == "example.com"
    assert registrable_domain("localhost") == "localhost"
    assert registrable_domain("") == ""
