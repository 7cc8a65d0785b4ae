"""Normalisation and duplicate folding."""

from __future__ import annotations

import numpy as np

from mining.texts import dedupe, duplicate_key, merge_near_duplicates, normalise


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise("  ＯＲＤＥＲ　退款\t多久 ") == "order 退款 多久"


def test_duplicate_key_ignores_punctuation() -> None:
    assert duplicate_key("退款多久到账？") == duplicate_key("退款 多久 到账!!")


def test_dedupe_keeps_counts_rows_and_the_most_frequent_form() -> None:
    texts = ["退款多久到账？", "退款多久到账", "退款多久到账", "快递到哪了", "？？", ""]
    utterances = {u.text: u for u in dedupe(texts)}
    assert set(utterances) == {"退款多久到账", "快递到哪了"}
    assert utterances["退款多久到账"].count == 3
    assert utterances["退款多久到账"].rows == (0, 1, 2)
    assert utterances["快递到哪了"].rows == (3,)


def test_near_duplicates_merge_into_the_most_frequent() -> None:
    utterances = dedupe(["a1", "a2", "a2", "b"])
    vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    merged, keep = merge_near_duplicates(utterances, vectors, 0.99)
    by_text = {u.text: u for u in merged}
    assert set(by_text) == {"a2", "b"}
    assert by_text["a2"].count == 3 and by_text["a2"].rows == (0, 1, 2)
    assert [merged[i].text for i in range(2)] == [utterances[k].text for k in keep]
