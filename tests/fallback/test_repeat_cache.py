"""The exact-repeat cache (fallback/service.py, RepeatCache)."""

from __future__ import annotations

import gc

import numpy as np

from fallback.core.domain import KeyMatch
from fallback.service import RepeatCache


def _matches(i: int) -> list[KeyMatch]:
    return [KeyMatch(key_id=i * 10 + k, answer_id=i, score=0.9 - k / 100, text=f"问题{i}-{k}")
            for k in range(10)]


def test_a_repeat_gets_the_same_matches_and_vector_for_the_same_index_version() -> None:
    cache = RepeatCache(size=10)
    vector = np.arange(512, dtype=np.float32).reshape(1, 512)
    cache.put("怎么开发票", 3, _matches(1), vector)
    hit = cache.get("怎么开发票", 3)
    assert hit is not None
    matches, got = hit
    assert matches == _matches(1) and all(isinstance(m, KeyMatch) for m in matches)
    np.testing.assert_array_equal(got, vector)
    matches.clear()  # a caller's changes do not reach the cache
    again = cache.get("怎么开发票", 3)
    assert again is not None and again[0] == _matches(1)
    assert cache.get("怎么开发票", 4) is None  # the index changed since: recomputed
    assert cache.get("没见过", 3) is None
    assert (cache.hits, cache.misses) == (2, 2)


def test_the_least_recently_used_entry_goes_first_and_size_zero_keeps_nothing() -> None:
    cache = RepeatCache(size=2)
    v = np.zeros((1, 512), dtype=np.float32)
    cache.put("a", 1, _matches(1), v)
    cache.put("b", 1, _matches(2), v)
    assert cache.get("a", 1) is not None  # "a" is now the most recent
    cache.put("c", 1, _matches(3), v)
    assert cache.get("b", 1) is None and cache.get("a", 1) is not None and cache.get("c", 1) is not None
    off = RepeatCache(size=0)
    off.put("a", 1, _matches(1), v)
    assert off.get("a", 1) is None


def test_a_full_cache_adds_nothing_for_the_collector_to_walk() -> None:
    cache = RepeatCache(size=5_000)
    v = np.zeros((1, 512), dtype=np.float32)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(5_000):
        cache.put(f"query {i}", 1, _matches(i), v)
    gc.collect()  # tuples of atoms that survive a pass are untracked, the entries holding them on the next
    gc.collect()
    assert len(gc.get_objects()) - before < 100  # as KeyMatch lists: ~55,000 tracked objects
    assert cache.get("query 4999", 1) is not None
