"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test fetches get-pip from a host this environment cannot reach, but looks for a
cached copy first. This file is put in that cache by scripts/setup.sh: it bootstraps the
pip bundled with Python (ensurepip) and then installs the exact packages ansible-test asks
for (pip==X and friends) from the package index pip is configured with.
"""

import ensurepip
import os
import subprocess
import sys


def main():
    saved = os.environ.get("PIP_CONFIG_FILE")
    ensurepip.bootstrap(upgrade=True)
    # ensurepip points PIP_CONFIG_FILE at /dev/null; the install below needs the machine's pip
    # configuration (index, certificate bundle) back.
    os.environ.pop("PIP_CONFIG_FILE", None)
    if saved is not None:
        os.environ["PIP_CONFIG_FILE"] = saved
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade"] + args))


if __name__ == "__main__":
    main()
