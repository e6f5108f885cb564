"""ladder: rungs as written, refused when malformed, skipped where they cannot work."""

import pytest
from proc_fixture import make_parent
from zombie_reaper.errors import ConfigError
from zombie_reaper.ladder import parse_ladder


@pytest.mark.parametrize("text, expected", [
    ("SIGCHLD:15,SIGTERM:15,SIGKILL:5", [("SIGCHLD", 15), ("SIGTERM", 15), ("SIGKILL", 5)]),
    ("term:1.5, kill:0", [("SIGTERM", 1.5), ("SIGKILL", 0)]),
    ([{"signal": "SIGHUP", "wait": 3}, "9:1"], [("SIGHUP", 3), ("SIGKILL", 1)]),
])
def test_parse_ladder(text, expected):
    assert [(r.action, r.wait) for r in parse_ladder(text)] == expected


BAD_LADDERS = ["SIGNOPE:1", "SIGTERM", "SIGTERM:x", "SIGTERM:-2", [], [{"signal": "SIGTERM", "oops": 1}],
               "SIGSTOP:1", 42, "SIGCHLD:1,REAP:2", "REAP:1,REAP:2"]


@pytest.mark.parametrize("bad", BAD_LADDERS)
def test_parse_ladder_rejects_bad_rungs(bad):
    with pytest.raises(ConfigError):
        parse_ladder(bad)


def test_rung_skips_what_cannot_work():
    sigchld, sigterm, sigkill = parse_ladder("SIGCHLD:1,SIGTERM:1,SIGKILL:1")
    plain = make_parent()
    assert "not caught" in sigchld.skip_reason(plain)
    assert sigterm.skip_reason(plain) is None
    ns_init = make_parent(nspid=[5, 1])
    assert "namespace init" in sigterm.skip_reason(ns_init)
    assert sigkill.skip_reason(ns_init) is None
    handler = make_parent(nspid=[5, 1], caught=(1 << 16) | (1 << 14))  # SIGCHLD and SIGTERM caught
    assert sigchld.skip_reason(handler) is None and sigterm.skip_reason(handler) is None
    assert "ignored" in sigterm.skip_reason(make_parent(ignored=1 << 14))
