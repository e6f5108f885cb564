# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The register set of this machine's architecture."""

import os

from .aarch64 import Aarch64
from .x86_64 import X8664

ARCHITECTURES = {X8664.name: X8664, Aarch64.name: Aarch64}


def current():
    return ARCHITECTURES[os.uname().machine]
