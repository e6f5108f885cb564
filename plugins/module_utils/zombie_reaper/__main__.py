# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python3 -m zombie_reaper``: the node command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
