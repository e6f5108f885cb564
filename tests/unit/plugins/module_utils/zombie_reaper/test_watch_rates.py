"""Leak rates counted over the exit stream (watch mode)."""

import pytest
from zombie_reaper.watch.rates import LeakRates


def test_no_rate_before_a_minute_of_leaks_then_the_count_over_the_time_followed():
    rates = LeakRates()
    for second in range(0, 30):
        rates.add(100, 1000.0 + second)  # one leak a second, for 30 s
    assert rates.rates(1030.0) == {}  # followed for 30 s: too short to tell
    for second in range(30, 120):
        rates.add(100, 1000.0 + second)
    assert rates.rates(1120.0)[100] == pytest.approx(3600.0, rel=0.01)


def test_the_rate_keeps_only_the_last_hour_and_a_parent_that_stopped_is_forgotten():
    rates = LeakRates()
    for minute in range(0, 60):
        rates.add(7, minute * 60.0)  # one a minute for an hour: 60 per hour
    assert rates.rates(3600.0)[7] == pytest.approx(60.0, rel=0.05)
    # Two hours later nothing new came: the old buckets fall out and the parent with them.
    assert rates.rates(3 * 3600.0) == {}
    assert 7 not in rates.parents


def test_parents_are_counted_apart_and_gone_parents_forgotten(tmp_path):
    rates = LeakRates()
    for second in range(0, 120):
        rates.add(1, float(second))
        if second % 10 == 0:
            rates.add(2, float(second))
    got = rates.rates(120.0)
    assert got[1] == pytest.approx(3600.0, rel=0.01) and got[2] == pytest.approx(360.0, rel=0.1)
    (tmp_path / "1").mkdir()  # a proc root where only parent 1 is alive
    rates.forget_gone(str(tmp_path))
    assert set(rates.rates(120.0)) == {1}
