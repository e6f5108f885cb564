"""Run a command under a child subreaper that reaps every orphan, as a well-behaved init does.

By default it returns once every descendant is gone; with --exit-with-command it returns as soon
as the command does (as PID 1 of a PID namespace, that ends everything left in the namespace).

Tests put their zombie parents below it, so a parent the reaper kills hands its zombies to
a process that reaps them at once (the host's PID 1 may not, or only slowly).
"""

import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    argv = sys.argv[1:]
    exit_with_command = argv[:1] == ["--exit-with-command"]
    if exit_with_command:
        argv = argv[1:]
    command = os.fork()
    if command == 0:
        os.execvp(argv[0], argv)
    code = 0
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == command:
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            if exit_with_command:
                break
    sys.exit(code)


if __name__ == "__main__":
    main()
