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


def parse_seconds(value, option):
    """A non-negative, finite number of seconds."""
    if isinstance(value, bool):
        raise ConfigError("%s must be a number of seconds, got %r" % (option, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError("%s must be a number of seconds, got %r" % (option, value)) from None
    if not math.isfinite(number) or number < 0:
        raise ConfigError("%s must be zero or more seconds, got %r" % (option, value))
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


def parse_choice(value, option, choices):
    if value not in choices:
        raise ConfigError("%s must be one of %s, got %r" % (option, "|".join(choices), value))
    return value


def parse_patterns(value, option):
    """A list of non-empty patterns, from a list or a comma-separated string."""
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",") if p.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) and p for p in value):
        raise ConfigError("%s must be a list of non-empty patterns, got %r" % (option, value))
    return list(value)


def parse_text(value, option):
    """A non-empty string, or None (unset)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError("%s must be a string, got %r" % (option, value))
    return value
