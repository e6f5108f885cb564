# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by zombie_reap and zombie_info."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Shared documentation of the scan, classification and eligibility options."""

    DOCUMENTATION = r"""
options:
  min_zombies:
    description:
      - A parent is eligible only with at least this many confirmed zombies.
    type: int
    default: 1
  min_age_seconds:
    description:
      - With O(state_file), a parent is eligible only when its oldest zombie was first seen at least
        this many seconds ago, in this or an earlier run. Ignored without O(state_file).
    type: float
    default: 0
  protect:
    description:
      - Extra patterns of parents that are never signalled (reported as V(protected_daemon)).
      - A shell glob matches the parent's name (comm, argv[0] or executable basename) in the host PID
        namespace only, because tenants choose the names inside their containers.
      - V(container:ID_PREFIX), V(pod:NAMESPACE/NAME_GLOB) and V(cgroup:PATH_GLOB) protect by attribution,
        in any namespace.
      - Patterns only add protection; they never make a process eligible.
    type: list
    elements: str
    default: []
  state_file:
    description:
      - JSON file that keeps first-seen times of zombies and the last escalation of each container init
        across runs. A corrupt file is reported as a warning and replaced, never trusted.
      - Without it, O(min_age_seconds) and the container-init cooldown do not persist between runs.
    type: path
  backend:
    description:
      - How the process table is scanned. V(psutil) needs the psutil package on the node.
    type: str
    choices: [procfs, psutil]
    default: procfs
  scope:
    description:
      - V(containers) acts only on parents inside containers (a nested PID namespace or a container cgroup).
      - V(all) also acts on host processes, as the provider guide's script did. Host init, kernel threads,
        container runtimes, protected daemons and the reaper's own ancestors are never signalled.
    type: str
    choices: [containers, all]
    default: containers
  limit_subtree:
    description:
      - Confine the run to parents that are this PID or its descendants.
    type: int
  limit_cgroup:
    description:
      - Confine the run to parents whose cgroup path matches this shell glob.
    type: str
  limit_container:
    description:
      - Confine the run to one container, by container id prefix (4 characters or more), pod UID, or
        V(NAMESPACE/NAME) of a Kubernetes pod.
    type: str
requirements:
  - Linux with procfs; Python 3.8 or newer on the node (standard library only).
"""

    # Attributes both modules share (each module documents its own check_mode).
    ATTRIBUTES = r"""
attributes:
  diff_mode:
    support: none
    description: The result describes every parent; there is no file to diff.
  platform:
    support: full
    platforms: linux
    description: Reads Linux procfs; uses pidfds on Linux 5.3+ with Python 3.9+.
"""
