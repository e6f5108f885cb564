#!/usr/bin/env bash
# The reaper on the provider guide's defunct-sshd case, inside a throwaway PID namespace:
# nothing outside it can be seen or signalled, and everything in it ends with the script.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
if [ "${1:-}" != "--inside" ]; then
    # sandbox.py is PID 1 of the new namespace and reaps orphans, like a real init.
    exec unshare --pid --fork --mount-proc "$PY" tests/helpers/sandbox.py --exit-with-command bash "$0" --inside
fi
export PATH=$ROOT/.venv/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg ANSIBLE_LOAD_CALLBACK_PLUGINS=1 \
    ANSIBLE_STDOUT_CALLBACK=json ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
adhoc() { ansible localhost "$@" | "$PY" scripts/format_report.py; }
defunct() { ps -eo pid,ppid,stat,comm | awk 'NR == 1 || $3 ~ /^Z/' ; }

say "A tenant container whose entrypoint keeps starting an sshd that fails and never reaps it"
# Its own PID namespace: the host sees a process whose NSpid ends in 1, like a container's PID 1.
unshare --pid --fork --mount-proc "$PY" tests/helpers/zombie_parent.py --name entrypoint.sh \
    --child-name sshd --zombies 3 --every 1 >/dev/null 2>&1 &
say "A container runtime shim with a zombie of its own (must never be touched)"
"$PY" tests/helpers/zombie_parent.py --name containerd-shim --child-name runc --zombies 1 >/dev/null &
sleep 4
ps -eo pid,ppid,stat,comm --forest
say "zombie_info: what is there and what a reap would act on (read only)"
adhoc -m fleetops.zombie_reaper.zombie_info
say "zombie_reap without REAP: the init is held, not restarted (its container is far from running out of PIDs)"
adhoc -m fleetops.zombie_reaper.zombie_reap -a "confirm_seconds=1"
say "zombie_reap reap=true --check: what REAP would do (nothing is done)"
adhoc -m fleetops.zombie_reaper.zombie_reap -a "reap=true reap_min_age_seconds=1 confirm_seconds=1" --check
say "zombie_reap reap=true: the init reaps its own zombies (no signal, no restart)"
adhoc -m fleetops.zombie_reaper.zombie_reap -a "reap=true reap_min_age_seconds=1 confirm_seconds=1"
sleep 1
say "Zombies left in the sandbox (the shim's zombie stays: protected)"
defunct
