"""A width-folded shadow of a text that remembers where each of its characters came from.

Detection runs on the shadow, so typing tricks do not hide a number: full-width ``１３８`` and other
decimal digits, circled digits, dashes and minus signs, the full-width space and punctuation fold to
ASCII, zero-width and format characters are skipped, and a run of at least seven Chinese numerals
(``一三八一二三四五六七八``, 幺 = 1, 〇/零 = 0) reads as digits. Replacements are made on the original
text through :meth:`Shadow.original_span`, so everything outside a masked span keeps the user's own
characters.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_DASHES: Final[frozenset[str]] = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\u30fc")
_CN_DIGITS: Final[dict[str, str]] = {
    "〇": "0",
    "零": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "两": "2",
    "贰": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "柒": "7",
    "拐": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
    "勾": "9",
}
# seven or more Chinese numerals, spaces and dashes allowed between them
_CN_RUN = re.compile("[%s](?:[ -]?[%s]){6,}" % (("".join(_CN_DIGITS),) * 2))


def fold_char(ch: str) -> str:
    """Fold one character to its ASCII twin; zero-width and format characters fold to ``""``."""
    code = ord(ch)
    if code < 0x80:
        return ch
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if ch in _DASHES:
        return "-"
    if ch == "\u3002":  # 。 inside an e-mail domain ("qq。com")
        return ch
    category = unicodedata.category(ch)
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category == "No":
        value = unicodedata.digit(ch, None)  # ①, ⑧, superscripts
        return str(value) if value is not None else ch
    if category == "Zs":
        return " "
    if category in ("Cf", "Mn") and not ("\u4e00" <= ch <= "\u9fff"):
        return ""  # zero-width joiners, variation selectors, combining marks sprinkled between digits
    return ch


def _cn_digits(m: re.Match[str]) -> str:
    run = m.group(0)
    # "一三八…五一直收不到": a numeral that starts the next word (一直, 一下, 两个) is not part of the number
    nxt = m.string[m.end() : m.end() + 1]
    if len(run) > 11 and run[-1] in "一两" and "\u4e00" <= nxt <= "\u9fff" and nxt not in _CN_DIGITS:
        run, rest = run[:-1], run[-1]
    else:
        rest = ""
    return "".join(_CN_DIGITS.get(c, c) for c in run) + rest


class Shadow:
    """A folded copy of ``text``: :attr:`text` is what the layers search."""

    __slots__ = ("_origin", "text")

    def __init__(self, text: str) -> None:
        if text.isascii():
            self.text = text
            self._origin: list[int] | None = None
            return
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            folded = fold_char(ch)
            if folded:
                chars.append(folded)
                origin.append(i)
        folded_text = "".join(chars)
        if any(c in _CN_DIGITS for c in folded_text):
            folded_text = _CN_RUN.sub(_cn_digits, folded_text)
        self.text = folded_text
        self._origin = origin

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the folded copy back to the span of the original text."""
        if self._origin is None:
            return start, end
        return self._origin[start], self._origin[end - 1] + 1
