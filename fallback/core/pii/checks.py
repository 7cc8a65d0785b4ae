"""Validators that turn a digit run into evidence: ID check digit, Luhn, dates, province codes."""

from __future__ import annotations

from datetime import date
from typing import Final

# First two digits of an ID: province codes (GB/T 2260), plus 71 Taiwan, 81-83 HK/Macao/Taiwan permits.
PROVINCES: Final[frozenset[str]] = frozenset(
    str(code)
    for block in (range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55), range(61, 66))
    for code in block
) | {"71", "81", "82", "83"}
_ID_WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final[str] = "10X98765432"


def digits_of(s: str) -> str:
    """The ASCII digits of ``s`` (separators dropped)."""
    return "".join(c for c in s if "0" <= c <= "9")


def valid_date(year: int, month: int, day: int) -> bool:
    """Whether the triple is a real calendar date."""
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def id18_ok(body: str) -> bool:
    """An 18-character resident ID (17 digits + check digit or X): province, birth date and GB 11643 check."""
    if len(body) != 18 or not body[:17].isdigit():
        return False
    if body[:2] not in PROVINCES:
        return False
    if (
        not valid_date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
        or not 1900 <= int(body[6:10]) <= 2099
    ):
        return False
    total = sum(int(d) * w for d, w in zip(body[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == body[17].upper()


def id15_ok(body: str) -> bool:
    """An old 15-digit ID: province and a valid 19yy birth date (it has no check digit)."""
    return (
        len(body) == 15
        and body.isdigit()
        and body[:2] in PROVINCES
        and valid_date(1900 + int(body[6:8]), int(body[8:10]), int(body[10:12]))
    )


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of a card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Card networks a bare number (no card word near it) may belong to: UnionPay 62 and 60/9x domestic
# debit, Visa 4, Mastercard 51-55, Amex 34/37, JCB 35. Order numbers starting with 1, 2, 7, 8 or 0 pass
# Luhn one time in ten; without a card word they are read as order numbers.
_BARE_CARD_PREFIXES: Final[tuple[str, ...]] = (
    "62",
    "60",
    "4",
    "51",
    "52",
    "53",
    "54",
    "55",
    "34",
    "35",
    "37",
    "9",
)


def card_prefix_ok(digits: str) -> bool:
    """Whether a bare digit run starts like a payment card."""
    return digits.startswith(_BARE_CARD_PREFIXES)
