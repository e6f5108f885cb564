# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ladder: its rungs (REAP, then signals), how they are written, and when one cannot work."""

import signal

from .errors import ConfigError
from .procfs import signal_bit
from .values import parse_seconds

# The longest a rung may wait (and the confirming scan may take): runs hold the lock meanwhile.
MAX_WAIT_SECONDS = 600
DEFAULT_LADDER = "SIGCHLD:15,SIGTERM:15,SIGKILL:5"
# The in-place rung: the parent is made to wait4() its own zombies (see reap/in_place.py).
REAP = "REAP"
REAP_DEFAULT_WAIT = 2.0
REAP_ROUND_SECONDS = 0.2  # longest a parent is held stopped in one REAP round; then it runs again
# Rungs that leave the parent running; only the others count as escalation.
GENTLE_ACTIONS = ("SIGCHLD", REAP)

SIGNAL_NAMES = {}
for _name in dir(signal):
    if _name.startswith("SIG") and not _name.startswith("SIG_") and isinstance(getattr(signal, _name), int):
        SIGNAL_NAMES.setdefault(_name, int(getattr(signal, _name)))
SIGNAL_NAMES.pop("SIGSTOP", None)  # a stopped parent reaps nothing and stays stopped


def parse_signal(name):
    """Return (canonical name, number) for 'SIGTERM', 'term', '15' and the like (REAP: number None)."""
    text = str(name).strip().upper()
    if text == REAP:
        return REAP, None
    if text.isdigit():
        number = int(text)
        for known, value in SIGNAL_NAMES.items():
            if value == number and not known.startswith("SIGRT"):
                return known, value
        raise ConfigError("unknown signal number %r" % name)
    if not text.startswith("SIG"):
        text = "SIG" + text
    if text not in SIGNAL_NAMES:
        raise ConfigError("unknown signal %r (expected a name such as SIGCHLD, SIGTERM, SIGKILL)" % name)
    return text, SIGNAL_NAMES[text]


class Rung(object):
    """One step of the ladder: an action, then up to ``wait`` seconds for the zombies to go."""

    def __init__(self, action, signum, wait):
        self.action = action
        self.signum = signum
        self.wait = wait

    @property
    def gentle(self):
        """A gentle rung leaves the parent running (no restart of a container)."""
        return self.action in GENTLE_ACTIONS

    def skip_reason(self, parent):
        """Why this rung cannot work on ``parent``, or None when it can."""
        if self.action == REAP:
            from .reap.refusal import unsupported_reason  # pylint: disable=import-outside-toplevel
            return unsupported_reason()
        if self.signum == signal.SIGKILL:
            return None
        caught = signal_bit(parent.sig_caught, self.signum)
        if self.signum == signal.SIGCHLD and not caught:
            return "SIGCHLD is not caught by the parent"
        if signal_bit(parent.sig_ignored, self.signum):
            return "%s is ignored by the parent" % self.action
        if parent.namespace_init and not caught:
            # The kernel drops a signal with the default action that an ancestor
            # namespace sends to a namespace init; only SIGKILL gets through.
            return "%s has no handler in a namespace init, the kernel would drop it" % self.action
        return None

    def to_dict(self):
        return {"signal": self.action, "wait": self.wait}

    def __repr__(self):
        return "%s:%g" % (self.action, self.wait)


def parse_ladder(value):
    """Parse 'SIGCHLD:15,SIGTERM:15,SIGKILL:5' or a list of {signal, wait} dicts (None: the default)."""
    if value is None:
        value = DEFAULT_LADDER
    items = []
    if isinstance(value, str):
        for chunk in value.split(","):
            if chunk.strip():
                items.append(_rung_text(chunk.strip()))
    elif isinstance(value, (list, tuple)):
        for entry in value:
            if isinstance(entry, dict):
                unknown = set(entry) - {"signal", "wait"}
                if unknown or "signal" not in entry:
                    raise ConfigError("ladder rung %r must have keys 'signal' and 'wait'" % (entry,))
                items.append((entry["signal"], entry.get("wait", 5)))
            elif isinstance(entry, str):
                items.append(_rung_text(entry))
            else:
                raise ConfigError("ladder rung %r must be a dict or 'SIGNAL:SECONDS'" % (entry,))
    else:
        raise ConfigError("ladder must be a list or 'SIGNAL:SECONDS,...', got %r" % (value,))
    if not items:
        raise ConfigError("ladder is empty; a run that signals nothing is a dry run (--dry-run, check mode), "
                          "and one that only reaps in place has the ladder REAP:2")
    rungs = []
    for name, wait in items:
        action, signum = parse_signal(name)
        if action == REAP and rungs:
            raise ConfigError("REAP must be the first rung of the ladder (it is the one that restarts nothing)")
        rungs.append(Rung(action, signum, parse_seconds(wait, "wait of ladder rung %s" % action, MAX_WAIT_SECONDS)))
    return rungs


def _rung_text(text):
    """('SIGTERM', '15') from 'SIGTERM:15'."""
    name, sep, wait = text.partition(":")
    if not sep:
        raise ConfigError("ladder rung %r must be SIGNAL:SECONDS" % text)
    return name, wait
