"""REAP survives its own death: the node command SIGKILLed at random moments of a round leaves the parent
alive, untraced, with its signal masks and its interrupted nanosleep as they were (tests/helpers/
crash_battery.py; `make bench` runs it with 1,000 trials per parent kind for docs/benchmarks.md)."""

import sys

import pytest

from conftest import HELPERS, MODULE_UTILS, many
from zombie_reaper.reap import refusal

sys.path.insert(0, str(HELPERS))
from crash_battery import run_battery  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.skipif(refusal.unsupported_reason() is not None,
                                reason=str(refusal.unsupported_reason()))


@pytest.mark.parametrize("sigtrap", ["default", "blocked"])
def test_reaper_killed_mid_round_leaves_the_parent_as_it_was(sigtrap, reap_parent_binary):
    trials = many(30, minimum=8)
    summary = run_battery(trials, sigtrap, reap_parent_binary, MODULE_UTILS, zombies=many(2500, minimum=300),
                          seed=12)
    assert summary["trials"] == trials
    # The kills must really land inside rounds (the parent traced), or the test proves nothing.
    assert summary["killed_inside_a_round"] >= trials * 0.6, summary
    assert summary["parent_intact"] == trials, summary
