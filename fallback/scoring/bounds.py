"""Finite-sample precision bounds for picking an auto-answer threshold (pure numpy/scipy)."""

from __future__ import annotations

import numpy as np
from scipy.stats import beta


def clopper_pearson_lower(successes: np.ndarray, n: np.ndarray, delta: float) -> np.ndarray:
    """One-sided (1 - ``delta``) Clopper–Pearson lower bounds of a binomial proportion, element-wise.

    ``successes`` and ``n`` may be effective (weighted) counts; the bound is 0 where nothing succeeded.
    """
    s = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        lb = beta.ppf(delta, np.maximum(s, 1e-12), np.maximum(m - s + 1.0, 1e-12))
    return np.where((s > 0) & (m > 0), np.nan_to_num(lb, nan=0.0), 0.0)


def precision_threshold(
    score: np.ndarray,
    correct: np.ndarray,
    target: float,
    *,
    weights: np.ndarray | None = None,
    delta: float = 0.05,
) -> float | None:
    """The lowest score whose answered set keeps precision >= ``target`` at confidence 1 - ``delta``.

    Precision above a threshold is the weighted share of correct answers among the scores at or
    above it; it must hold at the Clopper–Pearson lower bound computed on the effective sample size
    of the weights. Returns ``None`` when no threshold can meet the bound (too little data, or a
    scorer that is not precise enough): the caller then answers nothing automatically.
    """
    if len(score) == 0:
        return None
    order = np.argsort(-score, kind="stable")
    s = np.asarray(score, dtype=np.float64)[order]
    c = np.asarray(correct, dtype=np.float64)[order]
    w = np.ones_like(c) if weights is None else np.asarray(weights, dtype=np.float64)[order]
    sw, sw2 = np.cumsum(w), np.cumsum(w * w)
    n_eff = sw * sw / sw2
    p = np.cumsum(c * w) / sw
    lb = clopper_pearson_lower(p * n_eff, n_eff, delta)
    last_of_tie = np.r_[s[1:] != s[:-1], True]  # a tied block is all in or all out
    ok = np.nonzero((lb >= target) & last_of_tie)[0]
    if len(ok) == 0:
        return None
    return float(s[int(ok[-1])])
