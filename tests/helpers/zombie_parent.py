"""A process that leaves zombie children behind, for tests, the demo and benchmarks.

It forks ``--zombies`` children that exit at once and never waits for them (unless told
to), then prints ``ready <pid>`` on stdout and sleeps. Behaviours:

  --name NAME          set its own comm (may hold spaces and ')')
  --every SECONDS      keep making one more zombie every SECONDS (the defunct-sshd tenant)
  --child-name NAME    comm of each zombie child (default: sshd)
  --reap-on-sigchld    reap all children when SIGCHLD arrives (handler installed after the
                       first zombies exist, so only a later SIGCHLD clears them)
  --reap-after SECONDS reap all children after SECONDS (a live parent that does wait())
  --ignore-term        SIG_IGN for SIGTERM (needs SIGKILL)
  --catch-term         catch SIGTERM and carry on (SIGTERM is sent, then SIGKILL needed)
  --subreaper          become a child subreaper and never reap (adopted zombies stay defunct)
  --nested-zombies N   also fork a child (comm nested-parent) that leaves N zombies; prints its pid
"""

import argparse
import os
import signal
import sys
import time


def set_comm(name):
    with open("/proc/self/comm", "w") as handle:
        handle.write(name[:15])


def make_zombie(child_name):
    pid = os.fork()
    if pid == 0:
        try:
            set_comm(child_name)
        finally:
            os._exit(0)
    return pid


def reap_all(*_args):
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wait_defunct(parent, count):
    """Return once ``parent`` has at least ``count`` children and all of them are defunct."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states = []
        for task in os.listdir("/proc"):
            if not task.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % task, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            fields = data[data.rfind(b")") + 2:].split()
            if int(fields[1]) == parent:
                states.append(fields[0])
        if states.count(b"Z") >= count:
            return
        time.sleep(0.01)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zombies", type=int, default=3)
    parser.add_argument("--name")
    parser.add_argument("--child-name", default="sshd")
    parser.add_argument("--every", type=float)
    parser.add_argument("--reap-on-sigchld", action="store_true")
    parser.add_argument("--reap-after", type=float)
    parser.add_argument("--ignore-term", action="store_true")
    parser.add_argument("--catch-term", action="store_true")
    parser.add_argument("--subreaper", action="store_true")
    parser.add_argument("--nested-zombies", type=int, default=0)
    args = parser.parse_args()

    if args.name:
        set_comm(args.name)
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.catch_term:
        signal.signal(signal.SIGTERM, lambda *_: None)
    if args.subreaper:
        import ctypes  # pylint: disable=import-outside-toplevel
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    nested = None
    if args.nested_zombies:
        nested = os.fork()
        if nested == 0:
            set_comm("nested-parent")
            for _index in range(args.nested_zombies):
                make_zombie(args.child_name)
            while True:
                time.sleep(3600)
    for _index in range(args.zombies):
        make_zombie(args.child_name)
    wait_defunct(os.getpid(), args.zombies)
    if nested:
        wait_defunct(nested, args.nested_zombies)
    if args.reap_on_sigchld:
        signal.signal(signal.SIGCHLD, reap_all)
    sys.stdout.write("ready %d%s\n" % (os.getpid(), " %d" % nested if nested else ""))
    sys.stdout.flush()
    started = time.monotonic()
    reaped_once = False
    while True:
        if args.reap_after is not None and not reaped_once and time.monotonic() - started >= args.reap_after:
            reap_all()
            reaped_once = True
        if args.every:
            time.sleep(args.every)
            make_zombie(args.child_name)
        else:
            time.sleep(0.05 if args.reap_after is not None and not reaped_once else 3600)


if __name__ == "__main__":
    main()
