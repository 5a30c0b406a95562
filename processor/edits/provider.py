"""Provider edits (edits.md, "Format and provider"): NPI check digits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from processor.edits.base import ClaimContext, Hit, check

# RARC by role: N257 billing, N290 rendering, N265 referring (ordering).
_ROLE_RARC = {"billing": "N257", "rendering": "N290", "referring": "N265"}


def _luhn_sum(digits: str, double_first: bool) -> int:
    """Luhn sum of the digits read from the right; every other digit doubled, starting with
    the rightmost when `double_first`."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2 == (0 if double_first else 1):
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total


@lru_cache(maxsize=1 << 16)  # providers recur: each NPI is checked once
def npi_is_valid(npi: str) -> bool:
    """An NPI is 10 digits whose last is the Luhn check digit of the first nine with the
    card-issuer prefix 80840 (CMS NPI standard)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    return _luhn_sum("80840" + npi, double_first=False) % 10 == 0


def npi_with_check_digit(first_nine: str) -> str:
    """Complete a 9-digit NPI stem with its check digit (prefix 80840)."""
    return first_nine + str((10 - _luhn_sum("80840" + first_nine, double_first=True) % 10) % 10)


@check("NPI-CHECK-DIGIT")
def check_npi(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    claim = ctx.claim
    roles: list[tuple[str, str, int | None]] = [("billing", claim.billing_provider.npi, None)]
    if claim.rendering_provider is not None:
        roles.append(("rendering", claim.rendering_provider.npi, None))
    if claim.referring_provider is not None:
        roles.append(("referring", claim.referring_provider.npi, None))
    for line in claim.lines:
        if line.rendering_provider is not None:
            roles.append(("rendering", line.rendering_provider.npi, line.line_number))
    for role, npi, line_number in roles:
        if not npi_is_valid(npi):
            where = f" on line {line_number}" if line_number is not None else ""
            yield Hit(
                line_number=line_number,
                values={"role": role, "npi": npi, "where": where},
                evidence={"role": role, "npi": npi},
                rarc=(_ROLE_RARC[role],),
            )
