"""Provider edits (edits.md, "Format and provider"): NPI check digits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

from processor.codesets.model import kept
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


# A digit's byte -> the digit doubled, less 9 when above 9 (Luhn), for ASCII digits.
_DOUBLED = bytes(
    ((2 * (b - 48)) - (9 if b >= 53 else 0)) if 48 <= b <= 57 else 0 for b in range(256)
)
# The card-issuer prefix 80840 in front of ten digits: its positions from the right are
# 10 to 14, so its digits add 0 + 8 + 8 + 0 + 8 (4 and 0 doubled).
_PREFIX_SUM = 24


def npi_is_valid(npi: str) -> bool:
    """An NPI is 10 digits whose last is the Luhn check digit of the first nine with the
    card-issuer prefix 80840 (CMS NPI standard)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    if not npi.isascii():  # other Unicode digits: as the general sum reads them
        return _luhn_sum("80840" + npi, double_first=False) % 10 == 0
    b = npi.encode()
    total = (
        _PREFIX_SUM
        + b[9] + b[7] + b[5] + b[3] + b[1] - 5 * 48
        + _DOUBLED[b[8]] + _DOUBLED[b[6]] + _DOUBLED[b[4]] + _DOUBLED[b[2]] + _DOUBLED[b[0]]
    )  # fmt: skip
    return total % 10 == 0


def npi_with_check_digit(first_nine: str) -> str:
    """Complete a 9-digit NPI stem with its check digit (prefix 80840)."""
    return first_nine + str((10 - _luhn_sum("80840" + first_nine, double_first=True) % 10) % 10)


# The claim fact (processor.edits.facts): some NPI on the claim fails its check digit.
NPI_INVALID = "npi_invalid"
_VALID: dict[str, bool] = {}
_MAX_VALID = 1 << 16


def npi_valid(npi: str) -> bool:
    """`npi_is_valid`, kept per NPI (bounded): claims name the same providers again."""
    found = _VALID.get(npi)  # read directly: the usual case, no closure
    if found is None:
        found = kept(_VALID, npi, partial(npi_is_valid, npi), _MAX_VALID)
    return found


@check("NPI-CHECK-DIGIT", when={NPI_INVALID})
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
    valid: dict[str, bool] = {}  # a claim often names one NPI in several roles
    for role, npi, line_number in roles:
        ok = valid.get(npi)
        if ok is None:
            ok = valid[npi] = npi_is_valid(npi)
        if not ok:
            where = f" on line {line_number}" if line_number is not None else ""
            yield Hit(
                line_number=line_number,
                values={"role": role, "npi": npi, "where": where},
                evidence={"role": role, "npi": npi},
                rarc=(_ROLE_RARC[role],),
            )
