# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of options. The modules' argument specs, the Policy, the node command's flags,
its config-file keys and the README's options table are all derived from OPTIONS."""

from .errors import ConfigError
from .ladder import DEFAULT_LADDER, MAX_WAIT_SECONDS, REAP, REAP_DEFAULT_WAIT, Rung, parse_ladder
from .values import (parse_bool, parse_choice, parse_container_limit, parse_count, parse_patterns, parse_percent,
                     parse_seconds, parse_text)

MAX_AGE_SECONDS = 30 * 86400  # ages and the cooldown: 30 days at most

BACKENDS = ("procfs", "psutil")
SCOPES = ("containers", "all")
RESTART_MODES = ("never", "on_pressure", "always")


class Option(object):
    """One option of the policy (or, with ``command_only``, of the node command's run)."""

    def __init__(self, name, kind, default, meaning, minimum=0, maximum=None, choices=None, acting=False,
                 info_default=None, command_only=False, hidden=False, flag=None):
        self.name = name
        self.kind = kind  # count, seconds, bool, choice, patterns, path, text, pid, ladder
        self.default = default
        self.meaning = meaning  # one line: --help, the README table
        self.minimum = minimum
        self.maximum = maximum  # seconds: the documented bound
        self.choices = choices
        self.acting = acting  # only zombie_reap (and the node command): nothing zombie_info needs
        self.info_default = info_default  # zombie_info's own default, when it differs
        self.command_only = command_only  # the node command's run settings, not the policy
        self.hidden = hidden  # for tests and benchmarks: no module option, no config key, no --help line
        self.flag = flag or "--" + name.replace("_", "-")

    def parse(self, value):
        """The validated value (ConfigError otherwise)."""
        kind, name = self.kind, self.name
        if kind == "count":
            return parse_count(value, name, minimum=self.minimum)
        if kind == "pid":
            return None if value is None else parse_count(value, name, minimum=1)
        if kind == "seconds":
            return parse_seconds(value, name, self.maximum, self.minimum)
        if kind == "container":
            return parse_container_limit(value, name)
        if kind == "percent":
            return parse_percent(value, name)
        if kind == "bool":
            return parse_bool(value, name)
        if kind == "choice":
            return parse_choice(value, name, self.choices)
        if kind == "patterns":
            return parse_patterns(value, name)
        if kind == "ladder":
            return parse_ladder(value)
        return parse_text(value, name)

    def argument_spec(self, acting):
        """This option's entry in a module's argument spec."""
        types = {"count": "int", "pid": "int", "seconds": "float", "bool": "bool", "choice": "str",
                 "patterns": "list", "path": "path", "text": "str", "container": "str", "percent": "float"}
        if self.kind == "ladder":
            # A list of {signal, wait}, or the node command's text form (ad hoc: -a 'ladder=SIGTERM:5,SIGKILL:5'):
            # parse_ladder checks either, strictly.
            return {"type": "raw"}
        spec = {"type": types[self.kind]}
        default = self.default if acting or self.info_default is None else self.info_default
        if default is not None:
            spec["default"] = default
        if self.kind == "patterns":
            spec["elements"] = "str"
        if self.choices:
            spec["choices"] = list(self.choices)
        return spec


OPTIONS = (
    Option("min_zombies", "count", 1, "act only on parents with at least this many confirmed zombies", minimum=1),
    Option("confirm_seconds", "seconds", 2.0, "delay between the first scan and the confirming one; `0` skips it "
           "(at most 600)", info_default=0.0, maximum=MAX_WAIT_SECONDS),
    Option("min_age_seconds", "seconds", 0.0,
           "with `state_file`: the oldest zombie must have been first seen this long ago", maximum=MAX_AGE_SECONDS),
    Option("ladder", "ladder", DEFAULT_LADDER,
           "rungs in order, each waiting at most 600 s; never empty; module: list of `{signal: SIGTERM, wait: 15}`",
           acting=True),
    Option("container_init_cooldown", "seconds", 3600.0,
           "seconds before the same container init may be escalated past SIGCHLD again (persists with "
           "`state_file`)", acting=True, maximum=MAX_AGE_SECONDS),
    Option("protect", "patterns", [],
           "globs on names (host PID namespace only; `name:GLOB` for a glob holding `:`), or `container:ID_PREFIX`, "
           "`pod:NS/NAME_GLOB`, `cgroup:PATH_GLOB` (anywhere); any other `KIND:` is an error; only ever adds "
           "protection"),
    Option("state_file", "path", None, "JSON file for first-seen times and cooldowns; a corrupt one is reported "
           "and replaced"),
    Option("backend", "choice", "procfs", "`psutil` scans through psutil (must be installed on the node)",
           choices=BACKENDS),
    Option("scope", "choice", "containers", "`all` also acts on host processes, like the provider guide's script",
           choices=SCOPES),
    Option("max_parents", "count", 25, "act on at most this many parents per run, most zombies first; `0` no cap",
           acting=True),
    Option("limit_subtree", "pid", None, "only parents that are this PID or below it"),
    Option("limit_cgroup", "text", None, "only parents whose cgroup path matches this glob"),
    Option("limit_container", "container", None, "only parents in this container: id prefix (4+ chars), pod UID "
           "or `NS/NAME`"),
    Option("reap", "bool", True,
           "put the `REAP` rung first (`REAP:2`): each parent reaps its own zombies, no signal; the signal rungs "
           "run only where it is refused. `false` (`--no-reap`): signals only, no ptrace. Role: "
           "`zombie_reaper_reap`", acting=True),
    Option("reap_min_age_seconds", "seconds", 5.0,
           "REAP only zombies first seen this long ago (with `state_file`; without one the confirming scan waits "
           "this long, so at most 600)", acting=True, maximum=MAX_AGE_SECONDS),
    Option("restart_container_init", "choice", "on_pressure",
           "past REAP and SIGCHLD, a container init is signalled only when its container runs out of PIDs "
           "(`on_pressure`); `never`; `always` (every escalation, as before 1.1)", choices=RESTART_MODES, acting=True),
    Option("restart_pressure_percent", "percent", 90.0,
           "`on_pressure`: the used share of the tightest PID limit (the container's cgroup path, or the node) "
           "that is pressure", acting=True),
    Option("restart_time_left_seconds", "seconds", 3600.0,
           "`on_pressure`: so is a leak that reaches that limit within this many seconds (from `state_file` history)",
           acting=True, maximum=MAX_AGE_SECONDS),
    Option("restart_budget", "count", 3,
           "container-init restarts per node in a rolling 24 h (kept in `state_file`; without one, per run); `0` none",
           acting=True),
    Option("proc_root", "text", "/proc", "the procfs to read", hidden=True, flag="--proc"),
    Option("pods_log_dir", "text", "/var/log/pods", "kubelet's pod log directory (pod names)", hidden=True),
    Option("runtime_state_root", "text", "/", "where the runtimes' state directories are (/run/containerd, ...)",
           hidden=True),
    Option("runtime_records", "path", None, "the runtimes' records as --export-runtime-records wrote them (as root) "
           "instead of their bundles (the service's)", hidden=True),
    Option("dry_run", "bool", False, "decide everything, signal nothing", command_only=True),
    Option("log", "path", None, "append the JSON report as one line to FILE", command_only=True),
    Option("lock", "path", None, "hold an exclusive lock on FILE; a concurrent run exits with code 3",
           command_only=True),
    Option("textfile", "path", None, "write Prometheus metrics of this run to FILE (atomically), for node_exporter",
           command_only=True),
    Option("rescan_seconds", "seconds", 300.0, "`watch`: the full /proc scan's period (it also runs at start and at "
           "once after lost exit events; 10 to 86400)", command_only=True, minimum=10, maximum=86400),
    Option("receive_buffer", "count", 8 * 1024 * 1024, "`watch`: bytes asked for the exit events' receive buffer",
           command_only=True, hidden=True, minimum=4096),
)
BY_NAME = dict((option.name, option) for option in OPTIONS)
POLICY_OPTIONS = tuple(o for o in OPTIONS if not o.command_only)
COMMAND_OPTIONS = tuple(o for o in OPTIONS if o.command_only)
MODULE_OPTIONS = tuple(o for o in POLICY_OPTIONS if not o.hidden)
CONFIG_KEYS = tuple(o.name for o in OPTIONS if not o.hidden)


def module_argument_spec(acting):
    """Ansible argument spec of zombie_reap (``acting``) or zombie_info."""
    return dict((o.name, o.argument_spec(acting)) for o in MODULE_OPTIONS if acting or not o.acting)


def policy_from_module_params(params):
    """Policy from validated module parameters (only the engine's own keys)."""
    names = set(o.name for o in MODULE_OPTIONS)
    return Policy.from_options(**dict((k, v) for k, v in params.items() if k in names))


class Policy(object):
    """Validated options. Build with ``Policy.from_options(**options)``."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @classmethod
    def from_options(cls, **options):
        unknown = set(options) - set(o.name for o in POLICY_OPTIONS)
        if unknown:
            raise ConfigError("unknown option(s): %s" % ", ".join(sorted(unknown)))
        values = {}
        for option in POLICY_OPTIONS:
            value = options.get(option.name)
            values[option.name] = option.parse(option.default if value is None else value)
        ladder = values["ladder"]
        if values.pop("reap") and ladder[0].action != REAP:
            ladder.insert(0, Rung(REAP, None, REAP_DEFAULT_WAIT))
        values["proc_root"] = values["proc_root"].rstrip("/") or "/"
        if ladder[0].action == REAP and not values["state_file"] and values["reap_min_age_seconds"] > MAX_WAIT_SECONDS:
            raise ConfigError("without state_file the confirming scan waits reap_min_age_seconds, so it must be at "
                              "most %d seconds, got %g" % (MAX_WAIT_SECONDS, values["reap_min_age_seconds"]))
        return cls(**values)

    @property
    def reaps_in_place(self):
        return self.ladder[0].action == REAP

    def describe(self):
        """The policy as plain data for the report."""
        data = dict((o.name, getattr(self, o.name, None)) for o in MODULE_OPTIONS)
        data["ladder"] = [r.to_dict() for r in self.ladder]
        data["reap"] = self.reaps_in_place
        return data


def readme_table():
    """The README's options table (markdown), as a test checks it."""
    lines = ["| option | default | meaning |", "|---|---|---|"]
    for option in MODULE_OPTIONS:
        lines.append("| `%s` | %s | %s |" % (option.name, _readme_default(option), option.meaning))
    return "\n".join(lines)


def _readme_default(option):
    if option.default is None:
        return "none"
    if option.kind == "bool":
        text = "`%s`" % str(option.default).lower()
    elif option.kind == "seconds":
        text = "`%g`" % option.default
    else:
        text = "`%s`" % (option.default,)
    if option.info_default is not None:
        text += " (`zombie_info`: `%g`)" % option.info_default
    return text
