"""Money rules of settlements, in Decimal: minor units per currency, banker's rounding, and
the split of a gross amount into partner fee, photographer share and platform residue.

The set-based reconciliation (``reconcile.py``) applies the same rules in SQL
(``settlement.round_half_even``); the tests hold the two to each other.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

USD = "USD"
USD_MINOR_UNITS = 2


@lru_cache(maxsize=None)
def known_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def minor_units(currency: str) -> int | None:
    """Decimal places of a currency (JPY 0, USD 2, KWD 3), None for an unknown code."""
    code = (currency or "").strip().upper()
    if code not in known_currencies():
        return None
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(code))


def round_half_even(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Split:
    gross: Decimal
    partner_fee: Decimal
    photographer: Decimal
    platform: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.partner_fee


def split(gross: Decimal, partner_fee: Decimal, share: Decimal, places: int) -> Split:
    """Photographer gets ``share`` of the net rounded half-even to the currency's minor
    units; the platform gets the rest, so the parts sum exactly to the gross."""
    photographer = round_half_even((gross - partner_fee) * share, places)
    return Split(gross, partner_fee, photographer, gross - partner_fee - photographer)


def to_usd(parts: Split, usd_per_unit: Decimal) -> Split:
    """The same split in USD: each of gross, fee and share converted and rounded, the platform
    again taking the residue so that the USD parts also sum to the USD gross."""
    gross = round_half_even(parts.gross * usd_per_unit, USD_MINOR_UNITS)
    fee = round_half_even(parts.partner_fee * usd_per_unit, USD_MINOR_UNITS)
    photographer = round_half_even(parts.photographer * usd_per_unit, USD_MINOR_UNITS)
    return Split(gross, fee, photographer, gross - fee - photographer)
