"""Values every database (and every JSON encoder) can store: what a client sends is made storable.

PostgreSQL refuses a NUL character in text and in JSON, ``NaN``/``Infinity`` in a JSON column (and
``1e999`` parses as infinity), and a lone UTF-16 surrogate cannot be encoded as UTF-8 at all. A call
carrying one of these must still be answered and logged, so :func:`make_storable` repairs the value
(NUL removed, a lone surrogate replaced by U+FFFD, a non-finite float written as the text ``"NaN"``,
``"Infinity"`` or ``"-Infinity"``) and says what it repaired, without quoting the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

__all__ = ["NON_FINITE", "NUL", "SURROGATE", "make_storable", "storable_text"]

NUL: Final = "NUL removed"
SURROGATE: Final = "lone surrogate replaced"
NON_FINITE: Final = "non-finite number stored as text"


def storable_text(text: str, problems: set[str]) -> str:
    """``text`` without NUL characters and with lone surrogates replaced; adds what it did to ``problems``.

    Args:
        text: Any string.
        problems: Collects :data:`NUL` and :data:`SURROGATE` when they applied.

    Returns:
        The storable string (``text`` itself when nothing needed repair).
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
        problems.add(NUL)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
        problems.add(SURROGATE)
    return text


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def make_storable(value: object, problems: set[str]) -> object:
    """A copy of a JSON-like value that PostgreSQL, SQLite and strict JSON can all hold.

    Dicts (keys too), lists and tuples are walked; strings go through :func:`storable_text`; a
    non-finite float becomes its name as text. Anything else is returned as it is.

    Args:
        value: A str, number, bool, None, or a dict/list/tuple of those.
        problems: Collects :data:`NUL`, :data:`SURROGATE` and :data:`NON_FINITE` when they applied.

    Returns:
        The storable value (the input is not modified).
    """
    if isinstance(value, str):
        return storable_text(value, problems)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        problems.add(NON_FINITE)
        return _non_finite(value)
    if isinstance(value, Mapping):
        out: dict[object, object] = {}
        for k, v in value.items():
            key = storable_text(k, problems) if isinstance(k, str) else k
            if key in out:  # "a\x00" and "a" both became "a": keep both values, as masking does
                n = 2
                while f"{key}#{n}" in out:
                    n += 1
                key = f"{key}#{n}"
            out[key] = make_storable(v, problems)
        return out
    if isinstance(value, list | tuple):
        return [make_storable(v, problems) for v in value]
    return value
