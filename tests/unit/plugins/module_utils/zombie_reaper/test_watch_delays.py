"""Watch mode's death-to-reap histogram: Prometheus' cumulative buckets, sum and count."""

from zombie_reaper.metrics import publish_textfile
from zombie_reaper.watch.delays import BUCKETS, ReapDelays


def parse(text):
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))


def test_buckets_are_cumulative_and_inf_counts_every_observation():
    delays = ReapDelays()
    for seconds in (0.5, 5.0, 5.5, 6.2, 1000.0, -1.0):  # a clock step back counts as 0, not a negative delay
        delays.observe(seconds)
    series = parse(delays.exposition("zombie_reaper_watch_reap_delay_seconds", "help"))
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="1"}'] == "2"
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="5"}'] == "3"
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="5.5"}'] == "4"
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="6"}'] == "4"
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="7"}'] == "5"
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="900"}'] == "5"
    assert series['zombie_reaper_watch_reap_delay_seconds_bucket{le="+Inf"}'] == "6"
    assert series["zombie_reaper_watch_reap_delay_seconds_count"] == "6"
    assert float(series["zombie_reaper_watch_reap_delay_seconds_sum"]) == 1017.2
    counts = [int(series['zombie_reaper_watch_reap_delay_seconds_bucket{le="%g"}' % b]) for b in BUCKETS]
    assert counts == sorted(counts)


def test_an_empty_histogram_is_all_zero_and_the_publisher_takes_it(tmp_path):
    text = ReapDelays().exposition("zombie_reaper_watch_reap_delay_seconds", "Seconds.")
    assert set(parse(text).values()) == {"0", "0.000"}
    staged, target = tmp_path / "staged.prom", tmp_path / "zombie_reaper_watch.prom"
    staged.write_text(text)
    assert publish_textfile(str(staged), str(target)) and target.read_text() == text and not staged.exists()
