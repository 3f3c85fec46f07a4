"""The app factory's start-up: what it does to the process as a whole."""

import gc

from app.main import GC_THRESHOLDS


async def test_start_up_moves_what_is_loaded_out_of_the_collectors_reach_and_raises_its_thresholds(app):
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == GC_THRESHOLDS
            assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
