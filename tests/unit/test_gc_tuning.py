"""A service's start-up objects are frozen out of collection, and collections are rarer."""

from __future__ import annotations

import gc

from psa.gc_tuning import THRESHOLDS, tune_gc


def test_tune_gc_freezes_what_is_alive_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    kept = [object() for _ in range(10)]
    try:
        tune_gc()
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
