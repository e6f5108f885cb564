# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every outcome a parent can end a run with, and which of them mean "acted, zombies remain"."""

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
    "held": "a container init not restarted: no PID pressure, restart_container_init never, or the restart budget "
            "is spent (the detail says which, with the headroom, rate and time left)",
    "deferred": "the max_parents cap for this run was reached",
    "identity_changed": "the parent's pid now belongs to another process; nothing sent",
    "permission_denied": "the kernel refused the signal",
    "would_signal": "dry run: the ladder would run on this parent",
    "would_reap": "dry run: the REAP rung would make the parent reap its zombies (no signal)",
    "eligible": "info: the parent would be acted on by a reap run",
}
# Outcomes where the reaper acted and zombies it was responsible for remain.
FAILED_OUTCOMES = ("persisting", "reparented_defunct", "permission_denied", "no_rung_applies")
