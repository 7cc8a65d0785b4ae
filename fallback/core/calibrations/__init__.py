"""The calibrations shipped per embedder (JSON, read by ``fallback.core.calibration.load``)."""
