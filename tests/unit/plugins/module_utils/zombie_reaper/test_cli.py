"""cli: the node command's flags come from the options table and fail closed."""

import pytest
from zombie_reaper.cli import parse_command_line, usage
from zombie_reaper.errors import ConfigError
from zombie_reaper.options import OPTIONS


def test_flags_take_values_both_ways_and_protect_repeats():
    command = parse_command_line(["--scope", "all", "--min-zombies=3", "--protect", "a", "--protect=b", "--reap",
                                  "--json", "--config", "/etc/x.conf"])
    assert command.values == {"scope": "all", "min_zombies": "3", "protect": ["a", "b"], "reap": True}
    assert command.json and not command.info and command.config == "/etc/x.conf"


def test_a_switch_on_by_default_turns_off_with_no():
    assert parse_command_line(["--no-reap"]).values == {"reap": False}
    assert "--reap, --no-reap" in usage()


@pytest.mark.parametrize("argv, message", [
    (["--dry"], "unknown argument '--dry'"),  # no abbreviations: a typo never becomes another option
    (["--scopes", "all"], "unknown argument"),
    (["scope"], "unknown argument"),
    (["--scope"], "--scope needs a value"),
    (["--reap=yes"], "--reap takes no value"),
    (["--info=1"], "--info takes no value"),
    (["--no-reap=1"], "--no-reap takes no value"),
    (["--no-scope"], "unknown argument '--no-scope'"),  # only switches have a --no- form
])
def test_bad_command_lines_are_refused(argv, message):
    with pytest.raises(ConfigError, match=message):
        parse_command_line(argv)


def test_usage_lists_every_flag_but_the_hidden_ones():
    text = usage()
    for option in OPTIONS:
        assert (option.flag in text) != option.hidden, option.name


def test_watch_is_a_word_anywhere_a_flag_may_stand():
    # The role's wrapper runs `python3 ... --config FILE "$@"`: the word comes after its flags.
    assert parse_command_line(["--config", "/etc/zombie-reaper/reaper.conf", "watch", "--dry-run"]).watch
    assert parse_command_line(["watch"]).watch and not parse_command_line(["--dry-run"]).watch
