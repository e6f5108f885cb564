# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The provider guide's legacy script: installed again (another role puts it back), it SIGKILLs every
zombie parent, container inits included, every 5 minutes, whatever this reaper decides."""

import os

# The role removes the same files (roles/reaper/vars/main.yml, __zombie_reaper_legacy_files; a test keeps
# the two lists equal).
LEGACY_FILES = ("/etc/cron.d/kill_zombie_parents", "/usr/local/bin/kill_zombie_parents.sh")


def legacy_files_present(proc_root):
    """The legacy files found on the host whose /proc is ``proc_root`` (its root is that directory's parent:
    /proc -> /, /host/proc -> /host)."""
    root = os.path.dirname(proc_root.rstrip("/")) or "/"
    return [path for path in LEGACY_FILES if os.path.lexists(os.path.join(root, path.lstrip("/")))]


def legacy_warning(present):
    return ("the provider guide's legacy script is installed (%s): it kills the parent of every zombie, container "
            "inits included, every 5 minutes; remove it (the role does, zombie_reaper_remove_legacy) and stop "
            "whatever installs it again (Akash provider-playbooks: roles/os/tasks/crons.yml)" % ", ".join(present))
