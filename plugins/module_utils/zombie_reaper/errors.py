# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exit codes of the node command and the errors that map to them."""

EXIT_OK = 0
EXIT_ZOMBIES_REMAIN = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_FAILURE = 4
EXIT_NOT_RECORDED = 5

EXIT_CODES_HELP = """exit codes:
  0  done: nothing left that this run acted on (also: nothing to do)
  1  zombies remain under a parent this run acted on (persisting, reparented_defunct,
     permission_denied, no_rung_applies)
  2  bad option, config file or value; nothing was signalled
  3  another run holds the lock; this one did nothing
  4  cannot work here (e.g. /proc unreadable, no right to signal, an output file unusable);
     nothing was signalled
  5  the run completed, and may have acted, but could not record all of it (state, log or
     metrics file); the report is printed
"""


class ReaperError(Exception):
    """A problem the caller must fix; nothing was signalled."""

    exit_code = EXIT_FAILURE


class ConfigError(ReaperError):
    """A bad option, config file or argument value."""

    exit_code = EXIT_USAGE


class LockBusy(ReaperError):
    """Another run holds the lock."""

    exit_code = EXIT_LOCKED


class OutputError(ReaperError):
    """An output file (state, log, metrics) cannot be written; ``path`` is the file."""

    def __init__(self, message, path):
        ReaperError.__init__(self, message)
        self.path = path


class NotRecorded(ReaperError):
    """The run completed (and may have acted), but its state could not be saved; ``report`` says what it did."""

    exit_code = EXIT_NOT_RECORDED

    def __init__(self, message, report):
        ReaperError.__init__(self, message)
        self.report = report
