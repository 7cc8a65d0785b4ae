"""The pattern layer: personal data with a shape of its own, and the order numbers that must stay.

========== ===================================================================================
kind       shape (on the folded text; ``sep`` is one optional space, dash or dot between digits)
========== ===================================================================================
email      ``local@domain.tld`` (spaces around ``@`` and ``。`` as a dot tolerated)
id_card    18 characters (17 digits + digit/X, ``sep`` anywhere) with a valid province, birth date
           and GB 11643 check digit; 15 digits (old format) with province and date
phone      mobile ``1[3-9]`` + 9 digits, any grouping, optional ``+86``/``0086``/``(+86)``/``86``/``0``
landline   area code ``010``/``02x``/``0xxx``, ``(0xx)``, or after ``+86`` without its 0, then 7-8
           digits (any first digit), optional extension (``-123``, ``转123``, ``分机``, ``ext``, ``#``);
           service numbers ``400``/``800`` + 7 digits
bank_card  13-19 digits, plain or grouped, passing Luhn; without a card word nearby only 16-19
           digits with a card network's prefix (62, 4, 51-55, 3x, 9 …)
plate      licence plate: province character, letter, 5 (or 6, new energy) letters/digits
========== ===================================================================================

Order numbers: 12-20 digit runs that are none of the above, Pinduoduo's ``241111-123456789012345``,
and codes of letters and digits right after 订单/单号/order (which beats a Luhn-valid card or an
old-format ID there).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from fallback.core.pii.base import ORDER, ORDER_CUE, Hit, overlaps
from fallback.core.pii.checks import card_prefix_ok, digits_of, id15_ok, id18_ok, luhn_ok

_SEP = r"[ .-]?"
EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+-]*\s?@\s?[A-Za-z0-9-]+(?:[.。][A-Za-z0-9-]+)*[.。][A-Za-z]{2,}(?![A-Za-z])"
)
_ID18 = re.compile(rf"(?<!\d)\d(?:{_SEP}\d){{16}}{_SEP}[\dXx](?![\dA-WYZa-wyz])")
_ID15 = re.compile(r"(?<![\dA-Za-z])\d{15}(?![\dA-Za-z])")
_PHONE = re.compile(rf"(?<!\d)(?:(?:\(?(?:\+|00)86\)?|86){_SEP}|0(?=1[3-9]))?1[3-9]\d(?:{_SEP}\d){{8}}(?!\d)")
_AREA = r"(?:10|2\d|[3-9]\d{2})"
_LANDLINE = re.compile(
    r"(?<![\dA-Za-z])(?<!\d[.-])"
    r"(?:(?:(?:\+|00)86|\(\+?86\))[ .-]?(?:\(0\)\s?)?(?:\(0?" + _AREA + r"\)|0?" + _AREA + r")"
    r"|\(0" + _AREA + r"\)|\(" + _AREA + r"\)|0" + _AREA + r")"
    r"(?:\s?[,.-]\s?|\s)?"
    r"\d(?:[ .-]?\d){6,7}(?!\d)"
    r"(?:\s?(?:-|转|分机|ext\.?|x|#)\s?\d{1,6}(?!\d))?",
    re.IGNORECASE,
)
_SERVICE = re.compile(
    r"(?<![\dA-Za-z])[48]00[ .-]?\d(?:[ .-]?\d){6}(?!\d)(?:\s?(?:-|转|分机|ext\.?|#)\s?\d{1,6}(?!\d))?",
    re.IGNORECASE,
)
# a run of digits with single separators: grouped card numbers are cut into their groups
_DIGIT_RUN = re.compile(r"(?<!\d)\d+(?:[ -]\d+)*(?!\d)")
_CARD_CONTEXT = re.compile(
    r"卡|银行|储蓄|信用|账号|账户|户头|开户|转账|汇款|打到|退到|转到|收款|card|bank|visa|master|银联",
    re.IGNORECASE,
)
_UNIT = re.compile(r"\s?[件个台套双只张盒瓶箱元块份次天条包袋]")
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"[A-HJ-NP-Za-hj-np-z][ ·•.-]?(?=[A-Za-z]*\d)[A-HJ-NP-Za-hj-np-z0-9]{5,6}(?![A-Za-z0-9])"
)
_ORDER_DIGITS = re.compile(r"(?<![\dA-Za-z])\d{12,20}(?![\dA-Za-z])")
_ORDER_PDD = re.compile(r"(?<![\dA-Za-z-])\d{6}-\d{15}(?![\dA-Za-z-])")
ORDER_CONTEXT = re.compile(
    r"(?:订单编号|订单号码|订单号|订单|单号|交易号|流水号|order(?:\s*(?:no\.?|number|id|#))?)"
    r"(?:\s*(?:是|为|is|:))?\s*[:#=]?\s*"
    r"((?=[A-Za-z-]*\d)[A-Za-z0-9][A-Za-z0-9-]{5,39})(?![A-Za-z0-9])",
    re.IGNORECASE,
)


# "JD2024…这个单", "241111…的订单": a code that an order word follows
_ORDER_BEFORE_CUE = re.compile(
    r"(?<![A-Za-z0-9-])((?=[A-Za-z-]*\d)[A-Za-z0-9][A-Za-z0-9-]{7,39})\s?(?:这个|那个|这笔|这|的)?(?:订单|单)"
)
_ORDER_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,4}\d{10,20}(?![A-Za-z0-9])")


def order_hits(text: str) -> list[Hit]:
    """Order numbers: cue-introduced ones (:data:`ORDER_CUE`) and bare digit runs (:data:`ORDER`)."""
    hits = [Hit(*m.span(1), ORDER_CUE) for m in ORDER_CONTEXT.finditer(text)]
    hits += [Hit(*m.span(1), ORDER_CUE) for m in _ORDER_BEFORE_CUE.finditer(text)]
    hits += [Hit(*m.span(), ORDER) for m in _ORDER_CODE.finditer(text)]
    hits += [Hit(*m.span(), ORDER) for m in _ORDER_PDD.finditer(text)]
    hits += [Hit(*m.span(), ORDER) for m in _ORDER_DIGITS.finditer(text)]
    return hits


def pattern_hits(
    text: str, kinds: Collection[str], order_spans: Collection[tuple[int, int]]
) -> Iterator[Hit]:
    """Every reading of the shaped kinds in ``text``; :func:`~fallback.core.pii.base.resolve` picks."""
    if "email" in kinds and "@" in text:
        for m in EMAIL.finditer(text):
            yield Hit(m.start(), m.end(), "email")
    if "id_card" in kinds:
        for m in _ID18.finditer(text):
            if id18_ok(digits_of(m.group(0)[:-1]) + m.group(0)[-1]):
                yield Hit(m.start(), m.end(), "id_card")
        for m in _ID15.finditer(text):
            hit = Hit(m.start(), m.end(), "id_card")
            # old-format IDs are weak evidence (a 15-digit order number looks like one a few % of the
            # time), so an explicit order word before the number wins
            if id15_ok(m.group(0)) and not overlaps(hit, order_spans):
                yield hit
    if "phone" in kinds:
        for m in _PHONE.finditer(text):
            yield Hit(m.start(), m.end(), "phone")
    if "landline" in kinds:
        for pattern in (_LANDLINE, _SERVICE):
            for m in pattern.finditer(text):
                yield Hit(m.start(), m.end(), "landline")
    if "bank_card" in kinds:
        yield from _card_hits(text, order_spans)
    if "plate" in kinds:
        for m in _PLATE.finditer(text):
            yield Hit(m.start(), m.end(), "plate")


def _card_hits(text: str, order_spans: Collection[tuple[int, int]]) -> Iterator[Hit]:
    for m in _DIGIT_RUN.finditer(text):
        total = sum(c.isdigit() for c in m.group(0))
        if total < 13:
            continue
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", m.group(0))]
        yield from _card_in_groups(text, m.start(), groups, order_spans)


def _card_in_groups(
    text: str, base: int, groups: list[tuple[int, int]], order_spans: Collection[tuple[int, int]]
) -> Iterator[Hit]:
    """The longest, leftmost run of whole groups that reads as a card ("数量 2 6222…" or "…0128 2件")."""
    options: list[tuple[bool, int, int, int]] = []
    for i in range(len(groups)):
        count = 0
        for j in range(i, len(groups)):
            count += groups[j][1] - groups[j][0]
            if count > 19:
                break
            if count >= 13:
                # cards never start with a 1-3 digit group, and one at the end followed by a unit is a
                # quantity ("… 2件"); grouped 19-digit cards do end in a 3-digit group
                lead = j > i and groups[i][1] - groups[i][0] < 4
                tail = j > i and groups[j][1] - groups[j][0] < 4 and _UNIT.match(text, base + groups[j][1])
                short_edge = bool(lead or tail)
                options.append((short_edge, -count, i, j))
    for _, _, i, j in sorted(options):
        start, end = base + groups[i][0], base + groups[j][1]
        digits = digits_of(text[start:end])
        hit = Hit(start, end, "bank_card")
        if not luhn_ok(digits) or overlaps(hit, order_spans):
            continue
        near = _CARD_CONTEXT.search(text, max(0, start - 12), min(len(text), end + 6)) is not None
        if near or (len(digits) >= 16 and card_prefix_ok(digits)):
            yield hit
            return
