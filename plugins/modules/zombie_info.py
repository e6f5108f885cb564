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
from ansible_collections.fleetops.zombie_reaper.plugins.module_utils.zombie_reaper import (
    ReaperError,
    module_argument_spec,
    policy_from_module_params,
    run,
)


def main():
    module = AnsibleModule(argument_spec=module_argument_spec(acting=False), supports_check_mode=True)
    try:
        report = run(policy_from_module_params(module.params), mode="info")
    except ReaperError as exc:
        module.fail_json(msg=str(exc))
    for warning in report.pop("warnings"):
        module.warn(warning)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
