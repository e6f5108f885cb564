# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signals that reach only the process they were meant for: identity check, then a pidfd."""

import errno
import os
import signal

from .procfs import process_alive, read_stat

HAVE_PIDFD = hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")


def send_signal(proc_root, pid, starttime, signum):
    """Signal ``pid`` only if it is still the process that started at ``starttime``.

    With pidfds the check is race-free: the pidfd pins the process, then its start
    time is checked, then the signal goes through the pidfd. Returns 'sent', 'gone',
    'identity_changed' or 'permission_denied'.
    """
    fd = None
    if HAVE_PIDFD:
        try:
            fd = os.pidfd_open(pid)  # novermin: guarded by HAVE_PIDFD
        except ProcessLookupError:
            return "gone"
        except OSError as exc:
            if exc.errno not in (errno.ENOSYS, errno.EINVAL):
                return "gone" if exc.errno == errno.ESRCH else "permission_denied"
    try:
        stat = read_stat(proc_root, pid)
        if stat is None:
            return "gone"
        if stat["starttime"] != starttime or not process_alive(stat):
            return "identity_changed"
        if fd is not None:
            signal.pidfd_send_signal(fd, signum)  # novermin: guarded by HAVE_PIDFD
        else:
            os.kill(pid, signum)
        return "sent"
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        return "permission_denied"
    finally:
        if fd is not None:
            os.close(fd)
