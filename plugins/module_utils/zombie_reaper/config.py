# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node command's config file: an INI [reaper] section whose keys are the options' names."""

from .errors import ConfigError
from .options import BY_NAME, CONFIG_KEYS

CONFIG_SECTION = "reaper"


def read_config(path):
    """Options from an INI file with a [reaper] section; unknown keys are an error."""
    # Imported here: only runs that have a config file pay for it.
    import configparser  # pylint: disable=import-outside-toplevel
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, "r", encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError("cannot read config file %s: %s" % (path, exc.strerror or exc)) from None
    except configparser.Error as exc:
        raise ConfigError("malformed config file %s: %s" % (path, str(exc).splitlines()[0])) from None
    except UnicodeDecodeError as exc:
        raise ConfigError("config file %s is not UTF-8 text (%s)" % (path, exc.reason)) from None
    if not parser.has_section(CONFIG_SECTION):
        raise ConfigError("config file %s has no [%s] section" % (path, CONFIG_SECTION))
    extra = [s for s in parser.sections() if s != CONFIG_SECTION]
    if extra:
        raise ConfigError("config file %s: unknown section(s) %s" % (path, ", ".join(extra)))
    values = {}
    for key, value in parser.items(CONFIG_SECTION):
        if key not in CONFIG_KEYS:
            raise ConfigError("config file %s: unknown key %r" % (path, key))
        if BY_NAME[key].kind == "bool":
            try:
                value = BY_NAME[key].parse(value)
            except ConfigError as exc:
                raise ConfigError("config file %s: %s" % (path, exc)) from None
        values[key] = value
    return values
