# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Output files: checked before anything is signalled, written whole or not at all, never through a link
planted in a shared directory (node_exporter's textfile directory is often group-writable)."""

import binascii
import errno
import fcntl
import os
import stat

from .errors import LockBusy, OutputError, ReaperError

# Below this much free space an output cannot be trusted to take a whole report.
MIN_FREE_BYTES = 256 * 1024


def check_directory(directory, what):
    """Refuse (ReaperError) unless a file can be created in ``directory`` and there is room for a report."""
    try:
        fd, tmp = _create_exclusive(directory, ".zombie-reaper-probe")
    except OSError as exc:
        raise OutputError("cannot write the %s in %s: %s" % (what, directory, exc.strerror or exc), directory) from None
    os.close(fd)
    os.unlink(tmp)
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    if free < MIN_FREE_BYTES:
        raise OutputError("cannot write the %s in %s: only %d bytes free" % (what, directory, free), directory)


def check_appendable(path, what):
    """The log: an existing file must open for appending; a new one must be creatable."""
    if os.path.lexists(path):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW))
        except OSError as exc:
            raise OutputError("cannot append to the %s %s: %s" % (what, path, exc.strerror or exc), path) from None
    check_directory(os.path.dirname(os.path.abspath(path)), what)


def _create_exclusive(directory, stem):
    """A new file with an unpredictable name (O_EXCL: never an existing file or link); returns (fd, path)."""
    for _attempt in range(8):
        path = os.path.join(directory, "%s.%s.tmp" % (stem, binascii.hexlify(os.urandom(6)).decode()))
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), path
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, "no free temporary name")


def write_atomically(path, data, mode, what, durable=False):
    """Replace ``path`` with ``data`` (bytes): a temp file in its directory, renamed over it; on any failure
    the temp file is removed and ``path`` is as it was. Written by root (a run by hand), the file keeps the
    owner of the one it replaces, else takes its directory's: the service user can still read its state."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = _create_exclusive(directory, "." + os.path.basename(path))
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
            if os.geteuid() == 0:
                _keep_owner(fd, path, directory)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OutputError("cannot write the %s %s: %s" % (what, path, exc.strerror or exc), path) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _keep_owner(fd, path, directory):
    try:
        owner = os.lstat(path)
    except OSError:
        owner = os.stat(directory)
    os.fchown(fd, owner.st_uid, owner.st_gid)


def read_small_file(path, limit, what):
    """The bytes of a regular file (never through a link), None when it does not exist; an error past
    ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError("cannot read the %s %s: %s" % (what, path, exc.strerror or exc), path) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise OutputError("the %s %s is not a regular file of at most %d bytes" % (what, path, limit), path)
        return os.read(fd, limit + 1)
    finally:
        os.close(fd)


def append_whole(path, data, what):
    """Append ``data`` (bytes) as a whole: a write that fails halfway is cut back off (a log line is whole or
    absent)."""
    try:
        fd = open_or_create(path, os.O_WRONLY | os.O_APPEND, 0o640)
    except OSError as exc:
        raise OutputError("cannot open the %s %s: %s" % (what, path, exc.strerror or exc), path) from None
    try:
        start = os.fstat(fd).st_size
        try:
            _write_all(fd, data)
        except OSError as exc:
            try:
                os.ftruncate(fd, start)
            except OSError:
                pass
            raise OutputError("cannot append to the %s %s: %s" % (what, path, exc.strerror or exc), path) from None
    finally:
        os.close(fd)


def open_or_create(path, flags, mode):
    """An fd on ``path`` (never through a link: a root run must not follow one the service user planted).
    A file that root creates (a run by hand) takes its directory's owner, so that the service user can
    still append to its log and take its lock afterwards."""
    flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return os.open(path, flags)
    if os.geteuid() == 0:
        try:
            owner = os.stat(os.path.dirname(os.path.abspath(path)))
            os.fchown(fd, owner.st_uid, owner.st_gid)
        except OSError:
            os.close(fd)
            raise
    return fd


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)  # a short write (a nearly full disk) goes on; an error raises
        view = view[written:]


def lock_exclusively(path, what):
    """An open file holding an exclusive flock on ``path``; LockBusy when another run holds it."""
    try:
        handle = os.fdopen(open_or_create(path, os.O_WRONLY | os.O_APPEND, 0o640), "a")
    except OSError as exc:
        raise ReaperError("cannot open the %s %s: %s" % (what, path, exc.strerror or exc)) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise LockBusy("another zombie-reaper run holds %s; this run did nothing" % path) from None
    return handle
