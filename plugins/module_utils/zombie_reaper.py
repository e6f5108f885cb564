# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zombie reaper engine: scan /proc, classify zombie parents, confirm, act, verify, report.

Standard library only (Python >= 3.8). The Ansible modules import this file; the node
command ``zombie-reaper`` runs this same file (``python3 zombie_reaper.py --help``).
"""

import argparse
import configparser
import ctypes
import errno
import fcntl
import fnmatch
import json
import math
import os
import re
import signal
import sys
import time
from collections import Counter, deque

__version__ = "1.0.0"

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

CLASS_HOST_INIT = "host_init"
CLASS_KERNEL_THREAD = "kernel_thread"
CLASS_REAPER = "reaper"  # the reaper itself or one of its ancestors
CLASS_RUNTIME = "container_runtime"
CLASS_PROTECTED = "protected_daemon"
CLASS_CONTAINER_INIT = "container_init"
CLASS_CONTAINER_PROCESS = "container_process"
CLASS_HOST_PROCESS = "host_process"

NEVER_SIGNALLED = (CLASS_HOST_INIT, CLASS_KERNEL_THREAD, CLASS_REAPER, CLASS_RUNTIME, CLASS_PROTECTED)
CONTAINER_CLASSES = (CLASS_CONTAINER_INIT, CLASS_CONTAINER_PROCESS)

OUTCOMES = {
    "reaped": "the parent is alive and its zombies are gone (with REAP: reaped in place, no signal)",
    "parent_exited": "the parent exited and its zombies were reaped by their new parent",
    "reparented_defunct": "the parent exited, but its zombies stay defunct under a new parent that does not reap",
    "persisting": "every applicable rung was tried and zombies remain",
    "no_rung_applies": "no rung of the ladder can work on this parent (see detail)",
    "protected": "the parent's class or a protect pattern forbids signalling it",
    "out_of_scope": "a host process while scope is 'containers'",
    "below_threshold": "fewer confirmed zombies than min_zombies",
    "too_young": "the oldest zombie was first seen less than min_age_seconds (REAP: reap_min_age_seconds) ago",
    "unconfirmed": "the zombies were gone or changed at the confirming scan",
    "cooldown": "a container init already escalated within container_init_cooldown",
    "deferred": "the max_parents cap for this run was reached",
    "identity_changed": "the parent's pid now belongs to another process; nothing sent",
    "permission_denied": "the kernel refused the signal",
    "would_signal": "dry run: the ladder would run on this parent",
    "would_reap": "dry run: the REAP rung would make the parent reap its zombies (no signal)",
    "eligible": "info: the parent would be acted on by a reap run",
}
# Outcomes where the reaper acted and zombies it was responsible for remain.
FAILED_OUTCOMES = ("persisting", "reparented_defunct", "permission_denied", "no_rung_applies")

EXIT_OK = 0
EXIT_ZOMBIES_REMAIN = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_FAILURE = 4

DEFAULT_LADDER = "SIGCHLD:15,SIGTERM:15,SIGKILL:5"
# The in-place rung: the parent is made to wait4() its own zombies (see reap_in_place).
REAP = "REAP"
REAP_DEFAULT_WAIT = 2.0
# Rungs that leave the parent running; only the others count as escalation.
GENTLE_ACTIONS = ("SIGCHLD", REAP)

PF_KTHREAD = 0x00200000

RUNTIME_PATTERNS = (
    "containerd", "containerd-shim*", "docker-containerd*", "dockerd", "docker-proxy", "docker",
    "conmon", "crio", "cri-o", "runc", "crun", "youki", "kubelet", "podman", "buildkitd",
    "k3s", "k3s-server", "k3s-agent", "rke2", "cri-dockerd", "lxc-start", "lxd",
)
PROTECTED_PATTERNS = (
    "systemd", "systemd-*", "(sd-pam)", "init", "sshd", "sshd-session", "cron", "crond", "anacron",
    "atd", "dbus-daemon", "dbus-broker*", "rsyslogd", "syslog-ng", "agetty", "login", "polkitd",
    "udevd", "chronyd", "ntpd", "auditd", "snapd", "multipathd", "NetworkManager", "wpa_supplicant",
    "irqbalance", "lvmetad", "iscsid", "kube-proxy", "sudo", "su", "tmux*", "screen", "SCREEN",
    "zombie-reaper",
)

SIGNAL_NAMES = {}
for _name in dir(signal):
    if _name.startswith("SIG") and not _name.startswith("SIG_") and isinstance(getattr(signal, _name), int):
        SIGNAL_NAMES.setdefault(_name, int(getattr(signal, _name)))
SIGNAL_NAMES.pop("SIGSTOP", None)  # a stopped parent reaps nothing and stays stopped

ZOMBIE_PIDS_LISTED = 20

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class ReaperError(Exception):
    """A problem the caller must fix; nothing was signalled."""

    exit_code = EXIT_FAILURE


class ConfigError(ReaperError):
    """A bad option, config file or argument value."""

    exit_code = EXIT_USAGE


class LockBusy(ReaperError):
    """Another run holds the lock."""

    exit_code = EXIT_LOCKED


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def parse_stat(data):
    """Parse /proc/PID/stat (bytes or str) into a dict.

    The name field may hold spaces, ')' or newlines, so split at the *last* ')'.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    left = data.find(b"(")
    right = data.rfind(b")")
    if left < 0 or right < left:
        raise ValueError("malformed stat line")
    fields = data[right + 2:].split()
    if len(fields) < 20:
        raise ValueError("malformed stat line: %d fields after the name" % len(fields))
    return {
        "pid": int(data[:left]),
        "comm": data[left + 1:right].decode("utf-8", "replace"),
        "state": fields[0].decode("ascii", "replace"),
        "ppid": int(fields[1]),
        "flags": int(fields[6]),
        "num_threads": int(fields[17]),
        "starttime": int(fields[19]),
    }


def parse_status(text):
    """Parse the /proc/PID/status fields the engine uses."""
    info = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if key in ("SigCgt", "SigIgn", "SigBlk", "SigPnd", "ShdPnd"):
            info[key] = int(value, 16)
        elif key in ("Uid", "NSpid", "NStgid"):
            info[key] = [int(v) for v in value.split()]
        elif key in ("TracerPid", "PPid", "Threads", "Seccomp"):
            info[key] = int(value)
        elif key == "Name":
            info[key] = value
        elif key == "State":
            info[key] = value[:1]
    return info


def process_alive(stat):
    """A parsed stat of a live process: not defunct, or only its leader thread has exited."""
    return stat is not None and (stat["state"] not in ("Z", "X") or stat["num_threads"] > 1)


def signal_bit(mask, signum):
    """True when signal number ``signum`` is set in a /proc status signal mask."""
    return bool(mask >> (signum - 1) & 1)


_HEX64 = r"[0-9a-f]{64}"
_CGROUP_CONTAINER_RES = (
    # systemd cgroup driver: <prefix>-<id>.scope
    (re.compile(r"(?:^|/)docker-(%s)\.scope" % _HEX64), "docker"),
    (re.compile(r"(?:^|/)cri-containerd-(%s)\.scope" % _HEX64), "containerd"),
    (re.compile(r"(?:^|/)crio-(%s)\.scope" % _HEX64), "cri-o"),
    (re.compile(r"(?:^|/)libpod-(%s)\.scope" % _HEX64), "podman"),
    (re.compile(r"(?:^|/)nerdctl-(%s)\.scope" % _HEX64), "containerd"),
    # cgroupfs driver
    (re.compile(r"(?:^|/)docker/(%s)(?:/|$)" % _HEX64), "docker"),
    (re.compile(r"(?:^|/)crio-(%s)(?:/|$)" % _HEX64), "cri-o"),
    (re.compile(r"(?:^|/)libpod-(%s)(?:/|$)" % _HEX64), "podman"),
    (re.compile(r"(?:^|/)kubepods[^/]*(?:/[^/]+)*/pod[0-9a-f_-]+/(%s)(?:/|$)" % _HEX64), "cri"),
    (re.compile(r"^/default/(%s)(?:/|$)" % _HEX64), "containerd"),
)
_CGROUP_RUNTIME_SIDE_RE = re.compile(r"(?:^|/)(?:libpod-conmon-|crio-conmon-)[0-9a-f]{64}")
_POD_UID_RE = re.compile(r"kubepods.*?[/-]pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?(?:/|$)")


def parse_cgroup(text):
    """Attribute a process from /proc/PID/cgroup (v1 and v2).

    Returns a dict: ``path`` (the v2 path, else the first v1 path naming a container),
    ``runtime``, ``id``, ``pod_uid`` (each None when unknown) and ``runtime_side``
    (True for runtime helper cgroups such as podman's conmon scope).
    """
    paths = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths.append((parts[0] == "0" and parts[1] == "", parts[2]))
    # cgroup v2 first, then v1 hierarchies in file order
    paths.sort(key=lambda item: not item[0])
    result = {"path": paths[0][1] if paths else None, "runtime": None, "id": None,
              "pod_uid": None, "runtime_side": False}
    for _unified, path in paths:
        if _CGROUP_RUNTIME_SIDE_RE.search(path):
            result["runtime_side"] = True
        pod = _POD_UID_RE.search(path)
        if pod and not result["pod_uid"]:
            result["pod_uid"] = pod.group(1).replace("_", "-")
            result["path"] = path
        for regex, runtime in _CGROUP_CONTAINER_RES:
            match = regex.search(path)
            if match:
                result.update(runtime=runtime, id=match.group(1), path=path)
                return result
    return result


def parse_signal(name):
    """Return (canonical name, number) for 'SIGTERM', 'term', '15' and the like."""
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


def parse_bool(value, option):
    """True/False from a bool or the usual words; raise ConfigError naming the option otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError("%s must be true or false, got %r" % (option, value))


def parse_seconds(value, option):
    """A non-negative number of seconds; raise ConfigError naming the option otherwise."""
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
    """A whole number >= minimum; raise ConfigError naming the option otherwise."""
    if isinstance(value, bool):
        raise ConfigError("%s must be a whole number, got %r" % (option, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ConfigError("%s must be a whole number, got %r" % (option, value)) from None
    if number < minimum:
        raise ConfigError("%s must be at least %d, got %r" % (option, minimum, value))
    return number


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
            return reap_unsupported_reason()
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
    """Parse 'SIGCHLD:15,SIGTERM:15,SIGKILL:5' or a list of {signal, wait} dicts."""
    if value is None or value == "":
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
        raise ConfigError("ladder must have at least one rung")
    rungs = []
    for name, wait in items:
        action, signum = parse_signal(name)
        if action == REAP and rungs:
            raise ConfigError("REAP must be the first rung of the ladder (it is the one that restarts nothing)")
        rungs.append(Rung(action, signum, parse_seconds(wait, "wait of ladder rung %s" % action)))
    return rungs


def _rung_text(text):
    """('SIGTERM', '15') from 'SIGTERM:15'."""
    name, sep, wait = text.partition(":")
    if not sep:
        raise ConfigError("ladder rung %r must be SIGNAL:SECONDS" % text)
    return name, wait


# ---------------------------------------------------------------------------
# Policy (every option, validated in one place)
# ---------------------------------------------------------------------------

OPTION_DEFAULTS = {
    "min_zombies": 1,
    "confirm_seconds": 2.0,
    "min_age_seconds": 0.0,
    "ladder": DEFAULT_LADDER,
    "container_init_cooldown": 3600.0,
    "protect": [],
    "state_file": None,
    "backend": "procfs",
    "scope": "containers",
    "max_parents": 25,
    "limit_subtree": None,
    "limit_cgroup": None,
    "limit_container": None,
    "proc_root": "/proc",
    "pods_log_dir": "/var/log/pods",
    "reap": False,
    "reap_min_age_seconds": 5.0,
}

BACKENDS = ("procfs", "psutil")
SCOPES = ("containers", "all")


def module_argument_spec(acting):
    """Ansible argument spec for the modules; defaults come from OPTION_DEFAULTS."""
    spec = {
        "min_zombies": {"type": "int", "default": OPTION_DEFAULTS["min_zombies"]},
        "confirm_seconds": {"type": "float", "default": OPTION_DEFAULTS["confirm_seconds"] if acting else 0.0},
        "min_age_seconds": {"type": "float", "default": OPTION_DEFAULTS["min_age_seconds"]},
        "protect": {"type": "list", "elements": "str", "default": []},
        "state_file": {"type": "path"},
        "backend": {"type": "str", "default": OPTION_DEFAULTS["backend"], "choices": list(BACKENDS)},
        "scope": {"type": "str", "default": OPTION_DEFAULTS["scope"], "choices": list(SCOPES)},
        "limit_subtree": {"type": "int"},
        "limit_cgroup": {"type": "str"},
        "limit_container": {"type": "str"},
    }
    if acting:
        spec.update({
            "ladder": {"type": "list", "elements": "dict", "options": {
                "signal": {"type": "str", "required": True},
                "wait": {"type": "float", "default": 5.0},
            }},
            "container_init_cooldown": {"type": "float", "default": OPTION_DEFAULTS["container_init_cooldown"]},
            "max_parents": {"type": "int", "default": OPTION_DEFAULTS["max_parents"]},
            "reap": {"type": "bool", "default": OPTION_DEFAULTS["reap"]},
            "reap_min_age_seconds": {"type": "float", "default": OPTION_DEFAULTS["reap_min_age_seconds"]},
        })
    return spec


def policy_from_module_params(params):
    """Policy from validated module parameters (only the engine's own keys)."""
    return Policy.from_options(**{k: v for k, v in params.items() if k in OPTION_DEFAULTS})


class Policy(object):
    """Validated options. Build with ``Policy.from_options(**options)``."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @classmethod
    def from_options(cls, **options):
        unknown = set(options) - set(OPTION_DEFAULTS)
        if unknown:
            raise ConfigError("unknown option(s): %s" % ", ".join(sorted(unknown)))
        raw = dict(OPTION_DEFAULTS)
        raw.update({k: v for k, v in options.items() if v is not None})
        protect = raw["protect"]
        if isinstance(protect, str):
            protect = [p.strip() for p in protect.split(",") if p.strip()]
        if not isinstance(protect, (list, tuple)) or not all(isinstance(p, str) and p for p in protect):
            raise ConfigError("protect must be a list of non-empty patterns, got %r" % (raw["protect"],))
        if raw["backend"] not in BACKENDS:
            raise ConfigError("backend must be one of %s, got %r" % ("|".join(BACKENDS), raw["backend"]))
        if raw["scope"] not in SCOPES:
            raise ConfigError("scope must be one of %s, got %r" % ("|".join(SCOPES), raw["scope"]))
        subtree = raw["limit_subtree"]
        if subtree is not None:
            subtree = parse_count(subtree, "limit_subtree", minimum=1)
        ladder = parse_ladder(raw["ladder"])
        reap = parse_bool(raw["reap"], "reap")
        if reap and ladder[0].action != REAP:
            ladder.insert(0, Rung(REAP, None, REAP_DEFAULT_WAIT))
        return cls(
            min_zombies=parse_count(raw["min_zombies"], "min_zombies", minimum=1),
            confirm_seconds=parse_seconds(raw["confirm_seconds"], "confirm_seconds"),
            min_age_seconds=parse_seconds(raw["min_age_seconds"], "min_age_seconds"),
            ladder=ladder,
            reap_min_age_seconds=parse_seconds(raw["reap_min_age_seconds"], "reap_min_age_seconds"),
            container_init_cooldown=parse_seconds(raw["container_init_cooldown"], "container_init_cooldown"),
            protect=list(protect),
            state_file=raw["state_file"] or None,
            backend=raw["backend"],
            scope=raw["scope"],
            max_parents=parse_count(raw["max_parents"], "max_parents", minimum=0),
            limit_subtree=subtree,
            limit_cgroup=raw["limit_cgroup"] or None,
            limit_container=raw["limit_container"] or None,
            proc_root=raw["proc_root"].rstrip("/") or "/",
            pods_log_dir=raw["pods_log_dir"],
        )

    def describe(self):
        """The policy as plain data for the report."""
        return {
            "min_zombies": self.min_zombies, "confirm_seconds": self.confirm_seconds,
            "min_age_seconds": self.min_age_seconds, "ladder": [r.to_dict() for r in self.ladder],
            "container_init_cooldown": self.container_init_cooldown, "protect": self.protect,
            "state_file": self.state_file, "backend": self.backend, "scope": self.scope,
            "max_parents": self.max_parents, "limit_subtree": self.limit_subtree,
            "limit_cgroup": self.limit_cgroup, "limit_container": self.limit_container,
            "reap": self.reaps_in_place, "reap_min_age_seconds": self.reap_min_age_seconds,
        }

    @property
    def reaps_in_place(self):
        return self.ladder[0].action == REAP


# ---------------------------------------------------------------------------
# Scanning
# ---------------------------------------------------------------------------


class Zombie(object):
    __slots__ = ("pid", "ppid", "starttime", "comm")

    def __init__(self, pid, ppid, starttime, comm):
        self.pid = pid
        self.ppid = ppid
        self.starttime = starttime
        self.comm = comm


class Scan(object):
    """What one pass over the process table found."""

    def __init__(self):
        self.processes = 0
        self.zombies_by_parent = {}  # ppid -> [Zombie]
        self.zombie_leaders_with_threads = 0
        self.ppid_of = None  # pid -> ppid for every process, only when a subtree limit needs it

    @property
    def zombie_count(self):
        return sum(len(z) for z in self.zombies_by_parent.values())


def read_file(path, limit=65536):
    """Read a small /proc file as bytes; None if the process is gone or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def _open_proc(proc_root):
    """A directory fd on proc_root and its numeric entries (as names: no int/str round trip)."""
    try:
        proc_fd = os.open(proc_root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ReaperError("cannot read %s: %s" % (proc_root, exc.strerror or exc)) from None
    try:
        names = [n for n in os.listdir(proc_fd) if n.isdigit()]
    except OSError as exc:
        os.close(proc_fd)
        raise ReaperError("cannot read %s: %s" % (proc_root, exc.strerror or exc)) from None
    if not names:
        os.close(proc_fd)
        raise ReaperError("%s lists no processes: is procfs mounted there?" % proc_root)
    return proc_fd, names


def scan_procfs(proc_root="/proc", want_ppids=False):
    """One pass over every numeric /proc entry.

    Cheap per process (one open/read/close of ``stat``, the state byte checked first);
    only zombies are parsed in full. Entries that vanish mid-scan are skipped.
    """
    scan = Scan()
    proc_fd, names = _open_proc(proc_root)
    scan.processes = len(names)
    ppid_of = {} if want_ppids else None
    o_rdonly = os.O_RDONLY
    os_open, os_read, os_close = os.open, os.read, os.close
    try:
        for name in names:
            try:
                # relative to the directory fd: a shorter path walk for the kernel, as openat() in C
                fd = os_open(name + "/stat", o_rdonly, dir_fd=proc_fd)
            except OSError:
                continue
            try:
                data = os_read(fd, 1024)
            except OSError:
                continue
            finally:
                os_close(fd)
            right = data.rfind(b")")
            if right < 0:
                continue
            if ppid_of is not None:
                ppid_of[int(name)] = int(data[right + 4:data.find(b" ", right + 4)])
            if data[right + 2:right + 3] == b"Z":
                _add_zombie(scan, int(name), data, right)
    finally:
        os_close(proc_fd)
    scan.ppid_of = ppid_of
    return scan


def _add_zombie(scan, pid, data, right):
    """Parse a zombie's stat line in full and file it under its parent."""
    try:
        fields = data[right + 2:].split()
        ppid = int(fields[1])
        if int(fields[17]) > 1:
            # A thread-group leader that exited while other threads run:
            # shown as Z, but no wait() can collect it until they end.
            scan.zombie_leaders_with_threads += 1
            return
        zombie = Zombie(pid, ppid, int(fields[19]), data[data.find(b"(") + 1:right].decode("utf-8", "replace"))
    except (IndexError, ValueError):
        return
    group = scan.zombies_by_parent.get(ppid)
    if group is None:
        scan.zombies_by_parent[ppid] = [zombie]
    else:
        group.append(zombie)


def scan_psutil(proc_root="/proc", want_ppids=False):
    """The same pass through psutil (optional dependency on the node)."""
    try:
        import psutil  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ReaperError("backend 'psutil' needs the psutil package on the node (pip install psutil)") from None
    if proc_root != "/proc":
        psutil.PROCFS_PATH = proc_root
    scan = Scan()
    ppid_of = {} if want_ppids else None
    boot = psutil.boot_time()
    ticks = clock_ticks()
    count = 0
    for proc in psutil.process_iter(["ppid", "status", "create_time", "name", "num_threads"]):
        info = proc.info
        if info["ppid"] is None:
            continue
        count += 1
        if ppid_of is not None:
            ppid_of[proc.pid] = info["ppid"]
        if info["status"] != psutil.STATUS_ZOMBIE:
            continue
        if (info["num_threads"] or 1) > 1:
            scan.zombie_leaders_with_threads += 1
            continue
        starttime = int(round((info["create_time"] - boot) * ticks))
        scan.zombies_by_parent.setdefault(info["ppid"], []).append(
            Zombie(proc.pid, info["ppid"], starttime, info["name"] or ""))
    scan.processes = count
    scan.ppid_of = ppid_of
    return scan


SCANNERS = {"procfs": scan_procfs, "psutil": scan_psutil}


def clock_ticks():
    return os.sysconf("SC_CLK_TCK")


def read_stat(proc_root, pid):
    """Parsed stat of ``pid`` or None when gone."""
    data = read_file("%s/%d/stat" % (proc_root, pid), 1024)
    if not data:
        return None
    try:
        return parse_stat(data)
    except ValueError:
        return None


def read_status(proc_root, pid):
    """Parsed status of ``pid`` (the fields parse_status knows) or None when gone."""
    data = read_file("%s/%d/status" % (proc_root, pid))
    return parse_status(data.decode("utf-8", "replace")) if data else None


def zombie_still_there(proc_root, zombie):
    """The same zombie (pid and start time) is still defunct; returns its current ppid or None."""
    stat = read_stat(proc_root, zombie.pid)
    if stat is None or stat["state"] != "Z" or stat["starttime"] != zombie.starttime:
        return None
    return stat["ppid"]


def pid_headroom(proc_root, processes):
    """Processes and threads in use against pid_max and threads-max."""
    result = {"processes": processes, "threads": None, "pid_max": None, "threads_max": None,
              "free": None, "used_percent": None}
    loadavg = read_file(proc_root + "/loadavg")
    if loadavg:
        try:
            result["threads"] = int(loadavg.split()[3].split(b"/")[1])
        except (IndexError, ValueError):
            pass
    for key, name in (("pid_max", "pid_max"), ("threads_max", "threads-max")):
        data = read_file("%s/sys/kernel/%s" % (proc_root, name))
        if data:
            try:
                result[key] = int(data)
            except ValueError:
                pass
    in_use = result["threads"] or processes
    limits = [v for v in (result["pid_max"], result["threads_max"]) if v]
    if limits:
        limit = min(limits)
        result["free"] = max(limit - in_use, 0)
        result["used_percent"] = round(100.0 * in_use / limit, 2)
    return result


# ---------------------------------------------------------------------------
# Parents: details, attribution, classification
# ---------------------------------------------------------------------------


class Parent(object):
    """A process with zombie children, as inspected for classification."""

    def __init__(self, pid):
        self.pid = pid
        self.starttime = None
        self.ppid = None
        self.comm = ""
        self.cmdline = ""
        self.exe = None
        self.uid = None
        self.flags = 0
        self.nspid = []
        self.sig_caught = 0
        self.sig_ignored = 0
        self.tracer = 0
        self.pidns = None
        self.cgroup = {"path": None, "runtime": None, "id": None, "pod_uid": None, "runtime_side": False}
        self.pod = None
        self.klass = None
        self.reason = None
        self.zombies = []

    @property
    def nested(self):
        """In a PID namespace below the one whose /proc we read."""
        return len(self.nspid) > 1

    @property
    def namespace_init(self):
        return self.nested and self.nspid[-1] == 1

    @property
    def names(self):
        names = {self.comm}
        argv0 = self.cmdline.split(" ", 1)[0] if self.cmdline else ""
        if argv0:
            names.add(os.path.basename(argv0))
        if self.exe:
            names.add(os.path.basename(self.exe))
        names.discard("")
        return names

    @property
    def in_container(self):
        return self.nested or bool(self.cgroup.get("id")) or bool(self.cgroup.get("pod_uid"))

    @property
    def container_key(self):
        """Stable key of the container (or PID namespace) the parent belongs to."""
        if self.cgroup.get("id"):
            return "container:" + self.cgroup["id"]
        if self.pidns:
            return "pidns:" + self.pidns
        return "pid:%d:%s" % (self.pid, self.starttime)

    def container_dict(self):
        if not self.in_container:
            return None
        data = {"runtime": self.cgroup.get("runtime"), "id": self.cgroup.get("id"),
                "pod_uid": self.cgroup.get("pod_uid"), "pod_namespace": None, "pod_name": None,
                "pid_namespace": self.pidns, "pid_in_container": self.nspid[-1] if self.nested else None}
        if self.pod:
            data["pod_namespace"], data["pod_name"] = self.pod
        return data


def inspect_parent(proc_root, pid):
    """Read what classification needs; None when the parent is gone."""
    stat = read_stat(proc_root, pid)
    if stat is None:
        return None
    parent = Parent(pid)
    parent.starttime = stat["starttime"]
    parent.ppid = stat["ppid"]
    parent.comm = stat["comm"]
    parent.flags = stat["flags"]
    base = "%s/%d" % (proc_root, pid)
    info = read_status(proc_root, pid)
    if info:
        parent.uid = (info.get("Uid") or [None])[0]
        parent.nspid = info.get("NSpid") or [pid]
        parent.sig_caught = info.get("SigCgt", 0)
        parent.sig_ignored = info.get("SigIgn", 0)
        parent.tracer = info.get("TracerPid", 0)
    else:
        parent.nspid = [pid]
    cmdline = read_file(base + "/cmdline")
    if cmdline:
        parent.cmdline = cmdline.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    try:
        parent.exe = os.readlink(base + "/exe")
    except OSError:
        parent.exe = None
    try:
        link = os.readlink(base + "/ns/pid")
        parent.pidns = link[link.find("[") + 1:link.rfind("]")] or None
    except OSError:
        parent.pidns = None
    cgroup = read_file(base + "/cgroup")
    if cgroup:
        parent.cgroup = parse_cgroup(cgroup.decode("utf-8", "replace"))
    return parent


def pod_names(pods_log_dir):
    """Map pod UID -> (namespace, name) from /var/log/pods/<namespace>_<name>_<uid>."""
    pods = {}
    try:
        entries = os.listdir(pods_log_dir)
    except OSError:
        return pods
    for entry in entries:
        parts = entry.split("_")
        if len(parts) >= 3:
            pods[parts[-1]] = ("_".join(parts[:-2]) if len(parts) > 3 else parts[0], parts[-2])
    return pods


def matches_any(names, patterns):
    for pattern in patterns:
        for name in names:
            if fnmatch.fnmatchcase(name, pattern):
                return pattern
    return None


def attribution_protected(parent, patterns):
    """Protect patterns that name a container, pod or cgroup apply in any namespace."""
    container = parent.container_dict() or {}
    for pattern in patterns:
        kind, sep, value = pattern.partition(":")
        if not sep:
            continue
        if kind == "container" and container.get("id") and container["id"].startswith(value):
            return pattern
        if kind == "pod" and container.get("pod_name"):
            if fnmatch.fnmatchcase("%s/%s" % (container["pod_namespace"], container["pod_name"]), value):
                return pattern
        if kind == "cgroup" and parent.cgroup.get("path") and fnmatch.fnmatchcase(parent.cgroup["path"], value):
            return pattern
    return None


def classify(parent, reaper_lineage, user_patterns):
    """Set ``parent.klass`` and ``parent.reason``; the first rule that applies wins."""
    if parent.pid == 1:
        return _set_class(parent, CLASS_HOST_INIT, "PID 1 of this PID namespace")
    if parent.flags & PF_KTHREAD:  # not "pid 2": inside a PID namespace pid 2 is an ordinary process
        return _set_class(parent, CLASS_KERNEL_THREAD, "kernel thread")
    if parent.pid in reaper_lineage:
        return _set_class(parent, CLASS_REAPER, "the reaper itself or one of its ancestors")
    attribution = attribution_protected(parent, user_patterns)
    if attribution:
        return _set_class(parent, CLASS_PROTECTED, "protect pattern %r" % attribution)
    if not parent.nested:
        # Names are trusted only in the host PID namespace: tenants choose their own names.
        runtime = matches_any(parent.names, RUNTIME_PATTERNS)
        if runtime or parent.cgroup.get("runtime_side"):
            return _set_class(parent, CLASS_RUNTIME, "container runtime (%s)" % (runtime or "runtime cgroup"))
        name_patterns = [p for p in user_patterns if ":" not in p]
        pattern = matches_any(parent.names, name_patterns)
        if pattern:
            return _set_class(parent, CLASS_PROTECTED, "protect pattern %r" % pattern)
        pattern = matches_any(parent.names, PROTECTED_PATTERNS)
        if pattern:
            return _set_class(parent, CLASS_PROTECTED, "protected host daemon (%s)" % pattern)
    if parent.namespace_init:
        return _set_class(parent, CLASS_CONTAINER_INIT, "PID 1 of a nested PID namespace")
    if parent.in_container:
        return _set_class(parent, CLASS_CONTAINER_PROCESS,
                          "in a nested PID namespace" if parent.nested else "in a container cgroup")
    return _set_class(parent, CLASS_HOST_PROCESS, "host process")


def _set_class(parent, klass, reason):
    parent.klass = klass
    parent.reason = reason
    return klass


def reaper_lineage(proc_root):
    """PIDs of this process and all its ancestors, as seen through proc_root."""
    lineage = set()
    pid = os.getpid()
    while pid > 0 and pid not in lineage:
        lineage.add(pid)
        stat = read_stat(proc_root, pid)
        if stat is None:
            break
        pid = stat["ppid"]
    return lineage


# ---------------------------------------------------------------------------
# State file: first-seen times and container-init cooldowns, across runs
# ---------------------------------------------------------------------------

STATE_VERSION = 1


class State(object):
    def __init__(self, path):
        self.path = path
        self.first_seen = {}
        self.escalated = {}
        self.warning = None
        if path:
            self._load()

    def _load(self):
        try:
            with open(self.path, "r") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            self.warning = "state file %s is unreadable or corrupt (%s); it is replaced" % (self.path, exc)
            return
        if (not isinstance(data, dict) or data.get("version") != STATE_VERSION
                or not isinstance(data.get("first_seen"), dict) or not isinstance(data.get("escalated"), dict)
                or not all(isinstance(v, (int, float)) for v in data["first_seen"].values())
                or not all(isinstance(v, (int, float)) for v in data["escalated"].values())):
            self.warning = "state file %s has an unexpected layout; it is replaced" % self.path
            return
        self.first_seen = data["first_seen"]
        self.escalated = data["escalated"]

    def save(self, live_zombie_keys, now, cooldown):
        if not self.path:
            return
        self.first_seen = {k: v for k, v in self.first_seen.items() if k in live_zombie_keys}
        self.escalated = {k: v for k, v in self.escalated.items() if now - v < max(cooldown, 1)}
        directory = os.path.dirname(os.path.abspath(self.path))
        tmp = "%s.%d.tmp" % (self.path, os.getpid())
        try:
            os.makedirs(directory, exist_ok=True)
            with open(tmp, "w") as handle:
                json.dump({"version": STATE_VERSION, "first_seen": self.first_seen,
                           "escalated": self.escalated}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise ReaperError("cannot write state file %s: %s" % (self.path, exc.strerror or exc)) from None


def zombie_key(zombie):
    return "%d:%d" % (zombie.pid, zombie.starttime)


# ---------------------------------------------------------------------------
# In-place reaping (the REAP rung): the parent itself calls wait4() on its zombies
# ---------------------------------------------------------------------------
# The parent's thread is seized with PTRACE_SEIZE and stopped with PTRACE_INTERRUPT (no
# SIGSTOP, so its own parent sees no stop or continue), its registers are saved, it is made
# to execute wait4(<zombie>, NULL, WNOHANG|__WALL, NULL) at a syscall instruction of its own
# text, once per zombie, then its registers are restored exactly and it is detached. The
# kernel then applies its usual syscall-restart rules, so an interrupted pause(), read() or
# nanosleep() carries on as if nothing happened.
#
# Two ways to run the injected calls:
# - single-step (x86_64, the fast path): one stop per zombie. The kernel reports the step with
#   a forced SIGTRAP, which resets a blocked or ignored SIGTRAP to its default, so this path is
#   used only when the parent neither blocks nor ignores SIGTRAP. A signal that arrives
#   meanwhile ends the round and is delivered on detach with its original siginfo.
# - syscall stops (aarch64 always, x86_64 when SIGTRAP is blocked or ignored): PTRACE_SYSCALL
#   to the entry and exit of each injected wait4, no signal involved. From the first entry on,
#   the parent's signals are held blocked (PTRACE_SETSIGMASK) and its own mask is put back
#   before detaching, so a signal that arrives meanwhile stays pending and reaches the parent
#   afterwards, exactly as it would have without us.
#   On aarch64 the kernel moves pc back onto the `svc` and restores x0 *before* the stop, and
#   decides about restart_syscall only if pc is left there, so a parent stopped on an `svc` is
#   let into that system call first: at its entry stop the call is swapped for wait4
#   (NT_ARM_SYSTEM_CALL); at the end its registers, with the number the kernel chose, are put
#   back on the `svc`, and it is detached at the entry stop of that same call, which then runs
#   (and sees any pending signal) as it would have.

PTRACE_SINGLESTEP = 9
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_DETACH = 17
PTRACE_SYSCALL = 24
PTRACE_GETREGSET = 0x4204
PTRACE_SETREGSET = 0x4205
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_GETSIGMASK = 0x420A
PTRACE_SETSIGMASK = 0x420B
PTRACE_GET_SYSCALL_INFO = 0x420E
PTRACE_GET_RSEQ_CONFIGURATION = 0x420F
PTRACE_O_TRACESYSGOOD = 1
PTRACE_O_SUSPEND_SECCOMP = 1 << 21
PTRACE_EVENT_STOP = 128
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSCALL_INFO_EXIT = 2
SYSCALL_STOP = signal.SIGTRAP | 0x80  # WSTOPSIG of a syscall stop with PTRACE_O_TRACESYSGOOD
NT_PRSTATUS = 1
NT_ARM_SYSTEM_CALL = 0x404
WAIT_ALL_THREADS = 0x40000000  # __WALL
NO_SYSCALL = -1
CAP_SYS_PTRACE = 19
CAP_SYS_ADMIN = 21
JOB_CONTROL_STOPS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
ALL_SIGNALS_MASK = 2 ** 64 - 1  # the kernel leaves SIGKILL and SIGSTOP unblocked

REAP_ROUND_SECONDS = 0.2  # longest a parent is held stopped in one round; then it runs again
REAP_STOP_TIMEOUT = 0.2  # how long the parent gets to reach the interrupt stop
REAP_PIN_THRESHOLD = 32  # above this many zombies, tracer and tracee share one CPU (fewer cross-CPU wake-ups)
REAP_RSEQ_RETRIES = 5
REAP_SIGNAL_CHECK_EVERY = 32  # syscall-stop path: look for a held signal every this many zombies


def _signed(value):
    return value - 2 ** 64 if value >= 2 ** 63 else value


def _copy(structure):
    return type(structure).from_buffer_copy(structure)


class UserRegsX8664(ctypes.Structure):
    """struct user_regs_struct of x86_64 (asm/user.h)."""

    _fields_ = [(_field, ctypes.c_ulonglong) for _field in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
        "fs_base gs_base ds es fs gs").split()]


class UserPtRegsAarch64(ctypes.Structure):
    """struct user_pt_regs of aarch64 (asm/ptrace.h): the NT_PRSTATUS regset."""

    _fields_ = [("regs", ctypes.c_ulonglong * 31), ("sp", ctypes.c_ulonglong), ("pc", ctypes.c_ulonglong),
                ("pstate", ctypes.c_ulonglong)]


class PtraceSyscallInfo(ctypes.Structure):
    """struct ptrace_syscall_info (linux/ptrace.h), the parts read here."""

    _fields_ = [("op", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 3), ("arch", ctypes.c_uint32),
                ("instruction_pointer", ctypes.c_uint64), ("stack_pointer", ctypes.c_uint64),
                ("nr_or_rval", ctypes.c_uint64), ("args_or_is_error", ctypes.c_uint64 * 6),
                ("ret_data", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]


class ReapRefused(Exception):
    """The parent is left untouched (or exactly as it was); the reason goes into the report."""


class ReapResult(object):
    def __init__(self):
        self.reaped = []
        self.refused = None
        self.rounds = 0
        self.stopped_seconds = 0.0
        self.signals_passed_on = 0

    def to_dict(self):
        return {"signal": "REAP", "result": "refused" if self.refused and not self.reaped else "reaped",
                "reaped": len(self.reaped), "rounds": self.rounds,
                "stopped_ms": round(self.stopped_seconds * 1000, 3), "signals_passed_on": self.signals_passed_on,
                "refused": self.refused, "at": round(time.time(), 3)}


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


_LIBC = []


def _libc():
    if not _LIBC:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        libc.ptrace.restype = ctypes.c_long
        libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(IoVec), ctypes.c_ulong,
                                          ctypes.POINTER(IoVec), ctypes.c_ulong, ctypes.c_ulong]
        libc.process_vm_readv.restype = ctypes.c_ssize_t
        _LIBC.append(libc)
    return _LIBC[0]


def _ptrace(request, tid, addr=0, data=0):
    result = _libc().ptrace(request, tid, addr, data)
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


class _X8664(object):
    """Registers and the `syscall` instruction of an x86_64 thread."""

    name = "x86_64"
    syscall_insn = b"\x0f\x05"
    insn_alignment = 1
    nr_wait4 = 61
    single_step = True  # the fast path; see the section comment
    user_cs = 0x33  # a 64-bit process; `syscall` is undefined in 32-bit code

    @staticmethod
    def get_regs(tid):
        regs = UserRegsX8664()
        _ptrace(PTRACE_GETREGS, tid, 0, ctypes.addressof(regs))
        if regs.cs != _X8664.user_cs:
            raise ReapRefused("the parent is a 32-bit process (not supported)")
        return regs

    @staticmethod
    def set_regs(tid, regs):
        _ptrace(PTRACE_SETREGS, tid, 0, ctypes.addressof(regs))

    @staticmethod
    def set_syscall_number(tid, number):
        """The system call a thread at its entry stop will run (NO_SYSCALL: none, no restart)."""
        regs = _X8664.get_regs(tid)
        regs.orig_rax = number % 2 ** 64
        _X8664.set_regs(tid, regs)

    @staticmethod
    def pc(regs):
        return regs.rip

    @staticmethod
    def after_syscall(regs):
        """True when the thread stopped on its way out of a system call."""
        return regs.orig_rax != 2 ** 64 - 1

    @staticmethod
    def set_call(regs, pc, number, args):
        regs.rip = pc
        regs.orig_rax = 2 ** 64 - 1  # not in a syscall: no restart fix-up for the injected call
        regs.rax = number
        regs.rdi, regs.rsi, regs.rdx, regs.r10 = args

    @staticmethod
    def result(regs):
        return _signed(regs.rax)


class _Aarch64(object):
    """Registers (NT_PRSTATUS regset) and the `svc #0` instruction of an aarch64 thread."""

    name = "aarch64"
    syscall_insn = b"\x01\x00\x00\xd4"  # svc #0, little-endian
    insn_alignment = 4
    nr_wait4 = 260
    single_step = False  # see the section comment: syscall stops only
    compat_mode_bit = 0x10  # PSR_MODE32_BIT: an AArch32 task

    @staticmethod
    def get_regs(tid):
        regs = UserPtRegsAarch64()
        vector = IoVec(ctypes.addressof(regs), ctypes.sizeof(regs))
        _ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, ctypes.addressof(vector))
        if vector.length != ctypes.sizeof(regs) or regs.pstate & _Aarch64.compat_mode_bit:
            raise ReapRefused("the parent is a 32-bit process (not supported)")
        return regs

    @staticmethod
    def set_regs(tid, regs):
        vector = IoVec(ctypes.addressof(regs), ctypes.sizeof(regs))
        _ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, ctypes.addressof(vector))

    @staticmethod
    def is_svc(code):
        """`svc #imm` with any immediate (the kernel ignores it; libcs use #0)."""
        return len(code) == 4 and int.from_bytes(code, "little") & 0xFFE0001F == 0xD4000001

    @staticmethod
    def set_syscall_number(tid, number):
        """The system call a thread at its entry stop will run (NO_SYSCALL: none, no restart)."""
        value = ctypes.c_int(number)
        vector = IoVec(ctypes.addressof(value), ctypes.sizeof(value))
        _ptrace(PTRACE_SETREGSET, tid, NT_ARM_SYSTEM_CALL, ctypes.addressof(vector))

    @staticmethod
    def pc(regs):
        return regs.pc

    @staticmethod
    def after_syscall(regs):
        return False  # not visible in the registers; any `svc` before pc serves as well

    @staticmethod
    def set_call(regs, pc, number, args):
        regs.pc = pc
        regs.regs[8] = number
        for index, value in enumerate(args):
            regs.regs[index] = value

    @staticmethod
    def result(regs):
        return _signed(regs.regs[0])


REAP_ARCHITECTURES = {"x86_64": _X8664, "aarch64": _Aarch64}


def reap_unsupported_reason():
    """Why this node cannot run the REAP rung at all, or None."""
    machine = os.uname().machine
    if machine not in REAP_ARCHITECTURES:
        return "architecture %s is not supported (x86_64 and aarch64 only)" % machine
    if not hasattr(ctypes, "CDLL"):
        return "ctypes is not available"
    return None


def reap_precheck(proc_root, parent):
    """Why REAP cannot work on ``parent`` right now (without attaching), or None."""
    return _reap_refusal(parent, read_status(proc_root, parent.pid))


def _reap_refusal(parent, info):
    """reap_precheck on an already parsed status (None: the parent is gone)."""
    reason = reap_unsupported_reason()
    if reason:
        return reason
    if info is None:
        return "the parent exited"
    if info.get("TracerPid"):
        return "the parent is already traced by pid %d (a debugger or strace)" % info["TracerPid"]
    if info.get("State") in ("T", "t"):
        return "the parent is stopped (job control or a debugger)"
    if info.get("Seccomp") == 1:
        return "the parent runs in seccomp strict mode; wait4 would kill it"
    if info.get("Seccomp") == 2 and not has_capability(CAP_SYS_ADMIN):
        return ("a seccomp filter could kill the parent on wait4 and it cannot be suspended: "
                "PTRACE_O_SUSPEND_SECCOMP needs CAP_SYS_ADMIN and a reaper without a seccomp filter of its own")
    if not has_capability(CAP_SYS_PTRACE) and parent.uid != os.geteuid():
        return "ptrace is not permitted: CAP_SYS_PTRACE is missing"
    return None


def _ptrace_denied_reason(exc):
    scope = read_file("/proc/sys/kernel/yama/ptrace_scope")
    extra = ""
    if scope:
        extra = ", Yama ptrace_scope is %s" % scope.decode().strip()
    return "ptrace is not permitted (%s%s; CAP_SYS_PTRACE, an LSM or the parent's dumpable flag)" % (
        exc.strerror, extra)


def _pick_thread(proc_root, pid):
    """A live thread of ``pid`` (the leader unless it has exited) and its state letter."""
    stat = read_stat(proc_root, pid)
    if stat and stat["state"] not in ("Z", "X"):
        return pid, stat["state"]
    try:
        tids = sorted(int(t) for t in os.listdir("%s/%d/task" % (proc_root, pid)) if t.isdigit())
    except OSError:
        return None, None
    for tid in tids:
        task = read_stat("%s/%d/task" % (proc_root, pid), tid)
        if task and task["state"] not in ("Z", "X"):
            return tid, task["state"]
    return None, None


def _namespace_pid(proc_root, zombie, level):
    """The zombie's pid as seen from PID namespace ``level`` (0 = the /proc we read)."""
    if level == 0:
        return zombie.pid
    info = read_status(proc_root, zombie.pid)
    nspid = (info or {}).get("NSpid") or []
    return nspid[level] if len(nspid) > level else None


def _wait_stop(tid, timeout):
    """waitpid() status of the seized thread's next stop; None when it did not stop in time."""
    deadline = time.monotonic() + timeout
    pause = 0.00002
    while True:
        waited, status = os.waitpid(tid, os.WNOHANG | WAIT_ALL_THREADS)
        if waited:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.005)


def _read_memory(tid, address, size):
    """Bytes of the tracee's memory (process_vm_readv: a ptrace-access check, no DAC on /proc/PID/mem)."""
    buffer = ctypes.create_string_buffer(size)
    local = IoVec(ctypes.addressof(buffer), size)
    remote = IoVec(address, size)
    got = _libc().process_vm_readv(tid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return buffer.raw[:got] if got > 0 else b""


def _find_syscall_insn(proc_root, tid, arch, regs):
    """Address of a system call instruction in the tracee's own executable memory, or None."""
    insn = arch.syscall_insn
    before = arch.pc(regs) - len(insn)
    # The instruction just before pc, when it lies in pc's (executable) page and surely is one: with
    # fixed-length instructions (aarch64) any aligned match is; on x86_64 only right after a syscall.
    if (before >> 12 == arch.pc(regs) >> 12 and (arch.after_syscall(regs) or arch.insn_alignment > 1)
            and _read_memory(tid, before, len(insn)) == insn):
        return before
    maps = read_file("%s/%d/maps" % (proc_root, tid), 1 << 22) or b""
    regions = []
    for line in maps.decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) < 2 or "x" not in fields[1] or "r" not in fields[1]:
            continue
        start, end = fields[0].split("-", 1)
        # The vdso first: small, always mapped, and holds the syscall fall-backs.
        regions.append((0 if line.endswith("[vdso]") else 1, int(start, 16), int(end, 16)))
    for _rank, start, end in sorted(regions):
        address = start
        while address < end and address - start < (16 << 20):
            chunk = _read_memory(tid, address, min(1 << 16, end - address))
            if not chunk:
                break
            offset = chunk.find(insn)
            while offset >= 0 and (address + offset) % arch.insn_alignment:
                offset = chunk.find(insn, offset + 1)
            if offset >= 0:
                return address + offset
            address += len(chunk) - (len(insn) - 1)  # overlap: an instruction may straddle chunks
    return None


def _in_rseq_critical_section(tid, rip):
    """True/False, or None when the kernel cannot tell (before Linux 5.13)."""
    config = (ctypes.c_ubyte * 24)()
    try:
        _ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, 24, ctypes.addressof(config))
    except OSError:
        return None
    abi_pointer = int.from_bytes(bytes(config)[0:8], "little")
    if not abi_pointer:
        return False
    rseq_cs = int.from_bytes(_read_memory(tid, abi_pointer + 8, 8) or b"\0" * 8, "little")
    if not rseq_cs:
        return False
    descriptor = _read_memory(tid, rseq_cs, 32)
    if len(descriptor) < 32:
        return True  # cannot read it: assume the worst
    start_ip = int.from_bytes(descriptor[8:16], "little")
    post_commit_offset = int.from_bytes(descriptor[16:24], "little")
    return start_ip <= rip < start_ip + post_commit_offset


def _pin_to_one_cpu(tid):
    """Run tracer and tracee on one CPU; returns what to restore, or None when not possible."""
    try:
        theirs = os.sched_getaffinity(tid)
        ours = os.sched_getaffinity(0)
        common = sorted(theirs & ours)
        if not common:
            return None
        os.sched_setaffinity(0, {common[0]})
        try:
            os.sched_setaffinity(tid, {common[0]})
        except OSError:
            os.sched_setaffinity(0, ours)
            return None
        return theirs, ours
    except OSError:
        return None


def _unpin(tid, saved):
    if saved:
        theirs, ours = saved
        try:
            os.sched_setaffinity(tid, theirs)
        except OSError:
            pass
        os.sched_setaffinity(0, ours)


def _protect_self_from_oom():
    """A tracer killed while its tracee sits in a single-step stop kills the tracee (SIGTRAP)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("-1000")
    except OSError:
        pass  # needs CAP_SYS_RESOURCE; the systemd unit sets OOMScoreAdjust instead


class _Round(object):
    """One attach-inject-detach cycle on one thread; at most REAP_ROUND_SECONDS of stop."""

    def __init__(self, proc_root, parent, tid, targets, seccomp):
        self.proc_root = proc_root
        self.parent = parent
        self.tid = tid
        self.targets = targets  # [(zombie, pid in the parent's namespace)]
        self.seccomp = seccomp
        self.arch = REAP_ARCHITECTURES[os.uname().machine]
        self.reaped = []
        self.pass_on_signal = 0
        self.stopped_seconds = 0.0
        self.held_mask = None  # the parent's own signal mask while all its signals are held
        self.at_entry = False  # stopped at a syscall-entry stop
        self.at_syscall_stop = False  # stopped at a syscall stop (else the interrupt or a signal stop)
        self.stopped_at = None  # when the parent reached the interrupt stop (the round's budget runs from here)
        self.attempted = 0  # wait4 calls begun this round

    def run(self):
        """Returns None (done or retry later) or raises ReapRefused."""
        options = PTRACE_O_TRACESYSGOOD | (PTRACE_O_SUSPEND_SECCOMP if self.seccomp else 0)
        try:
            _ptrace(PTRACE_SEIZE, self.tid, 0, options)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                raise ReapRefused("the parent exited") from None
            if exc.errno == errno.EPERM and self.seccomp:
                raise ReapRefused("a seccomp filter could kill the parent on wait4 and the kernel refused to "
                                  "suspend it (PTRACE_O_SUSPEND_SECCOMP: %s)" % exc.strerror) from None
            raise ReapRefused(_ptrace_denied_reason(exc)) from None
        stop = None
        try:
            _ptrace(PTRACE_INTERRUPT, self.tid)
            status = _wait_stop(self.tid, REAP_STOP_TIMEOUT)
            if status is None:
                _ABANDONED.append(self.tid)
                raise ReapRefused("the parent did not stop within %d ms (uninterruptible sleep or vfork)"
                                  % (REAP_STOP_TIMEOUT * 1000))
            if not os.WIFSTOPPED(status):
                raise ReapRefused("the parent exited while being attached")
            stop = self.stopped_at = time.monotonic()
            signum, event = os.WSTOPSIG(status), status >> 16
            if event == PTRACE_EVENT_STOP and signum in JOB_CONTROL_STOPS:
                raise ReapRefused("the parent is stopped by job control")
            if event != PTRACE_EVENT_STOP:
                self.pass_on_signal = signum  # a signal was on its way in: deliver it and retry later
                return
            self._inject()
        finally:
            if stop is not None:
                self.stopped_seconds = time.monotonic() - stop
            self._release_signals()
            self._detach()

    def _inject(self):
        arch = self.arch
        saved = arch.get_regs(self.tid)
        read = read_stat(self.proc_root, self.parent.pid)
        if read is None or read["starttime"] != self.parent.starttime:
            raise ReapRefused("the parent's pid now belongs to another process")
        on_svc = arch is _Aarch64 and arch.is_svc(_read_memory(self.tid, arch.pc(saved), 4))
        if not arch.after_syscall(saved) and not on_svc:  # maybe in user space, inside an rseq critical section
            inside = _in_rseq_critical_section(self.tid, arch.pc(saved))
            if inside is None:
                raise ReapRefused("the parent was stopped in user space and this kernel cannot tell "
                                  "whether it sits in an rseq critical section")
            if inside:
                raise _RseqBusy()
        gadget = arch.pc(saved) if on_svc else _find_syscall_insn(self.proc_root, self.tid, arch, saved)
        if gadget is None:
            raise ReapRefused("no system call instruction found in the parent's executable memory")
        targets = deque(self.targets)
        pinned = _pin_to_one_cpu(self.tid) if len(targets) > REAP_PIN_THRESHOLD else None
        try:
            if arch.single_step and not self._sigtrap_held():
                self._by_single_step(saved, gadget, targets)
            else:
                self._by_syscall_stops(saved, gadget, targets, on_svc)
        finally:
            _unpin(self.tid, pinned)

    def _sigtrap_held(self):
        """SIGTRAP blocked by the thread or ignored: a single-step trap would reset that."""
        info = self._thread_status()
        return any(signal_bit(info.get(key, 0), signal.SIGTRAP) for key in ("SigBlk", "SigIgn"))

    def _thread_status(self):
        """/proc status of the seized thread (its own blocked and pending signals)."""
        return read_status("%s/%d/task" % (self.proc_root, self.parent.pid), self.tid) or {}

    def _round_over(self, pending):
        """Nothing left, or the round's time is up (after at least one wait4, so every round makes progress)."""
        return not pending or (self.attempted and time.monotonic() - self.stopped_at > REAP_ROUND_SECONDS)

    def _next_target(self, pending):
        """The next zombie that is still this parent's defunct child (checked while the parent is stopped,
        just before its wait4), or None."""
        while pending:
            zombie, nspid = pending.popleft()
            if zombie_still_there(self.proc_root, zombie) == self.parent.pid:
                self.attempted += 1
                return zombie, nspid
        return None

    def _load_next_call(self, pending, work, saved, gadget):
        """Put the next target's wait4 at the gadget into the parent's registers (the saved ones otherwise);
        returns (zombie, nspid), or None when no target is left."""
        target = self._next_target(pending)
        if target is not None:
            ctypes.pointer(work)[0] = saved
            self.arch.set_call(work, gadget, self.arch.nr_wait4, self._wait4_args(target[1]))
            self.arch.set_regs(self.tid, work)
        return target

    def _wait4_args(self, nspid):
        return (nspid, 0, os.WNOHANG | WAIT_ALL_THREADS, 0)

    def _record(self, zombie, nspid, result):
        if result == nspid:
            self.reaped.append(zombie)
        elif result not in (0, -errno.ECHILD):
            raise ReapRefused("wait4 in the parent failed: %s" % os.strerror(-result))

    def _by_single_step(self, saved, gadget, targets):
        """x86_64: each wait4 in one single step at the gadget; the step ends in a SIGTRAP stop."""
        arch = self.arch
        work = _copy(saved)
        try:
            while not self._round_over(targets):
                target = self._load_next_call(targets, work, saved, gadget)
                if target is None:
                    break
                zombie, nspid = target
                _ptrace(PTRACE_SINGLESTEP, self.tid)
                _waited, status = os.waitpid(self.tid, WAIT_ALL_THREADS)
                if not os.WIFSTOPPED(status):
                    raise ReapRefused("the parent exited while its zombies were being reaped")
                if os.WSTOPSIG(status) != signal.SIGTRAP or status >> 16:
                    self.pass_on_signal = os.WSTOPSIG(status)
                    break
                self._record(zombie, nspid, arch.result(arch.get_regs(self.tid)))
        finally:
            self._restore(saved)

    def _by_syscall_stops(self, saved, gadget, targets, on_svc):
        """Each wait4 between its own entry and exit stops; the parent's signals held meanwhile."""
        arch = self.arch
        final = _copy(saved)  # what the parent resumes with
        work = _copy(saved)
        reenter = None  # aarch64 on an `svc`: the call to let it re-enter at the end
        pending = targets
        try:
            first = self._next_target(pending) if on_svc else None
            if first:
                # Into the call the kernel lets it (re)start; its number may now be restart_syscall.
                if not self._resume(PTRACE_SYSCALL):
                    return  # a signal was on its way in: nothing changed, it is passed on
                reenter = self._syscall_stop(PTRACE_SYSCALL_INFO_ENTRY)
                final.regs[8] = arch.get_regs(self.tid).regs[8]
                self._hold_signals()
                zombie, nspid = first
                arch.set_call(work, arch.pc(saved) + len(arch.syscall_insn), arch.nr_wait4, self._wait4_args(nspid))
                arch.set_regs(self.tid, work)
                arch.set_syscall_number(self.tid, arch.nr_wait4)
                self._finish_wait4(zombie, nspid)
            while not self._round_over(pending):
                if len(pending) % REAP_SIGNAL_CHECK_EVERY == 0 and self._signal_waiting():
                    break  # end the round: the held signal reaches the parent now, not after 200 ms
                target = self._load_next_call(pending, work, saved, gadget)
                if target is None:
                    break
                zombie, nspid = target
                if not self._resume(PTRACE_SYSCALL):
                    return  # a signal came before the first entry (its mask not held yet): passed on
                if self._syscall_stop(PTRACE_SYSCALL_INFO_ENTRY) != arch.nr_wait4:
                    raise ReapRefused("the parent entered another system call than the injected wait4")
                self._hold_signals()
                self._finish_wait4(zombie, nspid)
        finally:
            self._leave(final, reenter)

    def _finish_wait4(self, zombie, nspid):
        """From the injected wait4's entry stop to its exit stop."""
        if not self._resume(PTRACE_SYSCALL):
            raise ReapRefused("the parent stopped for a signal inside the injected wait4")
        self._record(zombie, nspid, _signed(self._syscall_stop(PTRACE_SYSCALL_INFO_EXIT)))

    def _resume(self, request):
        """Resume to the next stop: True at a syscall stop, False at a signal stop (passed on)."""
        _ptrace(request, self.tid)
        _waited, status = os.waitpid(self.tid, WAIT_ALL_THREADS)
        if not os.WIFSTOPPED(status):
            raise ReapRefused("the parent exited while its zombies were being reaped")
        self.at_entry = False
        self.at_syscall_stop = os.WSTOPSIG(status) == SYSCALL_STOP
        if self.at_syscall_stop:
            return True
        if status >> 16 == 0:
            self.pass_on_signal = os.WSTOPSIG(status)
        return False

    def _syscall_stop(self, want):
        """The number (entry) or return value (exit) at a syscall stop of kind ``want``."""
        info = PtraceSyscallInfo()
        try:
            _ptrace(PTRACE_GET_SYSCALL_INFO, self.tid, ctypes.sizeof(info), ctypes.addressof(info))
        except OSError as exc:
            raise ReapRefused("this kernel cannot describe syscall stops (PTRACE_GET_SYSCALL_INFO: %s)"
                              % exc.strerror) from None
        self.at_entry = info.op == PTRACE_SYSCALL_INFO_ENTRY
        if info.op != want:
            raise ReapRefused("the parent stopped at an unexpected point (syscall stop %d)" % info.op)
        return info.nr_or_rval

    def _signal_waiting(self):
        """A signal is pending that the parent's own mask would let through (held by ours meanwhile)."""
        if self.held_mask is None:
            return False
        info = self._thread_status()
        return bool((info.get("SigPnd", 0) | info.get("ShdPnd", 0)) & ~self.held_mask & ALL_SIGNALS_MASK)

    def _hold_signals(self):
        """Block all the parent's signals (they stay pending). Called at entry stops only: there the
        kernel has already put back any temporary mask of sigsuspend() or ppoll(), which
        PTRACE_SETSIGMASK would otherwise cancel."""
        if self.held_mask is None:
            mask = ctypes.c_uint64()
            _ptrace(PTRACE_GETSIGMASK, self.tid, ctypes.sizeof(mask), ctypes.addressof(mask))
            held = ctypes.c_uint64(ALL_SIGNALS_MASK)
            _ptrace(PTRACE_SETSIGMASK, self.tid, ctypes.sizeof(held), ctypes.addressof(held))
            self.held_mask = mask.value

    def _release_signals(self):
        if self.held_mask is not None:
            mask = ctypes.c_uint64(self.held_mask)
            try:
                _ptrace(PTRACE_SETSIGMASK, self.tid, ctypes.sizeof(mask), ctypes.addressof(mask))
            except OSError:
                pass  # it was killed meanwhile
            self.held_mask = None

    def _leave(self, final, reenter):
        """Put the parent back as it was: at its own `svc` (re-entered, aarch64) or exactly as saved."""
        try:
            if self.at_entry:  # skip the call it is entering; leave from its exit stop
                self.arch.set_syscall_number(self.tid, NO_SYSCALL)
                if not self._resume(PTRACE_SYSCALL):
                    reenter = None  # at a signal stop now: leave from there
            self._restore(final)
            if self.arch is _Aarch64:
                self.arch.set_syscall_number(self.tid, NO_SYSCALL)  # no restart decision on our wait4's return
            if reenter is not None and self.at_syscall_stop and self._resume(PTRACE_SYSCALL):
                # Detach at the entry stop of its own call, which then runs (and meets any pending signal)
                # exactly as it would have.
                self._syscall_stop(PTRACE_SYSCALL_INFO_ENTRY)
                self.at_entry = False
        except (OSError, ReapRefused):
            pass  # it was killed meanwhile (SIGKILL cannot be held off)

    def _restore(self, saved):
        try:
            self.arch.set_regs(self.tid, saved)
        except OSError:
            pass  # it was killed meanwhile (SIGKILL cannot be held off)

    def _detach(self):
        try:
            _ptrace(PTRACE_DETACH, self.tid, 0, self.pass_on_signal)
        except OSError:
            pass  # not stopped (abandoned; the kernel detaches when we exit) or gone


class _RseqBusy(Exception):
    """Stopped inside an rseq critical section: let it run and try again."""


# Tracees that did not stop in time; released once they stop (or when this process exits).
_ABANDONED = []


def release_abandoned():
    for tid in list(_ABANDONED):
        try:
            waited, status = os.waitpid(tid, os.WNOHANG | WAIT_ALL_THREADS)
        except ChildProcessError:
            _ABANDONED.remove(tid)
            continue
        if waited and os.WIFSTOPPED(status):
            signum = 0 if status >> 16 == PTRACE_EVENT_STOP else os.WSTOPSIG(status)
            try:
                _ptrace(PTRACE_DETACH, tid, 0, signum)
            except OSError:
                pass
            _ABANDONED.remove(tid)
        elif waited:
            _ABANDONED.remove(tid)


def reap_in_place(proc_root, parent, zombies, deadline):
    """Make ``parent`` wait4() each of ``zombies`` itself, in rounds until ``deadline``."""
    result = ReapResult()
    info = read_status(proc_root, parent.pid)
    reason = _reap_refusal(parent, info)
    if reason:
        result.refused = reason
        return result
    level = len(parent.nspid) - 1
    targets = []
    for zombie in zombies:
        nspid = _namespace_pid(proc_root, zombie, level)
        if nspid:
            targets.append((zombie, nspid))
    seccomp = info.get("Seccomp") == 2
    catchable = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}
    _protect_self_from_oom()
    rseq_busy = 0
    while targets and time.monotonic() < deadline:
        targets = [(z, n) for z, n in targets if zombie_still_there(proc_root, z) == parent.pid]
        if not targets:
            break  # never attach when there is nothing to reap
        tid, state = _pick_thread(proc_root, parent.pid)
        if tid is None:
            result.refused = "the parent exited"
            break
        if state == "D":
            time.sleep(0.01)
            if _pick_thread(proc_root, parent.pid)[1] == "D":
                result.refused = "the parent is in uninterruptible sleep (or vfork); not attached"
                break
        one = _Round(proc_root, parent, tid, targets, seccomp)
        # No signal may end the reaper between seize and detach (see _protect_self_from_oom).
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, catchable)
        try:
            one.run()
        except _RseqBusy:
            rseq_busy += 1
            if rseq_busy >= REAP_RSEQ_RETRIES:
                result.refused = "the parent kept being stopped inside an rseq critical section"
        except ReapRefused as exc:
            result.refused = str(exc)
        except OSError as exc:
            result.refused = "the parent exited" if exc.errno == errno.ESRCH else "ptrace failed: %s" % exc
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            result.rounds += 1
            result.stopped_seconds += one.stopped_seconds
            result.reaped.extend(one.reaped)
            if one.pass_on_signal:
                result.signals_passed_on += 1
        if result.refused:
            break
        done = set(id(z) for z in one.reaped)
        targets = [(z, n) for z, n in targets if id(z) not in done]
        if targets and (one.pass_on_signal or not one.reaped):
            time.sleep(0.001)  # let it handle what arrived before the next round
    return result


# ---------------------------------------------------------------------------
# Acting
# ---------------------------------------------------------------------------

HAVE_PIDFD = hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")


def send_signal(proc_root, pid, starttime, signum):
    """Signal ``pid`` only if it is still the process that started at ``starttime``.

    With pidfds the check is race-free: the pidfd pins the process, then its start
    time is checked, then the signal goes through the pidfd. Returns 'sent', 'gone',
    'identity_changed' or 'permission_denied'.
    """
    fd = None
    if HAVE_PIDFD:
        try:
            fd = os.pidfd_open(pid)  # novermin: guarded by HAVE_PIDFD
        except ProcessLookupError:
            return "gone"
        except OSError as exc:
            if exc.errno not in (errno.ENOSYS, errno.EINVAL):
                return "gone" if exc.errno == errno.ESRCH else "permission_denied"
    try:
        stat = read_stat(proc_root, pid)
        if stat is None:
            return "gone"
        if stat["starttime"] != starttime or not process_alive(stat):
            return "identity_changed"
        if fd is not None:
            signal.pidfd_send_signal(fd, signum)  # novermin: guarded by HAVE_PIDFD
        else:
            os.kill(pid, signum)
        return "sent"
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        return "permission_denied"
    finally:
        if fd is not None:
            os.close(fd)


CAP_KILL = 5


def has_capability(bit):
    """Effective capability ``bit`` of this process (root has them unless dropped)."""
    data = read_file("/proc/self/status")
    if data:
        for line in data.decode("ascii", "replace").splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> bit & 1)
    return os.geteuid() == 0


class Case(object):
    """One parent's journey through a run: findings, actions and outcome."""

    def __init__(self, parent):
        self.parent = parent
        self.confirmed = list(parent.zombies)
        self.remaining = list(parent.zombies)
        self.outcome = None
        self.detail = None
        self.action = "none"
        self.signals = []
        self.skipped = []
        self.reparented_to = []
        self.oldest_seen_seconds = None
        self.parent_alive = True
        self.escalation_granted = False
        self.reaped_in_place = 0
        self.reap_refusal = None  # info mode, eligible parents: "" when REAP could work, else why not
        self.died_at = None
        self.done = False

    def finish(self, outcome, detail=None):
        self.outcome = outcome
        if detail:
            self.detail = detail
        self.done = True

    def refresh(self, proc_root):
        """Drop zombies that are gone; note whether the parent still lives. Cheap: stops at the first survivor
        unless the parent is gone (then every survivor's new parent is recorded)."""
        stat = read_stat(proc_root, self.parent.pid)
        self.parent_alive = process_alive(stat) and stat["starttime"] == self.parent.starttime
        if not self.parent_alive and self.died_at is None:
            self.died_at = time.monotonic()
        keep = []
        for index, zombie in enumerate(self.remaining):
            ppid = zombie_still_there(proc_root, zombie)
            if ppid is None:
                continue
            if self.parent_alive and ppid == self.parent.pid:
                keep.extend(self.remaining[index:])
                break
            keep.append(zombie)
            if ppid != self.parent.pid and ppid not in self.reparented_to:
                self.reparented_to.append(ppid)
        self.remaining = keep
        return not self.remaining or not self.parent_alive


def run_ladder(cases, policy, state, now, dry_run, log):
    """Advance every eligible parent through the ladder together: one ladder's time per run."""
    proc_root = policy.proc_root
    active = list(cases)
    for rung in policy.ladder:
        active = [c for c in active if not c.done]
        if not active:
            break
        signalled = []
        for case in active:
            parent = case.parent
            reason = rung.skip_reason(parent)
            if reason:
                case.skipped.append({"signal": rung.action, "reason": reason})
                continue
            if rung.action == REAP:
                _reap_rung(case, rung, policy, state, dry_run, log)
                continue
            if (not rung.gentle and parent.klass == CLASS_CONTAINER_INIT
                    and not _cooldown_allows(case, policy, state, now, dry_run)):
                continue
            if dry_run:
                case.signals.append({"signal": rung.action, "result": "would_send"})
                continue
            result = send_signal(proc_root, parent.pid, parent.starttime, rung.signum)
            case.signals.append({"signal": rung.action, "result": result, "at": round(time.time(), 3)})
            log("%s -> pid %d (%s): %s" % (rung.action, parent.pid, parent.comm, result))
            if result == "sent":
                case.action = "signalled"
                signalled.append(case)
            elif result == "gone":
                case.refresh(proc_root)
                if not _conclude(case):
                    signalled.append(case)
            else:
                case.finish(result)
        if signalled and not dry_run:
            _wait_for(signalled, rung.wait, proc_root)
    for case in cases:
        if case.done:
            continue
        if dry_run:
            if any(s["result"] == "would_send" for s in case.signals):
                case.action = "would_signal"
                case.finish("would_signal", "rungs: %s" % ", ".join(s["signal"] for s in case.signals))
            else:
                case.finish("no_rung_applies", _skips_text(case))
        elif not any(s["result"] in ("sent", "reaped") for s in case.signals):
            case.finish("no_rung_applies", _skips_text(case))
        else:
            case.refresh(proc_root)
            _conclude(case, final=True)


def _reap_rung(case, rung, policy, state, dry_run, log):
    """The REAP rung for one parent. Success ends the ladder for it; a refusal hands it to the next rung."""
    proc_root = policy.proc_root
    now = time.time()
    aged = [z for z in case.remaining
            if now - state.first_seen.get(zombie_key(z), now) >= policy.reap_min_age_seconds]
    if not aged:
        case.finish("too_young", "no zombie has been defunct for reap_min_age_seconds (%gs) yet; "
                    "left for a later run" % policy.reap_min_age_seconds)
        return
    young = len(case.remaining) - len(aged)
    left_note = "; %d younger than reap_min_age_seconds left for a later run" % young if young else ""
    if dry_run:
        reason = reap_precheck(proc_root, case.parent)
        if reason:
            case.skipped.append({"signal": REAP, "reason": reason})
            return
        case.signals.append({"signal": REAP, "result": "would_reap", "zombies": len(aged)})
        case.action = "would_reap"
        case.finish("would_reap", "REAP would make the parent wait4() %d zombies%s" % (len(aged), left_note))
        return
    result = reap_in_place(proc_root, case.parent, aged, time.monotonic() + max(rung.wait, REAP_ROUND_SECONDS))
    case.signals.append(result.to_dict())
    log("REAP -> pid %d (%s): %d reaped in place in %d round(s), stopped %.3f ms%s"
        % (case.parent.pid, case.parent.comm, len(result.reaped), result.rounds, result.stopped_seconds * 1000,
           ", refused: " + result.refused if result.refused else ""))
    if result.reaped:
        case.action = "reaped_in_place"
        case.reaped_in_place = len(result.reaped)
    if result.refused:
        case.skipped.append({"signal": REAP, "reason": "refused: " + result.refused})
    case.refresh(proc_root)
    if not case.parent_alive:
        _conclude(case)
        return
    if result.refused and case.remaining:
        return  # the signal rungs take over
    aged_keys = set(zombie_key(z) for z in aged)
    if not any(zombie_key(z) in aged_keys for z in case.remaining):
        # Zombies younger than reap_min_age_seconds are not a reason to escalate to signals;
        # they stay in ``remaining`` (reported, not counted as cleared) for a later run.
        case.finish("reaped", "%d reaped in place by the parent's own wait4(), no signal%s"
                    % (len(result.reaped), left_note))


def _skips_text(case):
    return "; ".join("%s skipped: %s" % (s["signal"], s["reason"]) for s in case.skipped) or None


def _cooldown_allows(case, policy, state, now, dry_run):
    if case.escalation_granted:
        return True
    key = case.parent.container_key
    last = state.escalated.get(key)
    if last is not None and now - last < policy.container_init_cooldown:
        case.finish("cooldown", "escalated %ds ago; container_init_cooldown is %ds"
                    % (now - last, policy.container_init_cooldown))
        return False
    if not dry_run:
        state.escalated[key] = now
    case.escalation_granted = True
    return True


def _wait_for(cases, seconds, proc_root):
    deadline = time.monotonic() + seconds
    pending = list(cases)
    interval = 0.02
    while pending:
        pending = [c for c in pending if not (c.refresh(proc_root) and _conclude(c))]
        if not pending or time.monotonic() >= deadline:
            return
        time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
        interval = min(interval * 2, 0.25)


# How long after a parent's death its adopter gets to reap the zombies before we call them stuck.
ADOPTION_GRACE_SECONDS = 1.0


def _conclude(case, final=False):
    """Set the outcome once the parent is done; True when concluded."""
    if case.parent_alive:
        if not case.remaining:
            case.finish("reaped")
            return True
        if final:
            case.finish("persisting", "%d of %d zombies remain" % (len(case.remaining), len(case.confirmed)))
            return True
        return False
    # The parent is gone: ``refresh`` kept only the zombies still defunct elsewhere.
    if not case.remaining:
        case.finish("parent_exited")
    elif not final and time.monotonic() - case.died_at < ADOPTION_GRACE_SECONDS:
        return False  # give the adopting parent a moment to reap
    else:
        case.finish("reparented_defunct", "%d zombies now under pid(s) %s"
                    % (len(case.remaining), ", ".join(str(p) for p in case.reparented_to) or "?"))
    return True


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def _limit_matches(parent, policy, ppid_of):
    if policy.limit_subtree is not None:
        pid, seen = parent.pid, set()
        while pid not in seen and pid != policy.limit_subtree:
            seen.add(pid)
            pid = (ppid_of or {}).get(pid, 0)
            if pid <= 0:
                return False
    if policy.limit_cgroup is not None:
        if not parent.cgroup.get("path") or not fnmatch.fnmatchcase(parent.cgroup["path"], policy.limit_cgroup):
            return False
    if policy.limit_container is not None:
        container = parent.container_dict() or {}
        wanted = policy.limit_container
        candidates = [container.get("id") or "", container.get("pod_uid") or ""]
        if container.get("pod_name"):
            candidates.append("%s/%s" % (container["pod_namespace"], container["pod_name"]))
        if not any(c and (c == wanted or (len(wanted) >= 4 and c.startswith(wanted))) for c in candidates):
            return False
    return True


def run(policy, mode="reap", dry_run=False, log=None):
    """Scan, classify, confirm, act (unless ``dry_run`` or ``mode == 'info'``), verify; return the report."""
    log = log or (lambda message: None)
    started = time.monotonic()
    now = time.time()
    state = State(policy.state_file)
    warnings = [state.warning] if state.warning else []
    scanner = SCANNERS[policy.backend]
    scan_started = time.monotonic()
    scan = scanner(policy.proc_root, want_ppids=policy.limit_subtree is not None)
    scan_seconds = time.monotonic() - scan_started

    lineage = reaper_lineage(policy.proc_root)
    pods = None
    cases = []
    outside = 0
    for ppid, zombies in scan.zombies_by_parent.items():
        parent = inspect_parent(policy.proc_root, ppid)
        if parent is None:
            continue  # the parent exited between the reads; its zombies are someone else's now
        parent.zombies = zombies
        if parent.in_container and parent.cgroup.get("pod_uid"):
            if pods is None:
                pods = pod_names(policy.pods_log_dir)
            parent.pod = pods.get(parent.cgroup["pod_uid"])
        if not _limit_matches(parent, policy, scan.ppid_of):
            outside += len(zombies)
            continue
        classify(parent, lineage, policy.protect)
        cases.append(Case(parent))
    cases.sort(key=lambda c: (-len(c.confirmed), c.parent.pid))

    # Decide what is a candidate before confirming, so protected parents cost no second read.
    candidates = []
    for case in cases:
        klass = case.parent.klass
        if klass in NEVER_SIGNALLED:
            case.finish("protected", case.parent.reason)
        elif klass == CLASS_HOST_PROCESS and policy.scope == "containers":
            case.finish("out_of_scope", "scope is 'containers'; use scope 'all' to act on host processes")
        elif len(case.confirmed) < policy.min_zombies:
            case.finish("below_threshold", "%d < min_zombies %d" % (len(case.confirmed), policy.min_zombies))
        else:
            candidates.append(case)

    confirm_seconds = policy.confirm_seconds
    if policy.reaps_in_place and not policy.state_file and mode != "info":
        # Without a state file the confirming window is the only age REAP can vouch for.
        confirm_seconds = max(confirm_seconds, policy.reap_min_age_seconds)
    if candidates and confirm_seconds > 0:
        time.sleep(confirm_seconds)
        for case in candidates:
            _confirm(case, policy.proc_root)

    live_keys = set()
    for case in cases:
        for zombie in case.confirmed:
            key = zombie_key(zombie)
            live_keys.add(key)
            state.first_seen.setdefault(key, now)
        if case.confirmed:
            case.oldest_seen_seconds = round(now - min(state.first_seen[zombie_key(z)] for z in case.confirmed), 3)

    eligible = []
    for case in candidates:
        if case.done:
            continue
        if len(case.confirmed) < policy.min_zombies:
            case.finish("below_threshold", "%d confirmed < min_zombies %d" % (len(case.confirmed), policy.min_zombies))
        elif policy.state_file and policy.min_age_seconds and case.oldest_seen_seconds < policy.min_age_seconds:
            case.finish("too_young", "oldest zombie first seen %ss ago; min_age_seconds is %s"
                        % (case.oldest_seen_seconds, policy.min_age_seconds))
        else:
            eligible.append(case)

    if mode == "info":
        for case in eligible:
            case.finish("eligible", "the ladder would run on this parent")
            # Whether a reap with REAP on would reap it in place, asked without attaching.
            case.reap_refusal = reap_precheck(policy.proc_root, case.parent) or ""
    else:
        if policy.max_parents and len(eligible) > policy.max_parents:
            for case in eligible[policy.max_parents:]:
                case.finish("deferred", "max_parents %d reached" % policy.max_parents)
            eligible = eligible[:policy.max_parents]
        if not dry_run:
            _check_rights(eligible)
        try:
            run_ladder(eligible, policy, state, now, dry_run, log)
        finally:
            release_abandoned()

    if mode != "info" and not dry_run:
        state.save(live_keys, now, policy.container_init_cooldown)

    report = _report(cases, scan, policy, mode, dry_run, warnings, outside, scan_seconds, started)
    return report


def _confirm(case, proc_root):
    """Second look: same parent (pid + start time) and same zombies still defunct under it."""
    stat = read_stat(proc_root, case.parent.pid)
    if stat is None or stat["starttime"] != case.parent.starttime:
        case.confirmed = []
        case.remaining = []
        case.finish("unconfirmed", "the parent exited or its pid was reused")
        return
    case.confirmed = [z for z in case.confirmed if zombie_still_there(proc_root, z) == case.parent.pid]
    case.remaining = list(case.confirmed)
    if not case.confirmed:
        case.finish("unconfirmed", "the parent reaped its zombies before the confirming scan")


def _check_rights(cases):
    if not cases or has_capability(CAP_KILL):
        return
    euid = os.geteuid()
    foreign = [c.parent for c in cases if c.parent.uid is not None and c.parent.uid != euid]
    if foreign:
        raise ReaperError(
            "no right to signal pid %d (uid %s) and %d other parent(s): run as root or with CAP_KILL; "
            "nothing was signalled" % (foreign[0].pid, foreign[0].uid, len(foreign) - 1))


def _report(cases, scan, policy, mode, dry_run, warnings, outside, scan_seconds, started):
    parents = []
    outcomes = Counter()
    signals_sent = 0
    cleared = 0
    reaped_in_place = 0
    for case in cases:
        parent = case.parent
        outcomes[case.outcome] += 1
        sent = [s for s in case.signals if s["result"] == "sent"]
        signals_sent += len(sent)
        reaped_in_place += case.reaped_in_place
        if case.outcome in ("reaped", "parent_exited"):
            cleared += len(case.confirmed) - len(case.remaining)
        names = Counter(z.comm for z in parent.zombies)
        parents.append({
            "pid": parent.pid,
            "starttime": parent.starttime,
            "ppid": parent.ppid,
            "comm": parent.comm,
            "cmdline": parent.cmdline[:512],
            "uid": parent.uid,
            "class": parent.klass,
            "reason": parent.reason,
            "container": parent.container_dict(),
            "cgroup": parent.cgroup.get("path"),
            "zombies": len(parent.zombies),
            "zombies_confirmed": len(case.confirmed),
            "zombies_remaining": (len(case.remaining) if case.action in ("signalled", "reaped_in_place")
                                  else len(case.confirmed)),
            "zombies_reaped_in_place": case.reaped_in_place,
            "zombie_pids": sorted(z.pid for z in parent.zombies)[:ZOMBIE_PIDS_LISTED],
            "zombie_names": dict(names.most_common(10)),
            "oldest_zombie_seen_seconds": case.oldest_seen_seconds,
            "action": case.action,
            "signals": case.signals,
            "skipped_rungs": case.skipped,
            "outcome": case.outcome,
            "detail": case.detail,
            "reparented_to": case.reparented_to,
            "reap_refusal": case.reap_refusal,
        })
    total = sum(len(c.parent.zombies) for c in cases)
    return {
        "version": __version__,
        "host": os.uname().nodename,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": mode if mode == "info" else ("dry_run" if dry_run else "reap"),
        "zombies": total,
        "zombies_outside_limit": outside,
        "zombie_leaders_with_threads": scan.zombie_leaders_with_threads,
        "zombies_cleared": cleared,
        "parents_with_zombies": len(cases),
        "parents": parents,
        "outcomes": dict(outcomes),
        "signals_sent": signals_sent,
        "zombies_reaped_in_place": reaped_in_place,
        "pids": pid_headroom(policy.proc_root, scan.processes),
        "scan_seconds": round(scan_seconds, 6),
        "run_seconds": round(time.monotonic() - started, 6),
        "pidfd": HAVE_PIDFD,
        "warnings": warnings,
        "policy": policy.describe(),
    }


def exit_code_for(report):
    return EXIT_ZOMBIES_REMAIN if any(p["outcome"] in FAILED_OUTCOMES for p in report["parents"]) else EXIT_OK


# ---------------------------------------------------------------------------
# Node command
# ---------------------------------------------------------------------------

CONFIG_SECTION = "reaper"
CONFIG_KEYS = ("min_zombies", "confirm_seconds", "min_age_seconds", "ladder", "container_init_cooldown",
               "protect", "state_file", "backend", "scope", "max_parents", "reap", "reap_min_age_seconds",
               "dry_run", "log", "lock", "textfile")

EXIT_CODES_HELP = """exit codes:
  0  done: nothing left that this run acted on (also: nothing to do)
  1  zombies remain under a parent this run acted on (persisting, reparented_defunct,
     permission_denied, no_rung_applies)
  2  bad option, config file or value; nothing was signalled
  3  another run holds the lock; this one did nothing
  4  cannot work here (e.g. /proc unreadable, no right to signal); nothing was signalled
"""


def read_config(path):
    """Options from an INI file with a [reaper] section; unknown keys are an error."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, "r") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError("cannot read config file %s: %s" % (path, exc.strerror or exc)) from None
    except configparser.Error as exc:
        raise ConfigError("malformed config file %s: %s" % (path, str(exc).splitlines()[0])) from None
    if not parser.has_section(CONFIG_SECTION):
        raise ConfigError("config file %s has no [%s] section" % (path, CONFIG_SECTION))
    extra = [s for s in parser.sections() if s != CONFIG_SECTION]
    if extra:
        raise ConfigError("config file %s: unknown section(s) %s" % (path, ", ".join(extra)))
    values = {}
    for key, value in parser.items(CONFIG_SECTION):
        if key not in CONFIG_KEYS:
            raise ConfigError("config file %s: unknown key %r" % (path, key))
        values[key] = value
    for key in ("dry_run", "reap"):
        if key in values:
            values[key] = parse_bool(values[key], "config file %s: %s" % (path, key))
    return values


def build_parser():
    parser = argparse.ArgumentParser(
        prog="zombie-reaper",
        description="Find zombie processes, classify their parents and make them go away safely.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--config", help="INI file with a [reaper] section holding any of the options below")
    add("--info", action="store_true", help="read only: report zombies and classes, never signal")
    add("--dry-run", action="store_true", default=None, help="decide everything, signal nothing")
    add("--json", action="store_true", help="print the JSON report instead of the summary")
    add("--log", help="append the JSON report as one line to FILE")
    add("--lock", help="hold an exclusive lock on FILE; a concurrent run exits with code 3")
    add("--textfile", help="write Prometheus metrics of this run to FILE (atomically), for node_exporter")
    add("--min-zombies", help="act only on parents with at least N confirmed zombies (default 1)")
    add("--confirm-seconds", help="seconds between the two scans (default 2)")
    add("--min-age-seconds", help="with --state-file: oldest zombie first seen this long ago (default 0)")
    add("--ladder", help="rungs SIGNAL:WAIT,... (default %s); REAP:WAIT may be the first rung" % DEFAULT_LADDER)
    add("--reap", action="store_true", default=None,
        help="first make each parent reap its own zombies (ptrace-injected wait4, no signal; needs CAP_SYS_PTRACE)")
    add("--reap-min-age-seconds", help="REAP only zombies defunct at least this long (default 5)")
    add("--container-init-cooldown", help="seconds between escalations of one container init (default 3600)")
    add("--protect", action="append",
        help="never signal parents matching this glob (name, 'container:ID', 'pod:NS/NAME', 'cgroup:GLOB'); repeatable")
    add("--state-file", help="JSON file keeping first-seen times and cooldowns across runs")
    add("--backend", help="procfs (default) or psutil")
    add("--scope", help="containers (default) or all")
    add("--max-parents", help="escalate at most N parents per run, worst first (default 25; 0 = no cap)")
    add("--limit-subtree", help="act only on parents that are PID N or its descendants")
    add("--limit-cgroup", help="act only on parents whose cgroup path matches this glob")
    add("--limit-container", help="act only on parents in this container (id prefix, pod UID or NS/NAME)")
    add("--proc", dest="proc_root", help=argparse.SUPPRESS)
    add("--pods-log-dir", help=argparse.SUPPRESS)
    add("--version", action="version", version="%(prog)s " + __version__)
    return parser


def options_from_args(args):
    """Merge config file and command line; the command line wins."""
    config = read_config(args.config) if args.config else {}
    options = {}
    for key in OPTION_DEFAULTS:
        value = getattr(args, key, None)
        if value is None:
            value = config.get(key)
        if value is not None:
            options[key] = value
    extras = {
        "dry_run": bool(args.dry_run) if args.dry_run is not None else bool(config.get("dry_run", False)),
        "log": args.log or config.get("log"),
        "lock": args.lock or config.get("lock"),
        "textfile": args.textfile or config.get("textfile"),
    }
    return options, extras


def acquire_lock(path):
    try:
        handle = open(path, "a")
    except OSError as exc:
        raise ReaperError("cannot open lock file %s: %s" % (path, exc.strerror or exc)) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise LockBusy("another zombie-reaper run holds %s; this run did nothing" % path) from None
    return handle


def append_log(path, report):
    """One JSON object per line, opened in append mode and closed each run (logrotate-safe)."""
    line = json.dumps(report, sort_keys=True, separators=(",", ":")) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    except OSError as exc:
        raise ReaperError("cannot open log file %s: %s" % (path, exc.strerror or exc)) from None
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


METRICS_TOP_PARENTS = 10


def _label(value):
    return str(value if value is not None else "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_metrics(report, ok=True):
    """Prometheus text exposition of one run; per-parent series capped at METRICS_TOP_PARENTS."""
    out = []

    def metric(name, kind, help_text, samples):
        out.append("# HELP zombie_reaper_%s %s" % (name, help_text))
        out.append("# TYPE zombie_reaper_%s %s" % (name, kind))
        for labels, value in samples:
            text = ",".join('%s="%s"' % (k, _label(v)) for k, v in labels)
            out.append("zombie_reaper_%s%s %s" % (name, "{%s}" % text if text else "", value))

    metric("last_run_timestamp_seconds", "gauge", "Unix time of the last run.", [((), round(time.time(), 3))])
    metric("last_run_success", "gauge", "1 if the last run completed without error.", [((), 1 if ok else 0)])
    if report is None:
        return "\n".join(out) + "\n"
    metric("zombies", "gauge", "Zombie processes seen by the last run.", [((), report["zombies"])])
    by_class = Counter()
    for parent in report["parents"]:
        by_class[parent["class"]] += parent["zombies"]
    metric("zombies_by_class", "gauge", "Zombies by the class of their parent.", sorted(
        ((("class", k),), v) for k, v in by_class.items()))
    top = []
    other = 0
    for index, parent in enumerate(report["parents"]):
        if index >= METRICS_TOP_PARENTS:
            other += parent["zombies"]
            continue
        container = parent["container"] or {}
        top.append(((("pid", parent["pid"]), ("comm", parent["comm"]), ("class", parent["class"]),
                     ("container", (container.get("id") or "")[:12]),
                     ("pod_namespace", container.get("pod_namespace") or ""),
                     ("pod", container.get("pod_name") or ""), ("outcome", parent["outcome"])), parent["zombies"]))
    if other:
        top.append(((("pid", "other"), ("comm", ""), ("class", "other"), ("container", ""), ("pod_namespace", ""),
                     ("pod", ""), ("outcome", "")), other))
    metric("parent_zombies", "gauge", "Zombies under each of the %d worst parents (the rest as pid=other)."
           % METRICS_TOP_PARENTS, top)
    metric("parents_by_outcome", "gauge", "Parents by outcome in the last run.",
           sorted(((("outcome", k),), v) for k, v in report["outcomes"].items()))
    metric("signals_sent", "gauge", "Signals sent by the last run.", [((), report["signals_sent"])])
    metric("zombies_cleared", "gauge", "Zombies cleared by the last run.", [((), report["zombies_cleared"])])
    metric("zombies_reaped_in_place", "gauge", "Zombies the REAP rung made their parent reap (no signal).",
           [((), report["zombies_reaped_in_place"])])
    pids = report["pids"]
    metric("pids_in_use", "gauge", "Threads (each holds a PID) in use.", [((), pids["threads"] or pids["processes"])])
    if pids.get("pid_max"):
        metric("pid_max", "gauge", "kernel.pid_max.", [((), pids["pid_max"])])
    if pids.get("threads_max"):
        metric("threads_max", "gauge", "kernel.threads-max.", [((), pids["threads_max"])])
    if pids.get("used_percent") is not None:
        metric("pids_used_ratio", "gauge", "PIDs in use over the lower of pid_max and threads-max.",
               [((), round(pids["used_percent"] / 100.0, 6))])
    metric("scan_duration_seconds", "gauge", "Duration of the process-table scan.", [((), report["scan_seconds"])])
    metric("run_duration_seconds", "gauge", "Duration of the whole run.", [((), report["run_seconds"])])
    return "\n".join(out) + "\n"


def write_textfile(path, text):
    """Write atomically (temp file + rename) so node_exporter never reads half a file."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        raise ReaperError("cannot write metrics file %s: %s" % (path, exc.strerror or exc)) from None


def format_summary(report):
    """A short human summary of a report."""
    pids = report["pids"]
    headroom = ""
    if pids.get("free") is not None:
        headroom = ", PIDs in use %s%% (%s free)" % (pids["used_percent"], pids["free"])
    lines = ["zombie-reaper %s: %d zombies under %d parents, scan %.3fs%s"
             % (report["mode"], report["zombies"], report["parents_with_zombies"], report["scan_seconds"], headroom)]
    if report["parents"]:
        lines.append("  %-8s %-18s %-18s %7s  %-22s %-19s %s"
                     % ("PID", "COMM", "CLASS", "ZOMBIES", "CONTAINER", "OUTCOME", "SIGNALS"))
    for parent in report["parents"]:
        container = parent["container"] or {}
        where = ""
        if container.get("pod_name"):
            where = "%s/%s" % (container["pod_namespace"], container["pod_name"])
        elif container.get("id"):
            where = "%s:%s" % (container.get("runtime"), container["id"][:12])
        elif container.get("pid_namespace"):
            where = "pidns:%s" % container["pid_namespace"]
        signals = ",".join(s["signal"] for s in parent["signals"]
                           if s["result"] in ("sent", "would_send", "reaped", "would_reap")) or "-"
        lines.append("  %-8d %-18s %-18s %7d  %-22s %-19s %s"
                     % (parent["pid"], parent["comm"][:18], parent["class"], parent["zombies"], where[:22] or "-",
                        parent["outcome"], signals))
    if report["signals_sent"] or report["mode"] == "reap":
        lines.append("signals sent: %d, zombies cleared: %d (reaped in place, no signal: %d)"
                     % (report["signals_sent"], report["zombies_cleared"], report["zombies_reaped_in_place"]))
    for warning in report["warnings"]:
        lines.append("warning: " + warning)
    return "\n".join(lines)


def _record_error(extras, exc):
    """A scheduled run has no terminal: put the error where the provider looks (log, metrics)."""
    if isinstance(exc, LockBusy):
        return
    try:
        if extras.get("log"):
            append_log(extras["log"], {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                       "host": os.uname().nodename, "error": str(exc), "exit_code": exc.exit_code})
        if extras.get("textfile"):
            write_textfile(extras["textfile"], format_metrics(None, ok=False))
    except ReaperError as secondary:
        sys.stderr.write("zombie-reaper: error: %s\n" % secondary)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    lock = None
    extras = {}
    try:
        options, extras = options_from_args(args)
        policy = Policy.from_options(**options)
        if extras["lock"]:
            lock = acquire_lock(extras["lock"])
        mode = "info" if args.info else "reap"
        report = run(policy, mode=mode, dry_run=extras["dry_run"],
                     log=None if args.json else (lambda message: sys.stderr.write(message + "\n")))
        if extras["log"]:
            append_log(extras["log"], report)
        if extras["textfile"]:
            write_textfile(extras["textfile"], format_metrics(report))
    except ReaperError as exc:
        sys.stderr.write("zombie-reaper: error: %s\n" % exc)
        _record_error(extras, exc)
        return exc.exit_code
    finally:
        if lock is not None:
            lock.close()
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(format_summary(report) + "\n")
    return exit_code_for(report)


if __name__ == "__main__":
    raise SystemExit(main())
