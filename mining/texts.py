"""Normalising texts and folding exact and near duplicates together (pure: numpy only)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from mining.domain import Points, Utterance

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, one space between words, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def duplicate_key(text: str) -> str:
    """What two texts must share to count as the same question: their letters, digits and CJK only."""
    return _NON_WORD.sub("", normalise(text))


def dedupe(texts: Sequence[str]) -> list[Utterance]:
    """Fold exact duplicates (same :func:`duplicate_key`), keeping counts and the source rows.

    The most frequent surface form of each group stands for it; texts with no letters or digits are dropped.
    """
    groups: dict[str, list[int]] = {}
    normalised = [normalise(t) for t in texts]
    for row, text in enumerate(normalised):
        key = _NON_WORD.sub("", text)
        if key:
            groups.setdefault(key, []).append(row)
    out = []
    for rows in groups.values():
        surface = Counter(normalised[r] for r in rows).most_common(1)[0][0]
        out.append(Utterance(surface, len(rows), tuple(rows)))
    return out


def merge_near_duplicates(
    utterances: Sequence[Utterance],
    vectors: Points,
    threshold: float,
    *,
    chunk: int = 1024,
    pairs: Iterable[tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[list[Utterance], list[int]]:
    """Fold utterances whose vectors have cosine >= ``threshold`` into the most frequent one.

    Args:
        utterances: Distinct utterances, one per row of ``vectors``.
        vectors: Unit vectors.
        threshold: Cosine at or above which two utterances are the same question.
        chunk: Rows compared at a time (bounds memory to ``chunk * n`` floats).
        pairs: Candidate pairs as (rows, cols) index arrays, all at or above ``threshold`` (e.g. from
            an approximate neighbour search for large runs); default: every pair, compared exactly.

    Returns:
        The merged utterances and, for each, the row of ``vectors`` that represents it.
    """
    n = len(utterances)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for rows, cols in (exact_pairs(vectors, threshold, chunk=chunk) if pairs is None else pairs):
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            a, b = find(r), find(c)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    merged: list[Utterance] = []
    keep: list[int] = []
    for group in members.values():
        lead = max(group, key=lambda i: (utterances[i].count, -i))
        sources = tuple(sorted(r for i in group for r in utterances[i].rows))
        merged.append(Utterance(utterances[lead].text, sum(utterances[i].count for i in group), sources))
        keep.append(lead)
    return merged, keep


def exact_pairs(
    vectors: Points, threshold: float, *, chunk: int = 1024
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every pair of rows with cosine >= ``threshold``, one chunk of rows at a time (O(n^2) work)."""
    for start in range(0, len(vectors), chunk):
        sims = vectors[start : start + chunk] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        yield rows + start, cols
