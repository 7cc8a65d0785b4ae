"""The learned scorer: a per-shop classifier over approved answers, trained on the reviewers' keys.

``classifier`` (character n-gram TF-IDF + dense vectors -> a linear model over answers), ``features``
(what the confidence is computed from, with the live index's neighbours), ``bounds`` (finite-sample
precision bounds for the threshold), ``training`` (cross-fitted calibration on the shop's own keys).
The k-NN vote of :mod:`fallback.core.gating` stays the cold-start path.
"""
