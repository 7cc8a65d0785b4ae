"""Text normalisation shared by matching, caching and lexicon look-ups.

Customer messages arrive typed on phone keyboards that mix full-width and half-width forms
(``ＸＬ码``, ``１９９元``, ``？``), carry invisible characters pasted from other apps, and vary in
spacing. :func:`normalize` folds those differences away so that equal questions compare equal;
:func:`cache_key` goes one step further for an exact-repeat cache and also drops the sentence-final
particles and punctuation that do not change what is being asked.

Both functions are pure and idempotent: ``normalize(normalize(t)) == normalize(t)``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["cache_key", "normalize"]

# Tab, newline and friends are whitespace the user typed; they become spaces, not deletions.
_WHITESPACE_CONTROLS = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85")
# Cc: C0/C1 controls; Cf: zero-width space/joiners, BOM, bidi marks, soft hyphen; Cs/Co: lone
# surrogates and private-use code points, which no keyboard produces on purpose.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_WHITESPACE_RUN = re.compile(r"\s+")

# Sentence-final particles that turn a statement into a question or soften it; dropping them keeps
# "能退货吗" and "能退货吗？" and "能退货呢" on the same cache entry. Content words such as 了 stay.
_TRAILING_PARTICLES = frozenset("吗呢啊呀吧哦啦嘛呗")
_TRAILING_PUNCTUATION = frozenset("?!.,;:~。、，…-_*")
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uf900-\ufaff]) | (?=[\u3000-\u9fff\uf900-\ufaff])")


def _drop_invisible(text: str) -> str:
    """Replace whitespace controls with spaces and delete other control and format characters."""
    # isprintable() is False for every character this drops (Cc, Cf, Cs, Co) or turns into a space
    # (all control characters), so a printable text, the common case, comes back as it is
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch in _WHITESPACE_CONTROLS:
            out.append(" ")
        elif unicodedata.category(ch) not in _DROPPED_CATEGORIES:
            out.append(ch)
    return "".join(out)


def _normalize_once(text: str) -> str:
    # Invisible characters go first: removing one between a letter and a combining mark after NFKC
    # would leave an uncomposed pair that a second call would compose, breaking idempotence.
    text = _drop_invisible(text)
    text = unicodedata.normalize("NFKC", text).lower()
    return _WHITESPACE_RUN.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _t2s() -> Any:
    """OpenCC's traditional -> simplified converter, built on first use (not at import time)."""
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Fold script, width, case, spacing and invisible characters so equal questions compare equal.

    Applies Unicode NFKC (full-width ``ＡＢＣ１２３？，`` become ``abc123?,``, the ideographic space
    becomes a space), lower-cases, removes zero-width and control characters, collapses whitespace
    runs into one space and strips both ends, and folds traditional Chinese into simplified
    (OpenCC ``t2s``: ``可以開發票嗎`` becomes ``可以开发票吗``). Chinese punctuation is otherwise left
    alone: ``。`` and ``、`` have no half-width twin and stay as they are.

    Args:
        text: Raw user or answer text.

    Returns:
        The normalised text. ``normalize(normalize(text)) == normalize(text)`` always holds.
    """
    once = _normalize_once(text)
    if once.isascii():
        return once
    # Lower-casing a few Greek capitals with combining marks yields a sequence NFKC composes
    # further; a second pass reaches the fixed point (checked code point by code point in the tests).
    twice = _normalize_once(once)
    return _t2s().convert(twice) if _has_cjk(twice) else twice


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def _is_trailing_noise(ch: str) -> bool:
    if ch in _TRAILING_PARTICLES or ch in _TRAILING_PUNCTUATION or ch.isspace():
        return True
    # Emoji and other pictographs ("怎么还没发货😭") say how the user feels, not what they ask.
    return unicodedata.category(ch) == "So"


def cache_key(text: str) -> str:
    """Build the key of the exact-repeat answer cache for a user query.

    The key is :func:`normalize` of the text, with spaces next to Chinese characters removed
    (``"怎么 退货"`` equals ``"怎么退货"``, while ``"iphone 15"`` keeps its space) and with trailing
    question particles (吗呢啊呀吧哦啦嘛呗), punctuation and emoji stripped.

    Args:
        text: Raw user query.

    Returns:
        The cache key; an empty string when nothing meaningful is left (callers should not cache
        under an empty key).
    """
    key = _CJK_SPACE.sub("", normalize(text))
    end = len(key)
    while end > 0 and _is_trailing_noise(key[end - 1]):
        end -= 1
    return key[:end].strip()
