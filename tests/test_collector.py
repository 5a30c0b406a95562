"""The collector's settings for processes that scrub many claims."""

import gc

import pytest

from processor.collector import COLLECTOR_THRESHOLDS, collector_paused, settle_collector


@pytest.fixture
def restored():
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


def test_paused_while_loading_and_enabled_again(restored):
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a store that could not be read")
    assert gc.isenabled()


def test_left_disabled_where_it_was(restored):
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_settled_freezes_what_was_built_and_raises_the_thresholds(restored):
    gc.unfreeze()
    built = [[n] for n in range(1000)]  # long-lived containers, as the code sets are
    settle_collector()
    assert gc.get_freeze_count() >= len(built)
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS
