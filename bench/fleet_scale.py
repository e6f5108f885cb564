"""Benchmark the controller's side at fleet size: the simulated fleet of scripts/fleet.sh, over SSH.

Measured in one run (`make fleet-bench`, which brings the fleet up first and takes it down after):
  - per-host cost of zombie_info and of zombie_reap in check mode against ansible.builtin.ping, ad hoc, at the
    same forks, interleaved (ping, info, reap, ping, ...) so that drift of the machine hits all three alike;
  - the whole-fleet audit (playbooks/audit.yml, broken nodes included) at forks 10, 25 and 50;
  - the controller's peak memory during those audits (the resident size of Ansible's processes, summed);
  - each module's AnsiballZ payload, as written to a node without pipelining, and the bytes it costs a host.
Every SSH session is warm (ControlPersist) before timing starts: only a node's first connection pays for
the `podman exec` that stands in for a network here. The result replaces docs/fleet-scale.md's figures.

    python bench/fleet_scale.py [--inventory .cache/fleet/inventory.ini] [--repeats 5] [--out docs/fleet-scale.md]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# (label, module, extra arguments): zombie_reap in check mode twice: with its defaults, whose confirming scan
# waits reap_min_age_seconds (5 s) when there is no state_file, and with no wait at all (the module's own
# cost). One -a with both options: ad hoc, a second -a replaces the first.
MODULES = [("ping", "ansible.builtin.ping", []), ("zombie_info", "fleetops.zombie_reaper.zombie_info", []),
           ("zombie_reap --check (defaults: waits 5 s)", "fleetops.zombie_reaper.zombie_reap", ["--check"]),
           ("zombie_reap --check, no wait", "fleetops.zombie_reaper.zombie_reap",
            ["--check", "-a", "confirm_seconds=0 reap_min_age_seconds=0"])]
RESULTS = ROOT / "bench" / "results"
BEGIN, END = "<!-- fleet-bench: begin -->", "<!-- fleet-bench: end -->"


def ansible_env(**extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_DEPRECATION_WARNINGS="0",
               ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_STDOUT_CALLBACK="default")
    env["PATH"] = "%s:%s" % (ROOT / ".venv" / "bin", env["PATH"])
    env.update(extra)
    return env


def descendants_rss_kib(root_pid, names):
    """Summed resident size of ``root_pid`` and its descendants whose comm starts with one of ``names``."""
    parents, comm, rss = {}, {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
            with open("/proc/%s/statm" % entry) as handle:
                pages = int(handle.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        pid = int(entry)
        parents[pid], comm[pid], rss[pid] = int(rest[1]), name, pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total = 0
    for pid in rss:
        walk = pid
        while walk and walk != root_pid:
            walk = parents.get(walk, 0)
        if walk == root_pid and comm[pid].startswith(names):
            total += rss[pid]
    return total


def timed(command, env, sample_memory=False):
    """Wall seconds, exit code, output and (when asked) peak summed RSS in MiB of Ansible's processes."""
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], descendants_rss_kib(process.pid, ("ansible", "python")))
            time.sleep(0.05)
    sampler = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        sampler.start()
    output = process.communicate(timeout=1800)[0]
    wall = time.monotonic() - start
    if sample_memory:
        sampler.join()
    return wall, process.returncode, output, peak[0] / 1024.0


def ad_hoc(inventory, pattern, module, extra, forks):
    return ["ansible", "-i", inventory, pattern, "-m", module, "-f", str(forks), "-o"] + extra


def payload_bytes(inventory, host):
    """Each module's AnsiballZ file as a node receives it when pipelining is off (kept there to be measured)."""
    sizes = {}
    for _label, module, extra in MODULES:
        if module in sizes:
            continue
        subprocess.run(["podman", "exec", host, "rm", "-rf", "/root/.ansible/tmp"], check=True)
        env = ansible_env(ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_PIPELINING="0")
        subprocess.run(ad_hoc(inventory, host, module, extra + ["-e", "ansible_ssh_pipelining=false"], 1), cwd=ROOT,
                       env=env, check=True, stdout=subprocess.DEVNULL)
        found = subprocess.run(["podman", "exec", host, "sh", "-c", "stat -c %s /root/.ansible/tmp/*/AnsiballZ_*"],
                               check=True, capture_output=True, text=True).stdout.split()
        sizes[module] = int(found[0])
    subprocess.run(["podman", "exec", host, "rm", "-rf", "/root/.ansible/tmp"], check=True)
    return sizes


def hosts_of(inventory, pattern):
    out = subprocess.run(["ansible", "-i", inventory, pattern, "--list-hosts"], cwd=ROOT, env=ansible_env(),
                         check=True, capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines()[1:] if line.strip()]


def per_host_cost(inventory, pattern, forks, repeats):
    walls = {label: [] for label, _module, _extra in MODULES}
    for _round in range(repeats):
        for label, module, extra in MODULES:
            wall, code, output, _peak = timed(ad_hoc(inventory, pattern, module, extra, forks), ansible_env())
            if code != 0:
                raise SystemExit("fleet-bench: %s failed on a working node:\n%s" % (label, output[-3000:]))
            walls[label].append(wall)
    return {label: statistics.median(values) for label, values in walls.items()}


def audits(inventory, forks_list, repeats):
    rows = []
    for forks in forks_list:
        walls, peaks = [], []
        for _round in range(repeats):
            wall, code, output, peak = timed(["ansible-playbook", "-i", inventory, "playbooks/audit.yml", "-f",
                                              str(forks)], ansible_env(), sample_memory=True)
            if code == 0 or "TASK [Print the fleet table]" not in output:  # the broken nodes must fail it, after the table
                raise SystemExit("fleet-bench: the audit did not fail its broken nodes after the table:\n%s"
                                 % output[-3000:])
            walls.append(wall)
            peaks.append(peak)
        rows.append((forks, statistics.median(walls), max(peaks)))
    return rows, output


def playbook_runs(inventory, forks):
    """deploy, reap now, audit, remove over the whole fleet: wall time, exit code and the hosts that failed."""
    rows, tables = [], {}
    for name in ("deploy.yml", "reap.yml", "audit.yml", "remove.yml"):
        wall, code, output, _peak = timed(["ansible-playbook", "-i", inventory, "playbooks/" + name, "-f", str(forks)],
                                          ansible_env())
        recap = [line.split(":", 1)[0].strip() for line in output.split("PLAY RECAP", 1)[-1].splitlines()
                 if re.search(r"(failed|unreachable)=[1-9]", line)]
        stops = [line.split("Action failed: ", 1)[-1].strip() for line in output.splitlines()
                 if line.startswith("[ERROR]: Task failed") and "could not be" not in line and "was not" not in line]
        rows.append((name, wall, code, sorted(set(recap) - {"localhost"}), stops[:1]))
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / ("fleet-" + name.replace(".yml", ".log"))).write_text(output)  # the whole run, to read after
        tables[name] = fleet_table(output, "Print the rollout table" if name in ROLLOUTS else "Print the fleet table")
    return rows, tables


ROLLOUTS = ("deploy.yml", "remove.yml")  # their table is the rollout's: what became of each host


def fleet_table(output, task="Print the fleet table"):
    """A table as the playbook printed it (the debug task's list, one row per host)."""
    lines, inside = [], False
    for line in output.splitlines():
        if "TASK [%s]" % task in line:
            inside = True
        elif inside and line.startswith("TASK ["):
            break
        elif inside and line.startswith("    - "):
            lines.append(line[6:])
        elif inside and lines and line.startswith("        "):
            lines[-1] += " " + line.strip()
    # the YAML callback single-quotes a row holding a colon or a quote, and doubles the quotes inside it
    return [line[1:-1].replace("''", "'") if line[:1] == "'" and line[-1:] == "'" else line for line in lines]


def markdown(hosts, working, forks, costs, audit_rows, sizes, runs, tables):
    ping = costs["ping"]
    out = [BEGIN, "", "Measured by `make fleet-bench` on %s (%d cores), %s: %d nodes, %d of them working, "
           "warm SSH sessions (ControlPersist), pipelining on." % (os.uname().nodename, os.cpu_count(),
                                                                   time.strftime("%Y-%m-%d"), hosts, working), "",
           "### Per-host cost against `ansible.builtin.ping` (ad hoc, forks %d, median of interleaved runs)" % forks,
           "", "| module | whole run (s) | per host (ms) | vs ping |", "|---|---:|---:|---:|"]
    for label, _module, _extra in MODULES:
        row = (label, costs[label], 1000.0 * costs[label] / working, costs[label] / ping)
        out.append("| `%s` | %.2f | %.0f | %.2fx |" % row)
    out += ["", "### Whole-fleet audit (`playbooks/audit.yml`, all %d nodes, broken ones included)" % hosts, "",
            "| forks | wall (s) | controller peak RSS, Ansible processes summed (MiB) |", "|---:|---:|---:|"]
    out += ["| %d | %.2f | %.0f |" % row for row in audit_rows]
    out += ["", "### Module payload (AnsiballZ, as written to a node without pipelining)", "",
            "| module | bytes | bytes for the whole fleet per run |", "|---|---:|---:|"]
    out += ["| `%s` | %d | %d |" % (module, size, size * hosts) for module, size in sizes.items()]
    out += ["", "### The playbooks over the whole fleet (forks %d, one run each, in this order)" % forks, "",
            "| playbook | wall (s) | exit code | hosts failed or unreachable |", "|---|---:|---:|---|"]
    out += ["| `%s` | %.1f | %d | %s |" % (name, wall, code, ", ".join(failed) or "-")
            for name, wall, code, failed, _stops in runs]
    for name, _wall, _code, _failed, stops in runs:
        out += ["\n`%s`'s first error (its host stays in the play until the table lists it): `%s`" % (name, stop)
                for stop in stops]
    for name in ("deploy.yml", "reap.yml", "audit.yml", "remove.yml"):
        if tables.get(name):
            kind = "rollout" if name in ROLLOUTS else "fleet"
            out += ["", "`%s`'s %s table:" % (name, kind), "", "```"] + tables[name] + ["```"]
    out += ["", END]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=str(ROOT / ".cache" / "fleet" / "inventory.ini"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--forks", type=int, default=25, help="forks for the per-host comparison")
    parser.add_argument("--out", default=str(ROOT / "docs" / "fleet-scale.md"))
    args = parser.parse_args()
    hosts = hosts_of(args.inventory, "workers")
    working = hosts_of(args.inventory, "workers:!broken_on_purpose")
    # warm every session once (the broken nodes fail here, which is expected)
    timed(ad_hoc(args.inventory, "workers", "ansible.builtin.ping", [], 50), ansible_env())
    costs = per_host_cost(args.inventory, "workers:!broken_on_purpose", args.forks, args.repeats)
    audit_rows, last = audits(args.inventory, [10, 25, 50], max(1, args.repeats // 2))
    sizes = payload_bytes(args.inventory, working[0])
    runs, tables = playbook_runs(args.inventory, args.forks)
    tables["audit.yml"] = tables.get("audit.yml") or fleet_table(last)
    section = markdown(len(hosts), len(working), args.forks, costs, audit_rows, sizes, runs, tables)
    page = Path(args.out)
    text = page.read_text() if page.exists() else "# Fleet scale\n\n%s\n%s\n" % (BEGIN, END)
    if BEGIN not in text:
        raise SystemExit("fleet-bench: %s has no %s marker to put the figures at" % (page, BEGIN))
    page.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _m: section, text, flags=re.S))
    print(section)


if __name__ == "__main__":
    sys.exit(main())
