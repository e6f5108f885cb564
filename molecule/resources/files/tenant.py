"""Processes that stand in for a worker node's tenants in the molecule scenarios and the demo.

  tenant.py leaky INTERVAL [NAME]   the provider guide's case: an entrypoint that never calls wait() and
                              starts sshd every INTERVAL seconds; sshd fails at once (no config),
                              so a new [sshd] <defunct> stays behind each time
  tenant.py healthy INTERVAL  the same entrypoint done right: it reaps each sshd
  tenant.py burst COUNT       like leaky, but it gives up after COUNT attempts (0.1 s apart) and
                              then only sleeps: its zombies stay, and no new ones come
  tenant.py shim              named like containerd's shim, it leaves 2 zombies of its own
  tenant.py app               a healthy application as PID 1 (etcd, a JVM): it starts nothing and never waits,
                              so the orphans of exec probes it adopts stay <defunct>

NAME is not used: it only tells tenants apart in `ps`.
Started in a PID namespace of their own (`unshare --pid --fork --mount-proc`), leaky and healthy
are PID 1 there, as a container's entrypoint is.
"""

import os
import sys
import time


def start_sshd():
    try:
        pid = os.fork()
    except OSError:  # the container's pids.max is reached: the entrypoint lives on, as a real one would
        return None
    if pid == 0:
        try:
            os.execv("/usr/sbin/sshd", ["/usr/sbin/sshd", "-D", "-f", "/nonexistent/sshd_config"])
        finally:
            os._exit(127)
    return pid


def main():
    mode = sys.argv[1]
    if mode == "shim":
        with open("/proc/self/comm", "w") as handle:
            handle.write("containerd-shim-runc-v2")
        for _attempt in range(2):
            start_sshd()
        while True:
            time.sleep(3600)
    if mode == "app":
        while True:
            time.sleep(3600)
    if mode == "burst":
        for _attempt in range(int(sys.argv[2])):
            start_sshd()
            time.sleep(0.1)
        while True:
            time.sleep(3600)
    interval = float(sys.argv[2])
    while True:
        child = start_sshd()
        if mode == "healthy" and child:
            os.waitpid(child, 0)
        time.sleep(interval)


if __name__ == "__main__":
    main()
