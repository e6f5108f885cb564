# -*- coding: utf-8 -*-
# Copyright: (c) 2026, fleetops
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's process events (the proc connector: netlink NETLINK_CONNECTOR, group CN_IDX_PROC), read only.

Every exit of a process on the node arrives as one datagram carrying its pid, its parent's and a
monotonic timestamp: the moment a zombie is born, which no scan of /proc can tell. Standard library
only (socket.AF_NETLINK). The kernel answers only listeners in the initial user and PID namespaces
with CAP_NET_ADMIN; elsewhere it stays silent, which ``open()`` turns into ConnectorUnavailable.
Layouts: include/uapi/linux/netlink.h (nlmsghdr), connector.h (cn_msg), cn_proc.h (proc_event)."""

import errno
import os
import select
import socket
import struct
import time

from ..errors import ReaperError

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
NLMSG_DONE = 3
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2
PROC_EVENT_NONE = 0  # the kernel's answer to LISTEN / IGNORE (its err field)
PROC_EVENT_EXIT = 0x80000000  # also the event-type filter bit of struct proc_input (Linux 6.6+)
SO_RCVBUFFORCE = 33  # not in Python's socket module; asm-generic/socket.h (x86_64 and aarch64)

NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
CN_MSG = struct.Struct("=IIIIHH")  # idx, val, seq, ack, len, flags
PROC_EVENT = struct.Struct("=IIQ")  # what, cpu, timestamp_ns
EXIT_EVENT = struct.Struct("=IIIIII")  # pid, tgid, exit_code, exit_signal, parent pid, parent tgid
EVENT_OFFSET = NLMSGHDR.size + CN_MSG.size
DATA_OFFSET = EVENT_OFFSET + PROC_EVENT.size

# A burst of 200 forks overflows the default 212,992 bytes; 8 MiB held every burst measured (README).
DEFAULT_RECEIVE_BUFFER = 8 * 1024 * 1024
ACK_SECONDS = 1.0


class ConnectorUnavailable(ReaperError):
    """The kernel will not send process events to this process (the reason says why)."""


class EventsLost(Exception):
    """The receive buffer overflowed (ENOBUFS): some exits were never seen; rescan /proc."""


class ExitEvent(object):
    """One exit: ``pid``/``tgid`` of the task, ``ppid`` its parent's tgid, ``at`` CLOCK_MONOTONIC seconds."""

    __slots__ = ("pid", "tgid", "ppid", "exit_code", "exit_signal", "at")

    def __init__(self, pid, tgid, ppid, exit_code, exit_signal, at):
        self.pid = pid
        self.tgid = tgid
        self.ppid = ppid
        self.exit_code = exit_code
        self.exit_signal = exit_signal
        self.at = at

    @property
    def is_process(self):
        """The thread-group leader, i.e. a process that may become a zombie (a thread exit is not)."""
        return self.pid == self.tgid


class ProcConnector(object):
    """A subscription to process events. Use ``with ProcConnector() as events:`` and ``read()``."""

    def __init__(self, receive_buffer=DEFAULT_RECEIVE_BUFFER):
        self.receive_buffer = receive_buffer
        self.sock = None
        self.buffer_bytes = None  # what the kernel granted (it doubles the request)
        self._seq = 0

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self.sock.fileno()

    def open(self):
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        except (OSError, AttributeError) as exc:
            raise ConnectorUnavailable("no netlink connector socket: %s" % exc) from None
        try:
            self._size_buffer(sock)
            sock.bind((0, CN_IDX_PROC))
        except OSError as exc:
            sock.close()
            raise ConnectorUnavailable("cannot join the process events group: %s (CAP_NET_ADMIN)"
                                       % (exc.strerror or exc)) from None
        self.sock = sock
        self.buffer_bytes = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        try:
            self._control(PROC_CN_MCAST_LISTEN)
        except ConnectorUnavailable:
            self.close()
            raise
        except OSError as exc:  # ECONNREFUSED: no connector in this network namespace (it lives in the first)
            self.sock.close()
            self.sock = None
            raise ConnectorUnavailable("cannot subscribe to process events: %s (the proc connector serves only "
                                       "the initial network, user and PID namespaces)" % (exc.strerror or exc)) from None
        # Since 6.6 a listener may ask for exits only (a fork or exec no longer wakes it). The kernel answers
        # that with an ack the new filter itself drops, and an older kernel ignores the longer message: so it
        # is sent after the plain subscription, unanswered, and either way exits arrive.
        self._send(struct.pack("=II", PROC_CN_MCAST_LISTEN, PROC_EVENT_EXIT))

    def _size_buffer(self, sock):
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, self.receive_buffer)
        except OSError:  # without CAP_NET_ADMIN: as much as net.core.rmem_max allows
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)

    def _send(self, payload):
        self._seq += 1
        # The kernel answers with ack + 1 (since 6.x its seq is a counter of its own: match on the ack).
        message = CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, self._seq, self._seq, len(payload), 0) + payload
        self.sock.send(NLMSGHDR.pack(NLMSGHDR.size + len(message), NLMSG_DONE, 0, 0, 0) + message)

    def _control(self, op):
        """LISTEN or IGNORE, and the kernel's answer to it (datagrams of other listeners' events may come
        first: the group is shared)."""
        self._send(struct.pack("=I", op))
        deadline = time.monotonic() + ACK_SECONDS
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise ConnectorUnavailable("the kernel did not answer the subscription: the proc connector "
                                           "serves only the initial user and PID namespaces")
            try:
                data = self.sock.recv(256)
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    continue
                raise ConnectorUnavailable("cannot read process events: %s" % (exc.strerror or exc)) from None
            answer = _ack(data, self._seq)
            if answer is None:
                continue
            if answer:
                raise ConnectorUnavailable("the kernel refused the subscription: %s (CAP_NET_ADMIN)"
                                           % os.strerror(answer))
            return

    def read(self, timeout=None):
        """The exit events of one datagram (usually one; [] for fork, exec and the other events), None when
        none came within ``timeout``; EventsLost when the buffer overflowed since the last read."""
        if timeout and not select.select([self.sock], [], [], timeout)[0]:
            return None
        try:
            data = self.sock.recv(256, socket.MSG_DONTWAIT if timeout == 0 else 0)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                raise EventsLost() from None
            raise
        return parse_exits(data)

    def close(self):
        if self.sock is None:
            return
        try:
            self._control(PROC_CN_MCAST_IGNORE)  # the kernel counts listeners: leave its count right
        except (ConnectorUnavailable, OSError):
            pass
        self.sock.close()
        self.sock = None


def _ack(data, token):
    """The err of the kernel's answer to our control message ``token``, or None for any other datagram."""
    if len(data) < DATA_OFFSET + 4:
        return None
    what = PROC_EVENT.unpack_from(data, EVENT_OFFSET)[0]
    cn_ack = CN_MSG.unpack_from(data, NLMSGHDR.size)[3]
    if what != PROC_EVENT_NONE or cn_ack != token + 1:
        return None
    return struct.unpack_from("=I", data, DATA_OFFSET)[0]


def parse_exits(data):
    """Exit events in a netlink datagram (several messages may share one); other events are skipped."""
    events = []
    offset = 0
    while offset + NLMSGHDR.size <= len(data):
        length = NLMSGHDR.unpack_from(data, offset)[0]
        if length < NLMSGHDR.size or offset + length > len(data):
            break
        start = offset + EVENT_OFFSET
        if length >= DATA_OFFSET + EXIT_EVENT.size:
            what, _cpu, stamp = PROC_EVENT.unpack_from(data, start)
            if what == PROC_EVENT_EXIT:
                pid, tgid, code, sig, _parent_pid, parent_tgid = EXIT_EVENT.unpack_from(data, start + PROC_EVENT.size)
                events.append(ExitEvent(pid, tgid, parent_tgid, code, sig, stamp / 1e9))
        offset += (length + 3) & ~3  # NLMSG_ALIGN
    return events
