"""Mask personal data before any text is stored, logged, embedded or sent to a language model.

A layered detector (:mod:`fallback.core.pii`) reads the text:

1. a *pattern layer* for data with a shape of its own: e-mail ``[邮箱]``, ID cards ``[身份证]``
   (check digit; old 15-digit form), mobiles ``[手机号]`` (any grouping, ``+86``/``0086``),
   landlines and 400/800 numbers ``[座机]`` (every area-code form, extensions), bank cards
   ``[银行卡]`` (Luhn), licence plates ``[车牌]``;
2. a *cue layer* for data announced by a word: names ``[姓名]`` after 收件人/联系人/姓名 …, addresses
   ``[地址]`` after 地址/寄到/送到 … (or starting with a province or major city), any digit run of
   seven or more digits next to 电话/手机/座机/联系/卡号/微信/QQ/身份证 that no pattern took
   ``[号码]``, and WeChat/QQ/Alipay ids ``[账号]``.

Where readings overlap the more specific one wins (e-mail > ID > mobile > landline > card > plate >
order number after an order word > cue layer > bare order number), and a digit run is classified as
a whole. Detection runs on a width-folded shadow (full-width and Chinese-numeral digits, dashes,
zero-width characters), while the returned text keeps the user's characters outside masked spans.

Order numbers are *not* personal data and stay in the text; they are returned in
:attr:`MaskResult.order_ids` so the caller can fill a slot: 12-20 digit runs that are none of the
above, Pinduoduo style ``241111-123456789012345``, and codes right after 订单/单号/order. Prices,
dates, times, quantities and sizes are never masked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, overload

from fallback.core.pii.base import ALL_KINDS, ORDER, ORDER_CUE, PLACEHOLDERS, Hit, resolve
from fallback.core.pii.cues import cue_hits
from fallback.core.pii.patterns import order_hits, pattern_hits
from fallback.core.pii.pseudonym import pseudonymize
from fallback.core.pii.text import Shadow

__all__ = [
    "ALL_KINDS",
    "ORDER_KEYS",
    "PLACEHOLDERS",
    "MaskResult",
    "contains_pii",
    "mask",
    "mask_mapping",
    "pseudonymize",
]

ORDER_KEYS: Final[frozenset[str]] = frozenset({"order_id", "order_no", "order_number"})
# Kinds still masked inside order-number slots: unambiguous ones only. A Luhn-valid or 0-led
# order number there is the user's order, not a card or a landline.
_ORDER_SLOT_KINDS: Final[frozenset[str]] = frozenset({"phone", "id_card", "email"})
_ORDER_KINDS: Final[frozenset[str]] = frozenset({ORDER, ORDER_CUE})
_MAX_PASSES: Final = 8
_INSIDE_CARD: Final[frozenset[str]] = frozenset({"phone", "landline"})


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


def _hits(text: str, kinds: Collection[str]) -> list[Hit]:
    orders = order_hits(text)
    cue_spans = [(h.start, h.end) for h in orders if h.kind == ORDER_CUE]
    hits = [*orders, *pattern_hits(text, kinds, cue_spans), *cue_hits(text, kinds)]
    # a grouped 16-19 digit card that passes Luhn holds digits that read as a mobile or a landline
    # ("6222-0291-1665-3235-015"): the whole card wins over the number inside it
    cards = [h for h in hits if h.kind == "bank_card"]
    if cards:
        hits = [
            h
            for h in hits
            if h.kind not in _INSIDE_CARD
            or not any(
                c.start <= h.start and h.end <= c.end and (c.start, c.end) != (h.start, h.end) for c in cards
            )
        ]
    return resolve(hits)


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
    # boundary once the e-mail before it is a placeholder, and an address that held a phone number
    # is read once the number is one. Repeat until a pass masks nothing: every pass replaces digits,
    # an "@" or cued characters by placeholders that no layer reads again.
    for _ in range(_MAX_PASSES):
        shadow = Shadow(text)
        hits = _hits(shadow.text, kinds)
        if all(hit.kind in _ORDER_KINDS for hit in hits):
            break
        text = _replace(text, shadow, hits, found)
    else:
        shadow = Shadow(text)
        hits = _hits(shadow.text, kinds)
    order_ids = list(dict.fromkeys(shadow.text[h.start : h.end] for h in hits if h.kind in _ORDER_KINDS))
    return MaskResult(text, found, order_ids)


def _replace(text: str, shadow: Shadow, hits: list[Hit], found: dict[str, int]) -> str:
    """Put placeholders over the non-order hits, counting them into ``found``."""
    pieces: list[str] = []
    cursor = 0
    for hit in hits:
        if hit.kind in _ORDER_KINDS:
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
        True when at least one datum of any kind in :data:`PLACEHOLDERS` is present.
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

    Dicts, lists and tuples are walked recursively and copied. String keys are masked like values
    (a bot may put a phone number in a slot *name*); two keys that mask to the same text keep both
    values, the later one under ``"<key>#2"``. Integers (and integral floats) are checked too (a slot
    may hold ``13812345678`` as a number) and become the placeholder string when they are personal
    data. Values under an order-number key (``order_id``, ``order_no``, ``order_number``;
    case-insensitive) keep their order number even when it happens to pass the Luhn check, but
    phones, ID cards and e-mails in them are still masked.

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
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int) or (isinstance(obj, float) and obj.is_integer() and abs(obj) < 1e20):
        masked = mask(str(int(obj)), kinds)
        return masked.text if masked.found else obj
    if isinstance(obj, Mapping):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            is_order = isinstance(key, str) and key.lower() in order_keys
            masked_value = _mask_value(value, _ORDER_SLOT_KINDS if is_order else kinds, order_keys)
            new_key = mask(key, kinds).text if isinstance(key, str) else key
            if new_key in out:
                n = 2
                while f"{new_key}#{n}" in out:
                    n += 1
                new_key = f"{new_key}#{n}"
            out[new_key] = masked_value
        return out
    if isinstance(obj, list):
        return [_mask_value(item, kinds, order_keys) for item in obj]
    if isinstance(obj, tuple):
        return tuple(_mask_value(item, kinds, order_keys) for item in obj)
    return obj
