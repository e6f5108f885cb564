#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module zombie_info: report zombie processes and their parents; never signals."""

from __future__ import annotations

DOCUMENTATION = r"""
module: zombie_info
short_description: Report zombie processes, their parents' classes and PID headroom
version_added: 1.0.0
description:
  - Scans C(/proc) for zombie (C(<defunct>)) processes, groups them by parent, classifies and attributes each
    parent (container runtime, container id, Kubernetes pod) and reports which parents a
    M(fleetops.zombie_reaper.zombie_reap) run would act on (outcome V(eligible)).
  - Never sends a signal.
author:
  - fleetops (@fleetops)
extends_documentation_fragment:
  - fleetops.zombie_reaper.zombie_reaper
  - fleetops.zombie_reaper.zombie_reaper.attributes
attributes:
  check_mode:
    support: full
    description: Read only in any mode.
options:
  confirm_seconds:
    description:
      - Seconds between the first scan and a confirming scan of the candidate parents. V(0) (the default)
        reports a single scan.
    type: float
    default: 0
seealso:
  - module: fleetops.zombie_reaper.zombie_reap
"""

EXAMPLES = r"""
- name: Zombies on every worker
  fleetops.zombie_reaper.zombie_info:
  register: zombies

- name: Fail when a node is running out of PIDs
  ansible.builtin.assert:
    that: zombies.pids.used_percent < 80
    fail_msg: "{{ inventory_hostname }} uses {{ zombies.pids.used_percent }}% of its PIDs"

- name: List the containers that leak
  ansible.builtin.debug:
    msg: "{{ zombies.parents | selectattr('class', 'in', ['container_init', 'container_process'])
      | map(attribute='container') | list }}"
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
zombies_cleared:
  description: Always V(0) (nothing is done in info mode); the key is shared with M(fleetops.zombie_reaper.zombie_reap).
  returned: always
  type: int
  sample: 0
signals_sent:
  description: Always V(0) (nothing is sent in info mode).
  returned: always
  type: int
  sample: 0
legacy_files:
  description:
    - The provider guide's legacy script files found on the node (its cron entry, its script). Installed again,
      it kills the parent of every zombie, container inits included; a warning says so.
  returned: always
  type: list
  elements: str
  sample: []
container_restarts:
  description: Always V(0) (nothing is restarted in info mode).
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
  description: Always V(0) (nothing is reaped in info mode).
  returned: always
  type: int
  sample: 0
run_seconds:
  description: Duration of the whole run (with O(confirm_seconds), the confirming scan included).
  returned: always
  type: float
  sample: 0.02
policy:
  description: The options in force.
  returned: always
  type: dict
zombies:
  description: Zombies found (after any limit).
  returned: always
  type: int
  sample: 12
zombies_outside_limit:
  description: Zombies under parents excluded by a limit option.
  returned: always
  type: int
  sample: 0
zombie_leaders_with_threads:
  description: Processes shown as zombies whose other threads still run (not counted in RV(zombies)).
  returned: always
  type: int
  sample: 0
parents_with_zombies:
  description: Number of entries in RV(parents).
  returned: always
  type: int
  sample: 1
parents:
  description:
    - One entry per parent of zombies, the most zombies first, with the same keys as the
      M(fleetops.zombie_reaper.zombie_reap) result; the V(outcome) of an entry is V(eligible) for parents a reap
      would act on, else why not (V(protected), V(out_of_scope), V(below_threshold), V(too_young),
      V(unconfirmed)).
    - For an V(eligible) parent, V(reap_refusal) says whether a reap with O(fleetops.zombie_reaper.zombie_reap#module:reap=true)
      could make it reap its zombies in place (checked without attaching) - an empty string - or why not, for
      example that the parent is already traced, or runs under a seccomp filter and CAP_SYS_ADMIN is missing.
      It is null for the other parents.
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
        V(out_of_scope), V(below_threshold), V(too_young), V(unconfirmed), V(cooldown), V(deferred),
        V(identity_changed), V(permission_denied), V(would_signal) or V(would_reap). See the collection README.
      type: str
    detail:
      description: More about the outcome, or null.
      type: str
    reap_refusal:
      description: >-
        For an V(eligible) parent, an empty string when a reap with
        O(fleetops.zombie_reaper.zombie_reap#module:reap=true) could make it reap its zombies in place
        (checked without attaching), else why not; null for the other parents.
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
      outcome: eligible
outcomes:
  description: Count of parents per outcome.
  returned: always
  type: dict
  sample: {"eligible": 1}
pids:
  description: PID headroom; processes and threads in use against C(pid_max) and C(threads-max).
  returned: always
  type: dict
  sample: {"processes": 412, "threads": 980, "pid_max": 4194304, "threads_max": 192729, "free": 191749, "used_percent": 0.51}
scan_seconds:
  description: Duration of the scan of the process table.
  returned: always
  type: float
  sample: 0.012
mode:
  description: Always V(info).
  returned: always
  type: str
  sample: info
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.fleetops.zombie_reaper.plugins.module_utils.zombie_reaper.engine import MODE_INFO, run
from ansible_collections.fleetops.zombie_reaper.plugins.module_utils.zombie_reaper.errors import ReaperError
from ansible_collections.fleetops.zombie_reaper.plugins.module_utils.zombie_reaper.options import (
    module_argument_spec,
    policy_from_module_params,
)


def main():
    module = AnsibleModule(argument_spec=module_argument_spec(acting=False), supports_check_mode=True)
    try:
        report = run(policy_from_module_params(module.params), mode=MODE_INFO)
    except ReaperError as exc:
        module.fail_json(msg=str(exc))
    for warning in report.pop("warnings"):
        module.warn(warning)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
