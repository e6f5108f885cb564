#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module zombie_reap: make zombie processes go away safely."""

from __future__ import annotations

DOCUMENTATION = r"""
module: zombie_reap
short_description: Clear zombie processes by acting on their parents, safely
version_added: 1.0.0
description:
  - Scans C(/proc) for zombie (C(<defunct>)) processes and groups them by parent.
  - Classifies each parent (host init, kernel thread, container runtime, protected host daemon, the reaper
    itself, container init, container process, host process). Only container inits and container processes,
    and with O(scope=all) host processes, are ever acted on.
  - Confirms each parent with a second scan O(confirm_seconds) later (same pid and start time, same zombies),
    so a parent that reaps its children in time is never touched.
  - Walks every eligible parent through a O(ladder) of signal rungs at once (by default SIGCHLD, then SIGTERM,
    then SIGKILL), skipping rungs that cannot work, and stops a parent's ladder as soon as its zombies are
    gone. Each signal is sent through a pidfd after re-checking the parent's identity.
  - A container init is restarted (signalled past SIGCHLD) only when its container is running out of PIDs
    (O(restart_container_init=on_pressure), the default), at most O(restart_budget) times a day per node and
    once per O(container_init_cooldown) per container; otherwise it is V(held) and the result says why, with
    the headroom, the leak rate and the time left. Exec-probe orphans are never a reason to restart.
  - With O(reap=true) each parent is first made to reap its own zombies (the REAP rung, a ptrace-injected
    C(wait4) per zombie on x86_64 and aarch64). No signal is sent, nothing restarts, the parent carries on.
    The signal rungs run only where REAP is refused (the reason is reported).
  - In check mode nothing is signalled; the result says what would be.
author:
  - fleetops (@fleetops)
extends_documentation_fragment:
  - fleetops.zombie_reaper.zombie_reaper
  - fleetops.zombie_reaper.zombie_reaper.attributes
attributes:
  check_mode:
    support: full
    description: Reports what would be signalled or reaped, and C(changed) when anything would be; sends nothing.
options:
  confirm_seconds:
    description:
      - Seconds between the first scan and the confirming scan. V(0) skips the confirmation.
    type: float
    default: 2
  ladder:
    description:
      - The rungs, in order. Each sends its signal to every eligible parent still holding zombies, then waits
        up to its wait in seconds for them to go.
      - A rung is skipped for a parent where it cannot work; SIGCHLD when the parent does not catch it, a
        signal the parent ignores, and any catchable signal without a handler in a namespace init (the
        kernel drops it when sent from outside the namespace).
      - When not set, the ladder is SIGCHLD 15 s, SIGTERM 15 s, SIGKILL 5 s.
      - V(REAP) may be the first rung (O(reap=true), the default, puts it there with a wait of 2 s).
      - A list of rungs, each a dict with C(signal) (a signal name such as V(SIGTERM) or V(TERM), a number, or
        V(REAP) as the first rung; SIGSTOP is refused) and C(wait) (seconds to wait after it, default 5, at
        most 600); or the node command's text form, V(SIGTERM:15,SIGKILL:5), as typed ad hoc. Anything else
        is an error.
    type: raw
  container_init_cooldown:
    description:
      - Seconds during which a container init, once escalated past SIGCHLD, is not escalated again.
        Persists only with O(state_file).
    type: float
    default: 3600
  max_parents:
    description:
      - Act on at most this many parents per run, the ones with most zombies first; the rest are reported as
        V(deferred). V(0) means no cap.
    type: int
    default: 25
  reap:
    description:
      - Put the REAP rung first (the default); the parent itself calls C(wait4) on each zombie, through
        ptrace, and is then left exactly as it was, even if the reaper dies meanwhile. A signal that arrives
        meanwhile is delivered as it would have been.
      - Needs CAP_SYS_PTRACE (root has it); a parent under a seccomp filter also needs CAP_SYS_ADMIN to
        suspend the filter, or it is refused. Refused too for traced, stopped or 32-bit parents, and on
        architectures other than x86_64 and aarch64; the signal rungs then run (within the restart gate).
      - C(false) for signals only, without ptrace.
    type: bool
    default: true
  reap_min_age_seconds:
    description:
      - REAP only zombies first seen at least this long ago, so a parent about to call C(wait) keeps its
        child's exit status. Without O(state_file) the confirming scan waits this long instead.
      - Younger zombies are left for a later run and never trigger the signal rungs.
    type: float
    default: 5
  restart_container_init:
    description:
      - When a container init may be signalled past REAP and SIGCHLD (SIGTERM, SIGKILL restart the tenant).
      - V(on_pressure) only when its container runs out of PIDs (O(restart_pressure_percent) of the tightest limit
        on its cgroup path or the node's, or less than O(restart_time_left_seconds) left at its leak rate).
      - V(never) holds it always; V(always) escalates whatever the headroom (the behaviour before 1.1), except for
        exec-probe orphans, which need pressure in every mode.
    type: str
    choices: [never, on_pressure, always]
    default: on_pressure
    version_added: 1.1.0
  restart_pressure_percent:
    description: Used share (0 to 100) of the tightest PID limit that counts as pressure.
    type: float
    default: 90.0
    version_added: 1.1.0
  restart_time_left_seconds:
    description:
      - A leak that reaches the tightest PID limit within this many seconds counts as pressure (the rate needs
        O(state_file) history; without it the time left is unknown and only the share counts).
    type: float
    default: 3600.0
    version_added: 1.1.0
  restart_budget:
    description:
      - At most this many container-init restarts per node in a rolling 24 hours, kept in O(state_file) (without
        one, per run). V(0) restarts none.
    type: int
    default: 3
    version_added: 1.1.0
seealso:
  - module: fleetops.zombie_reaper.zombie_info
notes:
  - Needs root or CAP_KILL to signal other users' processes; without it the module fails and signals nothing.
  - Returns C(changed) when a signal was sent or a zombie was reaped in place; in check mode, when the run would
    signal or reap, an honest prediction (check mode never reports "nothing to do" for a parent it would act on).
  - The same engine runs on each node as the C(zombie-reaper) command installed by the P(fleetops.zombie_reaper.reaper#role) role.
"""

EXAMPLES = r"""
- name: See what would be signalled (nothing is sent in check mode)
  fleetops.zombie_reaper.zombie_reap:
    min_zombies: 3
  check_mode: true

- name: Reap with a gentler, longer ladder and never touch one tenant
  fleetops.zombie_reaper.zombie_reap:
    ladder:
      - signal: SIGCHLD
        wait: 30
      - signal: SIGTERM
        wait: 30
      - signal: SIGKILL
        wait: 10
    protect:
      - "pod:payments/*"
    state_file: /var/lib/zombie-reaper/state.json

- name: Reap in place (the default), only zombies seen for 30 s, remembering them between runs
  fleetops.zombie_reaper.zombie_reap:
    reap_min_age_seconds: 30
    state_file: /var/lib/zombie-reaper/state.json

- name: Signals only, no ptrace (on fleets that will not grant CAP_SYS_PTRACE)
  fleetops.zombie_reaper.zombie_reap:
    reap: false

- name: Act on one container only
  fleetops.zombie_reaper.zombie_reap:
    limit_container: 4f2a9c1b7e3d
  register: reap

- name: Show the outcome per parent
  ansible.builtin.debug:
    msg: "{{ reap.parents | map(attribute='outcome') | list }}"
"""

RETURN = r"""
version:
  description: Version of the engine that made this report.
  returned: always
  type: str
  sample: 1.0.0
host:
  description: The node's host name.
  returned: always
  type: str
  sample: worker-17
time:
  description: When the run started, UTC, ISO 8601.
  returned: always
  type: str
  sample: "2026-12-01T20:55:00Z"
pidfd:
  description: Whether signals go through pidfds on this node (Python 3.9+ and Linux 5.3+); else kill() right after the identity check.
  returned: always
  type: bool
  sample: true
zombies:
  description: Zombies found under the parents in this run's view (after any limit).
  returned: always
  type: int
  sample: 12
zombies_cleared:
  description: Confirmed zombies that are gone after the run.
  returned: always
  type: int
  sample: 12
zombies_outside_limit:
  description: Zombies under parents excluded by O(limit_subtree), O(limit_cgroup) or O(limit_container).
  returned: always
  type: int
  sample: 0
zombie_leaders_with_threads:
  description: Processes shown as zombies whose other threads still run; no wait() can collect them yet, so they are not counted.
  returned: always
  type: int
  sample: 0
parents_with_zombies:
  description: Number of entries in RV(parents).
  returned: always
  type: int
  sample: 1
parents:
  description: One entry per parent of zombies, the most zombies first.
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: Parent PID as seen on the node.
      type: int
    starttime:
      description: Start time in clock ticks since boot; with RV(parents[].pid) the parent's identity.
      type: int
    ppid:
      description: The parent's own parent PID.
      type: int
    comm:
      description: Process name.
      type: str
    uid:
      description: Real user id of the parent, or null when its status could not be read.
      type: int
    cmdline:
      description: Command line (first 512 characters).
      type: str
    class:
      description: >-
        One of V(host_init), V(kernel_thread), V(reaper), V(container_runtime), V(protected_daemon),
        V(container_init), V(container_process), V(host_process).
      type: str
    reason:
      description: Why the parent got its class.
      type: str
    container:
      description: >-
        Attribution when the parent is in a container, else null; keys V(runtime), V(id), V(pod_uid),
        V(pod_namespace), V(pod_name), V(name) (the Kubernetes container name), V(image), V(pid_namespace),
        V(pid_in_container), and V(source), V(runtime record) when the runtime's own bundle (containerd's or
        CRI-O's C(config.json) annotations) named it, else V(cgroup) (the cgroup path and kubelet's log layout).
      type: dict
    cgroup:
      description: The parent's cgroup path (the v2 path, else the v1 path that names its container), or null.
      type: str
    zombies:
      description: Zombies under this parent at the first scan.
      type: int
    zombies_confirmed:
      description: Zombies still there at the confirming scan.
      type: int
    zombie_pids:
      description: Up to 20 zombie PIDs.
      type: list
      elements: int
    zombie_names:
      description: Zombie names with their counts (top 10).
      type: dict
    zombies_remaining:
      description: Confirmed zombies still defunct after the run.
      type: int
    zombies_reaped_in_place:
      description: Zombies this parent was made to reap itself by the REAP rung.
      type: int
    restarted:
      description: A container init the restart gate let this run signal past the gentle rungs (check mode, would).
      type: bool
    oldest_zombie_seen_seconds:
      description: Seconds since the oldest confirmed zombie was first seen (needs O(state_file) to exceed one run).
      type: float
    reparented_to:
      description: PIDs that adopted zombies of a parent that exited.
      type: list
      elements: int
    action:
      description: V(none), V(signalled), V(reaped_in_place), V(would_signal) or V(would_reap).
      type: str
    signals:
      description: >-
        Signals sent (or, in check mode, that would be) with their results; a REAP entry has V(result)
        V(reaped), V(refused) or V(would_reap), V(reaped), V(rounds), V(stopped_ms) and V(refused) (the reason).
      type: list
      elements: dict
    skipped_rungs:
      description: Rungs skipped for this parent, with the reason.
      type: list
      elements: dict
    outcome:
      description: >-
        V(reaped), V(parent_exited), V(reparented_defunct), V(persisting), V(no_rung_applies), V(protected),
        V(out_of_scope), V(below_threshold), V(too_young), V(unconfirmed), V(cooldown), V(held), V(deferred),
        V(identity_changed), V(permission_denied), V(would_signal) or V(would_reap). See the collection README.
      type: str
    detail:
      description: More about the outcome, or null.
      type: str
    reap_refusal:
      description: Set by M(fleetops.zombie_reaper.zombie_info) only; always null here.
      type: str
    pids_headroom:
      description: >-
        The tightest PID limit over the parent: the lowest C(pids.max) on its cgroup path (v1 pids or v2), or the
        node's C(pid_max)/C(threads-max); keys V(limit), V(used), V(free), V(used_percent), V(where)
        (V(cgroup:PATH) or V(node)); null when none can be read.
      type: dict
    leak_rate_per_hour:
      description: >-
        Zombies born per hour under this parent, from the first-seen times O(state_file) keeps; null (unknown)
        with less than a minute of history.
      type: float
    seconds_left:
      description: Seconds until the tightest PID limit is reached at that rate; null when unknown or not leaking.
      type: float
    diagnosis:
      description: >-
        What the zombies say, with the evidence, or null: V(kind) (V(probe_orphans), V(init_never_waits),
        V(container_process_leaks), V(host_process_leaks)), V(text) (what to tell the tenant) and V(evidence).
      type: dict
  sample:
    - pid: 696516
      comm: bash
      class: container_init
      zombies: 14
      outcome: reaped
outcomes:
  description: Count of parents per outcome.
  returned: always
  type: dict
  sample: {"reaped": 1, "protected": 1}
signals_sent:
  description: Signals actually sent.
  returned: always
  type: int
  sample: 1
legacy_files:
  description:
    - The provider guide's legacy script files found on the node (its cron entry, its script). Installed again,
      it kills the parent of every zombie, container inits included; a warning says so.
  returned: always
  type: list
  elements: str
  sample: []
container_restarts:
  description:
    - Container inits that the restart gate let this run signal past the gentle rungs (SIGTERM, SIGKILL), that
      is restarts of tenants. In check mode, the restarts a real run would make.
  returned: always
  type: int
  sample: 0
totals:
  description:
    - What the reaper has done on this node since its state file was created, this run included (the metrics'
      C(_total) counters); null without O(state_file). C(runs) counts runs that acted and completed,
      C(runs_failed) runs of the node command that stopped with an error, C(last_success) is the Unix time of
      the last acting run that completed.
  returned: always
  type: dict
  sample: {"runs": 42, "runs_failed": 0, "zombies_reaped_in_place": 1210, "zombies_cleared": 1214,
           "container_restarts": 0, "signals_sent": {"SIGCHLD": 4}, "last_success": 1796180400.123}
zombies_reaped_in_place:
  description: Zombies the REAP rung made their parents reap (no signal sent).
  returned: always
  type: int
  sample: 0
pids:
  description: PID headroom; processes and threads in use against C(pid_max) and C(threads-max).
  returned: always
  type: dict
  sample: {"processes": 412, "threads": 980, "pid_max": 4194304, "threads_max": 192729, "free": 191749, "used_percent": 0.51}
scan_seconds:
  description: Duration of the first scan of the process table.
  returned: always
  type: float
  sample: 0.012
run_seconds:
  description: Duration of the whole run, ladder waits included.
  returned: always
  type: float
  sample: 2.05
mode:
  description: V(reap) or V(dry_run) (check mode).
  returned: always
  type: str
  sample: reap
policy:
  description: The options in force.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleetops.zombie_reaper.plugins.module_utils.zombie_reaper.engine import MODE_ACT, run
from ansible_collections.fleetops.zombie_reaper.plugins.module_utils.zombie_reaper.errors import NotRecorded, ReaperError
from ansible_collections.fleetops.zombie_reaper.plugins.module_utils.zombie_reaper.options import (
    module_argument_spec,
    policy_from_module_params,
)


def main():
    module = AnsibleModule(argument_spec=module_argument_spec(acting=True), supports_check_mode=True)
    failed = None
    try:
        report = run(policy_from_module_params(module.params), mode=MODE_ACT, dry_run=module.check_mode)
    except NotRecorded as exc:
        failed, report = str(exc), exc.report  # it acted: say what it did, and that the state was not saved
    except ReaperError as exc:
        module.fail_json(msg=str(exc))
    for warning in report.pop("warnings"):
        module.warn(warning)
    changed = (report["signals_sent"] > 0 or report["zombies_reaped_in_place"] > 0
               or any(p["action"] in ("would_signal", "would_reap") for p in report["parents"]))
    if failed:
        module.fail_json(msg=failed, changed=changed, **report)
    module.exit_json(changed=changed, **report)


if __name__ == "__main__":
    main()
