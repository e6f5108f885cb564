# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers of option values: each raises ConfigError naming the option, never guesses."""

import math

from .errors import ConfigError


def parse_bool(value, option):
    """True/False from a bool or the usual words."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError("%s must be true or false, got %r" % (option, value))


def parse_seconds(value, option, maximum=None, minimum=0):
    """A finite number of seconds, at least ``minimum`` (zero or more), at most ``maximum`` when given."""
    if isinstance(value, bool):
        raise ConfigError("%s must be a number of seconds, got %r" % (option, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError("%s must be a number of seconds, got %r" % (option, value)) from None
    if not math.isfinite(number) or number < 0:
        raise ConfigError("%s must be zero or more seconds, got %r" % (option, value))
    if maximum is not None and number > maximum:
        raise ConfigError("%s must be at most %g seconds, got %r" % (option, maximum, value))
    if number < minimum:
        raise ConfigError("%s must be at least %g seconds, got %r" % (option, minimum, value))
    return number


def parse_count(value, option, minimum=0):
    """A whole number >= minimum."""
    if isinstance(value, bool):
        raise ConfigError("%s must be a whole number, got %r" % (option, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ConfigError("%s must be a whole number, got %r" % (option, value)) from None
    if number < minimum:
        raise ConfigError("%s must be at least %d, got %r" % (option, minimum, value))
    return number


def parse_percent(value, option):
    """A share from 0 to 100."""
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    # 0 would make every container "under pressure": restart_container_init always says that explicitly.
    if number is None or not 0 < number <= 100:
        raise ConfigError("%s must be a percentage above 0 and at most 100, got %r" % (option, value))
    return number


def parse_choice(value, option, choices):
    if value not in choices:
        raise ConfigError("%s must be one of %s, got %r" % (option, "|".join(choices), value))
    return value


# Protect pattern kinds: a pattern with a ':' must name one, so that a typo is an error, never a pattern
# that matches nothing. ``name:`` spells a name glob that itself holds a ':'.
PROTECT_KINDS = ("name", "container", "pod", "cgroup")


def parse_patterns(value, option):
    """A list of non-empty patterns, from a list or a comma-separated string."""
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",") if p.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) and p for p in value):
        raise ConfigError("%s must be a list of non-empty patterns, got %r" % (option, value))
    for pattern in value:
        kind, sep, rest = pattern.partition(":")
        if sep and kind not in PROTECT_KINDS:
            raise ConfigError("%s pattern %r has an unknown kind %r (kinds: %s; a name glob holding ':' is "
                              "written name:GLOB)" % (option, pattern, kind, ", ".join(k + ":" for k in PROTECT_KINDS)))
        if sep and not rest:
            raise ConfigError("%s pattern %r is empty after its kind" % (option, pattern))
    return list(value)


def parse_container_limit(value, option):
    """An id prefix of 4+ characters, a pod UID, or NS/NAME; None when unset."""
    text = parse_text(value, option)
    if text is not None and "/" not in text and len(text) < 4:
        raise ConfigError("%s must be an id prefix of at least 4 characters, a pod UID or NS/NAME, got %r"
                          % (option, text))
    return text


def parse_text(value, option):
    """A non-empty string, or None (unset)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError("%s must be a string, got %r" % (option, value))
    return value
