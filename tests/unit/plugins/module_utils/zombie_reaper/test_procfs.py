"""procfs: stat and status parsers on hostile and malformed input."""

import pytest
from proc_fixture import stat_line
from zombie_reaper.procfs import parse_stat, parse_status, process_alive, signal_bit


@pytest.mark.parametrize("comm", ["sshd", "a b c", "evil) S 1 2", "new\nline", "((", ")"])
def test_parse_stat_survives_hostile_names(comm):
    parsed = parse_stat(stat_line(42, comm, state="Z", ppid=7, starttime=999))
    assert parsed["comm"] == comm
    assert (parsed["pid"], parsed["state"], parsed["ppid"], parsed["starttime"]) == (42, "Z", 7, 999)


def test_parse_stat_rejects_garbage():
    with pytest.raises(ValueError):
        parse_stat("12 no parens here")
    with pytest.raises(ValueError):
        parse_stat("12 (x) S 1")


def test_parse_status_signal_masks_and_nspid():
    text = "Name:\tsleep\nUid:\t0\t0\t0\t0\nNSpid:\t4242\t1\nSigIgn:\t0000000000004000\nSigCgt:\t0000000000010000\n"
    info = parse_status(text)
    assert info["NSpid"] == [4242, 1]
    assert signal_bit(info["SigCgt"], 17)  # SIGCHLD caught
    assert signal_bit(info["SigIgn"], 15)  # SIGTERM ignored
    assert not signal_bit(info["SigCgt"], 15)


@pytest.mark.parametrize("state, flags, threads, alive", [
    ("S", 0x400000, 1, True),
    ("R", 0x400004, 1, False),  # PF_EXITING: killed, on its way out (its children may be re-parented already)
    ("Z", 0x400004, 1, False),
    ("Z", 0x400004, 3, True),  # a leader that exited while its other threads run
    ("X", 0, 1, False),
])
def test_process_alive_counts_an_exiting_process_as_gone(state, flags, threads, alive):
    assert process_alive(parse_stat(stat_line(5, "app", state=state, flags=flags, threads=threads))) is alive
