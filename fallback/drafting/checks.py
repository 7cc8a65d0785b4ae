"""Post-checks on every draft before a reviewer sees it.

Pure apart from the injected ``similarity`` function. Nothing here blocks a draft: the result is
a set of flags and scores shown to the reviewer (and stored in ``candidates.flags``/``scores``).

* ``banned_terms``: 广告法 wording the answer must not contain (:meth:`SafetyPolicy.banned_terms`).
* ``risk_terms``: risk topics (退款, 赔偿, 投诉 ...) the draft talks about.
* ``empty`` / ``too_long``: nothing usable, or more than ``max_chars`` characters.
* ``unsupported_numbers``: durations, amounts, dates, times and percentages stated in the draft
  (``3天``, ``48小时``, ``99元``, ``¥20``, ``11月11日``, ``50%``, ``七天``, ``五折``) whose value is
  found in none of the references, slots, query or history. The model must not invent
  promises, so each one is listed for the reviewer.
* ``grounding`` score: the highest cosine between the draft and one of its references.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = [
    "DraftCheck",
    "Lexicons",
    "Quantity",
    "Similarity",
    "check_draft",
    "extract_quantities",
    "unsupported_quantities",
]

Similarity = Callable[[str, Sequence[str]], float]
"""``similarity(text, refs)``: the highest cosine between ``text`` and any of ``refs``."""


class Lexicons(Protocol):
    """The two look-ups of :class:`fallback.core.safety.SafetyPolicy` the checks use."""

    def banned_terms(self, answer: str) -> list[str]: ...

    def risk_terms(self, text: str) -> list[str]: ...


@dataclass(frozen=True)
class Quantity:
    """A number stated in a text.

    Attributes:
        surface: The text as written (``"3天"``, ``"¥20"``, ``"11月11日"``).
        value: The canonical value (``"3"``, ``"20"``, ``"11-11"``, ``"9:00"``).
        unit: The canonical unit (``"day"``, ``"yuan"``, ``"date"`` ...), None for a bare number.
    """

    surface: str
    value: str
    unit: str | None


@dataclass(frozen=True)
class DraftCheck:
    """Flags and scores of one draft.

    Attributes:
        flags: ``banned_terms``, ``risk_terms``, ``unsupported_numbers`` (lists), ``empty``,
            ``too_long`` (booleans) and ``issues``: the names of those that fired.
        scores: ``grounding`` (max cosine to a reference, 0 without references) and ``chars``.
    """

    flags: dict[str, object]
    scores: dict[str, float]

    @property
    def issues(self) -> list[str]:
        """Names of the flags that fired, in a fixed order (empty when the draft looks clean)."""
        found = self.flags.get("issues", [])
        return [str(x) for x in found] if isinstance(found, list) else []


_CN_DIGITS: Final = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                     "七": 7, "八": 8, "九": 9}
_CN_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
_CN = "[零〇一二两三四五六七八九十百千万半]"
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
# Units after a number, longest first; the value is the canonical unit.
_UNITS: Final = {
    "个工作日": "workday", "工作日": "workday", "个小时": "hour", "小时": "hour", "钟头": "hour",
    "分钟": "minute", "个星期": "week", "星期": "week", "周": "week", "个月": "months", "天": "day",
    "日": "day", "年": "year", "月": "month", "块钱": "yuan", "元": "yuan", "块": "yuan", "%": "percent",
    "折": "discount", "件": "item", "倍": "times", "次": "times", "积分": "points",
}
# Chinese numerals count only before a unit (一下, 一起, 第一 are not numbers); 块 alone is "piece".
_CN_UNIT_WORDS: Final = [u for u in _UNITS if u not in ("块", "日", "月", "次", "件")]


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_DATE = re.compile(
    rf"(?:(?:\d{{4}}|{_CN}{{4}})\s*年\s*)?(?P<m>\d{{1,2}}|{_CN}{{1,3}})\s*月\s*(?P<d>\d{{1,2}}|{_CN}{{1,3}})\s*[日号]"
    r"|(?:\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})(?!\d)"
    r"|双\s*(?P<double>11|12|十一|十二)(?!\d)"
)
_TIME = re.compile(r"(?<!\d)(?P<h>\d{1,2})[:：](?P<min>[0-5]\d)(?!\d)")
_PERCENT_WORDS = re.compile(rf"百分之(?P<p>\d+(?:\.\d+)?|{_CN}+)")
_CN_QUANTITY = re.compile(rf"(?P<n>{_CN}+)\s*(?P<unit>{_alternation(_CN_UNIT_WORDS)})")
_ARABIC = re.compile(
    rf"(?P<cur>[¥$]|rmb\s?)?\s*(?<!\d)(?P<n>{_NUM})(?![\d])\s*(?P<unit>{_alternation(_UNITS)})?",
    re.IGNORECASE,
)


def _cn_number(text: str) -> str | None:
    """``"二十四"`` -> ``"24"``, ``"半"`` -> ``"0.5"``; None when ``text`` is not a numeral."""
    if text == "半":
        return "0.5"
    total = section = digit = 0
    seen = False
    for ch in text:
        if ch in _CN_DIGITS:
            digit, seen = _CN_DIGITS[ch], True
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit, seen = 0, True
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        else:
            return None
    return str(total + section + digit) if seen else None


def _canonical(number: str) -> str:
    value = number.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def _value(token: str) -> str | None:
    return _canonical(token) if token[0].isdigit() else _cn_number(token)


def _fold(text: str) -> str:
    # NFKC: full-width digits, ％ and ￥ become 0-9, % and ¥ (what customers type on phones).
    return unicodedata.normalize("NFKC", text)


def extract_quantities(text: str) -> list[Quantity]:
    """Find the numbers a text states: dates, clock times, percentages, amounts and durations.

    Args:
        text: Any text (full-width forms are folded first).

    Returns:
        The quantities in the order the patterns find them (dates, times, percentages, Chinese
        numerals with a unit, then Arabic numbers with or without a unit).
    """
    work = _fold(text)
    found: list[Quantity] = []

    def take(match: re.Match[str], value: str | None, unit: str | None) -> None:
        nonlocal work
        if value is not None:
            found.append(Quantity(match.group(0).strip(), value, unit))
        start, end = match.span()
        work = work[:start] + "\x00" * (end - start) + work[end:]  # not found again by later patterns

    for m in list(_DATE.finditer(work)):
        if m.group("double"):
            day = "11-11" if m.group("double") in ("11", "十一") else "12-12"
            take(m, day, "date")
            continue
        month, day_ = (m.group("m"), m.group("d")) if m.group("m") else (m.group("im"), m.group("id"))
        mv, dv = _value(month), _value(day_)
        take(m, f"{mv}-{dv}" if mv and dv else None, "date")
    for m in list(_TIME.finditer(work)):
        take(m, f"{int(m.group('h'))}:{m.group('min')}", "time")
    for m in list(_PERCENT_WORDS.finditer(work)):
        take(m, _value(m.group("p")), "percent")
    for m in list(_CN_QUANTITY.finditer(work)):
        take(m, _cn_number(m.group("n")), _UNITS[m.group("unit")])
    for m in list(_ARABIC.finditer(work)):
        unit = _UNITS.get(m.group("unit") or "") or ("yuan" if m.group("cur") else None)
        take(m, _canonical(m.group("n")), unit)
    return found


def unsupported_quantities(draft: str, evidence: Iterable[str]) -> list[str]:
    """The quantities of ``draft`` whose value appears in none of the ``evidence`` texts.

    A quantity is supported by one with the same value and the same unit, or where either side
    has no unit (``满99包邮`` supports ``99元``).

    Args:
        draft: The generated text.
        evidence: References, slot values, the query and history turns.

    Returns:
        Surfaces of the unsupported quantities, each once, in order of appearance.
    """
    known: dict[str, set[str | None]] = {}
    for text in evidence:
        for q in extract_quantities(text):
            known.setdefault(q.value, set()).add(q.unit)
    missing: dict[str, None] = {}
    for q in extract_quantities(draft):
        units = known.get(q.value)
        if units is None or not (q.unit is None or None in units or q.unit in units):
            missing.setdefault(q.surface, None)
    return list(missing)


def check_draft(
    draft: str,
    *,
    references: Sequence[str],
    evidence: Sequence[str],
    lexicons: Lexicons,
    similarity: Similarity,
    max_chars: int,
) -> DraftCheck:
    """Run every post-check on one draft.

    Args:
        draft: The generated text.
        references: The reference answers' texts the draft was grounded on.
        evidence: Everything else the customer or the bot told us: query, history turns and slot
            values (references are added to it for the number check).
        lexicons: Banned and risk term look-ups (a :class:`fallback.core.safety.SafetyPolicy`).
        similarity: ``similarity(draft, references)``, the highest cosine; not called when there
            are no references or the draft is empty.
        max_chars: Longest acceptable draft.

    Returns:
        The flags and scores (see :class:`DraftCheck`).
    """
    text = draft.strip()
    grounding = float(similarity(text, list(references))) if text and references else 0.0
    flags: dict[str, object] = {
        "banned_terms": lexicons.banned_terms(text) if text else [],
        "risk_terms": lexicons.risk_terms(text) if text else [],
        "unsupported_numbers": unsupported_quantities(text, [*references, *evidence]),
        "empty": not text,
        "too_long": len(text) > max_chars,
    }
    flags["issues"] = [name for name, value in flags.items() if value]
    return DraftCheck(flags=flags, scores={"grounding": round(grounding, 4), "chars": float(len(text))})
