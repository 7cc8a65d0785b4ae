"""Mask personal data before any text is stored, logged, embedded or sent to a language model.

Detected kinds and their placeholders:

========== ============ ===============================================================
kind       placeholder  detected when
========== ============ ===============================================================
email      ``[邮箱]``   ``local@domain.tld``
id_card    ``[身份证]`` 18 digits (last may be X) with a valid province, birth date and
                        GB 11643 check digit; 15 digits (old format) with a valid date
phone      ``[手机号]`` mainland mobile ``1[3-9]`` + 9 digits, optional ``+86``/``0086``/
                        ``86`` prefix, spaces or dashes between 3-4-4 groups
landline   ``[座机]``   area code ``010``/``02x``/``0xxx`` (optionally in brackets) and a
                        7-8 digit number, optional extension (``-123``, ``转123``)
bank_card  ``[银行卡]`` 13-19 digits, plain or in groups of four, passing the Luhn check;
                        13-15 digits only next to a card word (卡, 银行, card)
========== ============ ===============================================================

Where two readings overlap the higher row wins (e-mail > ID card > phone > landline > card), and a
digit run is classified as a whole: the digits of a 19-digit number are never masked in part.

Order numbers are *not* personal data and stay in the text; they are returned in
:attr:`MaskResult.order_ids` so the caller can fill a slot: 12-20 digit runs that are none of the
above, Pinduoduo style ``241111-123456789012345``, and alphanumeric codes right after 订单/单号/order.
A number right after such an order word is read as an order number rather than a Luhn-valid
card or an old 15-digit ID (phones, 18-digit IDs and e-mails are still masked there).

Detection runs on a width-folded copy of the text (full-width ``１３８…`` and ``－`` count as
digits and dashes, zero-width characters are skipped), so typing tricks do not leak numbers, while
the returned text keeps the user's own characters everywhere outside the masked spans.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Final, overload

__all__ = [
    "ALL_KINDS",
    "ORDER_KEYS",
    "PLACEHOLDERS",
    "MaskResult",
    "contains_pii",
    "mask",
    "mask_mapping",
]

PLACEHOLDERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "phone": "[手机号]",
        "landline": "[座机]",
        "id_card": "[身份证]",
        "bank_card": "[银行卡]",
        "email": "[邮箱]",
    }
)
ALL_KINDS: Final[frozenset[str]] = frozenset(PLACEHOLDERS)
ORDER_KEYS: Final[frozenset[str]] = frozenset({"order_id", "order_no", "order_number"})
# Kinds still masked inside order-number slots: unambiguous ones only. A Luhn-valid or 0-led
# order number there is the user's order, not a card or a landline.
_ORDER_SLOT_KINDS: Final[frozenset[str]] = frozenset({"phone", "id_card", "email"})

_ORDER = "order"
_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {"email": 6, "id_card": 5, "phone": 4, "landline": 3, "bank_card": 2, _ORDER: 1}
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID18 = re.compile(
    r"(?<!\d)(\d{6}) ?((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])) ?(\d{3}[\dXx])(?!\d)"
)
_ID15 = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{6})(\d{3})(?![\dA-Za-z])")
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(
    r"(?<![\dA-Za-z])(?:\((?:010|02\d|0[3-9]\d{2})\) ?|(?:010|02\d|0[3-9]\d{2})[ -]?)[2-9]\d{6,7}"
    r"(?:(?: ?(?:-|转|分机|ext\.?|x|#) ?)\d{1,5})?(?!\d)",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<![\dA-Za-z])(?:\d{13,19}|(\d{4}(?:[ -]\d{4}){2,3})([ -]\d{1,4})?)(?![\dA-Za-z])")
_ORDER_DIGITS = re.compile(r"(?<![\dA-Za-z])\d{12,20}(?![\dA-Za-z])")
_ORDER_PDD = re.compile(r"(?<![\dA-Za-z-])\d{6}-\d{15}(?![\dA-Za-z-])")
_ORDER_CONTEXT = re.compile(
    r"(?:订单编号|订单号码|订单号|订单|单号|order(?:\s*(?:no\.?|number|id|#))?)"
    r"(?:\s*(?:是|为|is))?\s*[:#=]?\s*"
    r"((?=[A-Za-z-]*\d)[A-Za-z0-9][A-Za-z0-9-]{5,39})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CARD_CONTEXT = re.compile(r"卡|银行|储蓄|信用|账号|card|bank", re.IGNORECASE)

# First two digits of an ID: province codes (GB/T 2260), plus 71 Taiwan, 81-83 HK/Macao/Taiwan permits.
_PROVINCES: Final[frozenset[str]] = frozenset(
    str(code)
    for block in (range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55), range(61, 66))
    for code in block
) | {"71", "81", "82", "83"}
_ID_WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final[str] = "10X98765432"
_DASHES: Final[frozenset[str]] = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63")


@dataclass(frozen=True)
class MaskResult:
    """The outcome of :func:`mask`.

    Attributes:
        text: The input with every detected personal datum replaced by its typed placeholder.
        found: How many of each kind were masked (``{"phone": 1}``); empty when nothing was.
        order_ids: Order numbers seen in the text, in order of appearance, without duplicates,
            with full-width characters folded to ASCII. They are left in ``text``.
    """

    text: str
    found: dict[str, int] = field(default_factory=dict)
    order_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    kind: str


class _Shadow:
    """A width-folded copy of a text that remembers where each of its characters came from."""

    def __init__(self, text: str) -> None:
        if text.isascii():
            self.text = text
            self._origin: list[int] | None = None
            return
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            folded = _fold(ch)
            if folded:
                chars.append(folded)
                origin.append(i)
        self.text = "".join(chars)
        self._origin = origin

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the folded copy back to the span of the original text."""
        if self._origin is None:
            return start, end
        return self._origin[start], self._origin[end - 1] + 1


def _fold(ch: str) -> str:
    """Fold one character to its ASCII twin; zero-width and format characters fold to ``""``."""
    code = ord(ch)
    if code < 0x80:
        return ch
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if ch in _DASHES:
        return "-"
    category = unicodedata.category(ch)
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category == "Zs":
        return " "
    if category == "Cf":
        return ""
    return ch


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _id18_ok(digits17: str, check: str) -> bool:
    if digits17[:2] not in _PROVINCES:
        return False
    if not _valid_date(int(digits17[6:10]), int(digits17[10:12]), int(digits17[12:14])):
        return False
    total = sum(int(d) * w for d, w in zip(digits17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == check.upper()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _has_card_context(text: str, start: int, end: int) -> bool:
    return _CARD_CONTEXT.search(text, max(0, start - 12), min(len(text), end + 6)) is not None


def _overlaps(hit: _Hit, spans: Collection[tuple[int, int]]) -> bool:
    return any(hit.start < e and s < hit.end for s, e in spans)


def _candidates(text: str, kinds: Collection[str]) -> Iterator[_Hit]:
    """Yield every reading of every span; :func:`_resolve` picks the winners."""
    order_spans = [m.span(1) for m in _ORDER_CONTEXT.finditer(text)]
    for start, end in order_spans:
        yield _Hit(start, end, _ORDER)
    for m in _ORDER_PDD.finditer(text):
        yield _Hit(m.start(), m.end(), _ORDER)
    for m in _ORDER_DIGITS.finditer(text):
        yield _Hit(m.start(), m.end(), _ORDER)
    if "email" in kinds:
        for m in _EMAIL.finditer(text):
            yield _Hit(m.start(), m.end(), "email")
    if "id_card" in kinds:
        for m in _ID18.finditer(text):
            body = m.group(1) + m.group(2) + m.group(3)
            if _id18_ok(body[:17], body[17]):
                yield _Hit(m.start(), m.end(), "id_card")
        for m in _ID15.finditer(text):
            area, birth = m.group(1), m.group(2)
            hit = _Hit(m.start(), m.end(), "id_card")
            # Old-format IDs are weak evidence (a 15-digit order number has a few % chance to look
            # like one), so an explicit order word before the number wins.
            if (
                area[:2] in _PROVINCES
                and _valid_date(1900 + int(birth[:2]), int(birth[2:4]), int(birth[4:6]))
                and not _overlaps(hit, order_spans)
            ):
                yield hit
    if "phone" in kinds:
        for m in _PHONE.finditer(text):
            yield _Hit(m.start(), m.end(), "phone")
    if "landline" in kinds:
        for m in _LANDLINE.finditer(text):
            yield _Hit(m.start(), m.end(), "landline")
    if "bank_card" in kinds:
        yield from _card_candidates(text, order_spans)


def _card_candidates(text: str, order_spans: Collection[tuple[int, int]]) -> Iterator[_Hit]:
    for m in _CARD.finditer(text):
        # Grouped cards may end in a short group (4-4-4-4-3), but "6222 0212 3456 7890 2件" may be
        # a 16-digit card and a quantity: try the number with, then without, that last group.
        ends = [m.end(), m.end(1)] if m.group(2) else [m.end()]
        for end in ends:
            digits = _digits(text[m.start() : end])
            hit = _Hit(m.start(), end, "bank_card")
            if not 13 <= len(digits) <= 19 or not _luhn_ok(digits) or _overlaps(hit, order_spans):
                continue
            if len(digits) >= 16 or _has_card_context(text, m.start(), end):
                yield hit
                break


def _resolve(hits: Iterator[_Hit]) -> list[_Hit]:
    """Keep the best non-overlapping hits: higher rank first, then the longer span."""
    ranked = sorted(set(hits), key=lambda h: (-_RANK[h.kind], h.start - h.end, h.start))
    kept: list[_Hit] = []
    for hit in ranked:
        if not any(hit.start < k.end and k.start < hit.end for k in kept):
            kept.append(hit)
    kept.sort(key=lambda h: h.start)
    return kept


def mask(text: str, kinds: Collection[str] = ALL_KINDS) -> MaskResult:
    """Replace personal data in ``text`` with typed placeholders and collect order numbers.

    Masking is idempotent: masking the result again changes nothing, reports nothing found and
    returns the same order numbers.

    Args:
        text: Raw text from a user, a history turn or an answer.
        kinds: Which kinds to mask (see :data:`PLACEHOLDERS`); all of them by default. A number of
            an excluded kind is treated as if that reading did not exist (it may then be reported
            as an order number).

    Returns:
        The masked text, per-kind counts and the order numbers found.

    Raises:
        ValueError: ``kinds`` names a kind that does not exist.

    Examples:
        >>> r = mask("手机13812345678，订单号 240511123456789012")
        >>> r.text, r.found, r.order_ids
        ('手机[手机号]，订单号 240511123456789012', {'phone': 1}, ['240511123456789012'])
    """
    unknown = set(kinds) - ALL_KINDS
    if unknown:
        raise ValueError(f"unknown PII kinds: {sorted(unknown)}")
    found: dict[str, int] = {}
    # Removing one datum can expose another: in "a@b.cn010-62345678" the landline only has a
    # boundary once the e-mail before it is a placeholder. Repeat until a pass masks nothing; this
    # ends because every pass replaces digits or an "@" by placeholders that contain neither.
    while True:
        shadow = _Shadow(text)
        hits = _resolve(_candidates(shadow.text, kinds))
        if all(hit.kind == _ORDER for hit in hits):
            order_ids = list(dict.fromkeys(shadow.text[h.start : h.end] for h in hits))
            return MaskResult(text, found, order_ids)
        text = _replace(text, shadow, hits, found)


def _replace(text: str, shadow: _Shadow, hits: list[_Hit], found: dict[str, int]) -> str:
    """Put placeholders over the non-order hits, counting them into ``found``."""
    pieces: list[str] = []
    cursor = 0
    for hit in hits:
        if hit.kind == _ORDER:
            continue
        start, end = shadow.original_span(hit.start, hit.end)
        pieces.append(text[cursor:start])
        pieces.append(PLACEHOLDERS[hit.kind])
        cursor = end
        found[hit.kind] = found.get(hit.kind, 0) + 1
    pieces.append(text[cursor:])
    return "".join(pieces)


def contains_pii(text: str) -> bool:
    """Tell whether ``text`` still holds personal data :func:`mask` would replace.

    Meant for tests and log scanners; order numbers do not count.

    Args:
        text: Any text.

    Returns:
        True when at least one phone, landline, ID card, bank card or e-mail is present.
    """
    return bool(mask(text).found)


@overload
def mask_mapping(obj: dict[str, Any], *, order_keys: Collection[str] = ...) -> dict[str, Any]: ...
@overload
def mask_mapping(obj: list[Any], *, order_keys: Collection[str] = ...) -> list[Any]: ...
@overload
def mask_mapping(obj: str, *, order_keys: Collection[str] = ...) -> str: ...
@overload
def mask_mapping(obj: object, *, order_keys: Collection[str] = ...) -> object: ...
def mask_mapping(obj: object, *, order_keys: Collection[str] = ORDER_KEYS) -> object:
    """Mask every string inside a JSON-like structure (chat history, Coze slots, event payloads).

    Dicts, lists and tuples are walked recursively and copied; keys are kept as they are. Integers
    are checked too (a slot may hold ``13812345678`` as a number) and become the placeholder string
    when they are personal data. Values under an order-number key (``order_id``, ``order_no``,
    ``order_number``; case-insensitive) keep their order number even when it happens to pass the
    Luhn check, but phones, ID cards and e-mails in them are still masked.

    Args:
        obj: A str, number, None, or a dict/list/tuple of those.
        order_keys: Keys whose values are order numbers.

    Returns:
        A masked copy of ``obj``; the input is not modified.
    """
    keys = frozenset(k.lower() for k in order_keys)
    return _mask_value(obj, ALL_KINDS, keys)


def _mask_value(obj: object, kinds: Collection[str], order_keys: frozenset[str]) -> object:
    if isinstance(obj, str):
        return mask(obj, kinds).text
    if isinstance(obj, int) and not isinstance(obj, bool):
        masked = mask(str(obj), kinds)
        return masked.text if masked.found else obj
    if isinstance(obj, Mapping):
        return {
            key: _mask_value(
                value,
                _ORDER_SLOT_KINDS if isinstance(key, str) and key.lower() in order_keys else kinds,
                order_keys,
            )
            for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [_mask_value(item, kinds, order_keys) for item in obj]
    if isinstance(obj, tuple):
        return tuple(_mask_value(item, kinds, order_keys) for item in obj)
    return obj
