# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node command ``zombie-reaper``: flags (from the options table), config file, lock, log, exit code."""

import json
import os
import sys
import time

from .config import read_config
from .engine import MODE_ACT, MODE_INFO, run
from .errors import (EXIT_CODES_HELP, EXIT_NOT_RECORDED, EXIT_OK, EXIT_USAGE, ConfigError, LockBusy, NotRecorded,
                     ReaperError)
from .files import append_whole, check_appendable, check_directory, lock_exclusively, write_atomically
from .metrics import format_metrics, publish_textfile, write_textfile
from .options import COMMAND_OPTIONS, OPTIONS, POLICY_OPTIONS, Policy
from .records import RuntimeRecords
from .report import exit_code_for, format_summary
from .state import count_failed_run
from .version import VERSION

# Flags of the command itself (not options): name -> help.
SWITCHES = (
    ("--config", "FILE", "INI file with a [reaper] section holding any of the options below"),
    ("--info", None, "read only: report zombies and classes, never signal"),
    ("--json", None, "print the JSON report instead of the summary"),
    ("--publish-metrics", "FILE", "only move metrics FILE to the textfile path, atomically (the service's root "
     "step)"),
    ("--export-runtime-records", "FILE", "only write the container runtimes' records of their containers to FILE "
     "(the service's root step: it may not read their bundles)"),
)


class Command(object):
    """What the command line asked for."""

    def __init__(self):
        self.values = {}  # option name -> text (or True for a switch option, a list for protect)
        self.config = None
        self.info = False
        self.json = False
        self.publish = None
        self.export = None
        self.watch = False  # the word ``watch``: the long-running mode


def parse_command_line(argv):
    """Exact flags only (no abbreviations): a typo is an error, never another option."""
    by_flag = dict((o.flag, o) for o in OPTIONS)
    command = Command()
    args = list(argv)
    while args:
        arg = args.pop(0)
        flag, sep, value = arg.partition("=")
        if flag in ("-h", "--help"):
            raise _Exit(usage(), EXIT_OK)
        if flag == "--version":
            raise _Exit("zombie-reaper %s" % VERSION, EXIT_OK)
        if arg == "watch":  # anywhere a flag may stand: the role's wrapper puts --config FILE first
            command.watch = True
            continue
        if flag in ("--info", "--json"):
            if sep:
                raise ConfigError("%s takes no value" % flag)
            setattr(command, flag[2:], True)
            continue
        option = by_flag.get(flag)
        negated = by_flag.get("--" + flag[len("--no-"):]) if flag.startswith("--no-") else None
        if negated is not None and negated.kind == "bool":
            if sep:
                raise ConfigError("%s takes no value" % flag)
            command.values[negated.name] = False
            continue
        if option is None and flag not in ("--config", "--publish-metrics", "--export-runtime-records"):
            raise ConfigError("unknown argument %r (see --help)" % arg)
        if option is not None and option.kind == "bool":
            if sep:
                raise ConfigError("%s takes no value" % flag)
            command.values[option.name] = True
            continue
        if not sep:
            if not args:
                raise ConfigError("%s needs a value" % flag)
            value = args.pop(0)
        if flag == "--publish-metrics":
            command.publish = value
        elif flag == "--export-runtime-records":
            command.export = value
        elif option is None:
            command.config = value
        elif option.kind == "patterns":
            command.values.setdefault(option.name, []).append(value)
        else:
            command.values[option.name] = value
    return command


class _Exit(Exception):
    def __init__(self, text, code):
        Exception.__init__(self, text)
        self.code = code


def usage():
    lines = ["usage: zombie-reaper [--info] [--dry-run] [--json] [--config FILE] [OPTION VALUE ...]",
             "       zombie-reaper watch [--dry-run] [--config FILE] [OPTION VALUE ...]   (until SIGTERM; SIGHUP "
             "reads the options again)", "",
             "Find zombie processes, classify their parents and make them go away safely.", "", "options:"]
    rows = [(flag + (" " + metavar if metavar else ""), text) for flag, metavar, text in SWITCHES]
    for option in COMMAND_OPTIONS + POLICY_OPTIONS:
        if option.hidden:
            continue
        metavar = "" if option.kind == "bool" else " " + ("FILE" if option.kind == "path" else "VALUE")
        default = "" if option.default in (None, [], False) else " (default %s)" % _plain(option.default)
        flag = "%s, --no-%s" % (option.flag, option.flag[2:]) if option.default is True else option.flag
        rows.append((flag + metavar, option.meaning.replace("`", "") + default))
    rows.append(("--version", "print the version and exit"))
    for flag, text in rows:
        lines.append("  %-28s %s" % (flag, text))
    return "\n".join(lines) + "\n\n" + EXIT_CODES_HELP


def _plain(value):
    return "%g" % value if isinstance(value, float) else str(value)


def options_from_command(command):
    """Merge config file and command line (the command line wins): (policy options, run settings)."""
    config = read_config(command.config) if command.config else {}
    merged = dict(config)
    merged.update(command.values)
    policy_options = dict((o.name, merged[o.name]) for o in POLICY_OPTIONS if merged.get(o.name) is not None)
    settings = dict((o.name, o.parse(merged.get(o.name, o.default))) for o in COMMAND_OPTIONS)
    return policy_options, settings


def append_log(path, report):
    """One JSON object per line, whole or absent, the file opened and closed each run (logrotate-safe)."""
    line = json.dumps(report, sort_keys=True, separators=(",", ":")) + "\n"
    append_whole(path, line.encode("utf-8"), "log file")


def check_outputs(settings):
    """Before anything is signalled: every output this run will write must be usable."""
    if settings["log"]:
        check_appendable(settings["log"], "log file")
    if settings["textfile"]:
        check_directory(os.path.dirname(os.path.abspath(settings["textfile"])), "metrics file")


def record(settings, report):
    """Write the log line and the metrics; returns what could not be written (after acting: reported)."""
    failures = []
    if settings["log"]:
        try:
            append_log(settings["log"], report)
        except ReaperError as exc:
            failures.append(str(exc))
    if settings["textfile"]:
        try:
            write_textfile(settings["textfile"], format_metrics(report))
        except ReaperError as exc:
            failures.append(str(exc))
    return failures


def _record_error(settings, state_file, exc):
    """A scheduled run has no terminal: put the error where the provider looks (log, metrics, the failed-runs
    total), except in the output that is itself the error."""
    if isinstance(exc, LockBusy):
        return
    totals = count_failed_run(state_file) if settings.get("textfile") else None
    failed = getattr(exc, "path", None)
    log, textfile = settings.get("log"), settings.get("textfile")
    try:
        if log and failed not in (log, os.path.dirname(os.path.abspath(log))):
            append_log(log, {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": os.uname().nodename,
                             "error": str(exc), "exit_code": exc.exit_code})
        if textfile and failed not in (textfile, os.path.dirname(os.path.abspath(textfile))):
            write_textfile(textfile, format_metrics(None, ok=False, totals=totals))
    except ReaperError as secondary:
        sys.stderr.write("zombie-reaper: error: %s\n" % secondary)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    lock = None
    settings = {}
    options = {}
    try:
        command = parse_command_line(argv)
        if command.watch:
            return watch(argv)
        options, settings = options_from_command(command)
        if command.publish is not None:
            return _publish(command.publish, settings)
        if command.export is not None:
            write_atomically(command.export, RuntimeRecords(options.get("runtime_state_root") or "/").export(), 0o644,
                             "runtime records")
            return EXIT_OK
        policy = Policy.from_options(**options)
        if settings["lock"]:
            lock = lock_exclusively(settings["lock"], "lock file")
        check_outputs(settings)
        progress = None if command.json else (lambda message: sys.stderr.write(message + "\n"))
        failures = []
        try:
            report = run(policy, mode=MODE_INFO if command.info else MODE_ACT, dry_run=settings["dry_run"],
                         progress=progress)
        except NotRecorded as exc:
            report, failures = exc.report, [str(exc)]
        failures += record(settings, report)
    except _Exit as done:
        (sys.stdout if done.code == EXIT_OK else sys.stderr).write(str(done) + "\n")
        return done.code
    except ReaperError as exc:
        sys.stderr.write("zombie-reaper: error: %s\n" % exc)
        if exc.exit_code == EXIT_USAGE:
            sys.stderr.write("(zombie-reaper --help lists the options)\n")
        _record_error(settings, options.get("state_file"), exc)
        return exc.exit_code
    finally:
        if lock is not None:
            lock.close()
    if command.json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(format_summary(report) + "\n")
    if failures:
        for failure in failures:
            sys.stderr.write("zombie-reaper: error: could not record this run: %s\n" % failure)
        return EXIT_NOT_RECORDED
    return exit_code_for(report)


def watch(argv):
    """``zombie-reaper watch``: the long-running mode (watch/daemon.py), until SIGTERM."""
    def load():
        command = parse_command_line(argv)
        if command.info or command.json or command.publish is not None or command.export is not None:
            raise ConfigError("watch takes the options only (no --info, --json, --publish-metrics or "
                              "--export-runtime-records)")
        options, settings = options_from_command(command)
        policy = Policy.from_options(**options)
        check_outputs(settings)
        return policy, settings

    from .watch.daemon import Watcher  # pylint: disable=import-outside-toplevel
    try:
        watcher = Watcher(load, lambda message: sys.stderr.write(message + "\n"))
        watcher.serve()
    except _Exit as done:
        (sys.stdout if done.code == EXIT_OK else sys.stderr).write(str(done) + "\n")
        return done.code
    except ReaperError as exc:
        sys.stderr.write("zombie-reaper watch: error: %s\n" % exc)
        return exc.exit_code
    return EXIT_OK


def _publish(source, settings):
    """Runs as root beside the service: it touches nothing but the two metrics files (no state, no log)."""
    try:
        if not settings["textfile"]:
            raise ConfigError("--publish-metrics needs the textfile path (--textfile or the config's textfile)")
        if not publish_textfile(source, settings["textfile"]):
            sys.stderr.write("zombie-reaper: no metrics to publish at %s (the run wrote none)\n" % source)
    except ReaperError as exc:
        sys.stderr.write("zombie-reaper: error: %s\n" % exc)
        return exc.exit_code
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
