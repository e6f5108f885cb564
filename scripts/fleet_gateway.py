"""The fleet's SSH for a controller inside a container (the execution environment), still with no network.

The bare controller's ProxyCommand runs `podman exec -i NODE sshd -i`; a container has no podman. So this runs on
the host: one Unix socket per node, DIR/NODE.sock, and each connection to it becomes that node's `sshd -i`
(stdin and stdout are the connection itself). Mount DIR into the container and its ssh's ProxyCommand is
`socat STDIO UNIX-CONNECT:DIR/%h.sock`. Nothing listens on any address; only what can open DIR reaches a node.

Usage: python3 scripts/fleet_gateway.py DIR NODE...   (until SIGTERM; removes its sockets on the way out)
"""

import os
import re
import selectors
import signal
import socket
import subprocess
import sys

NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def serve(directory, nodes):
    selector = selectors.DefaultSelector()
    paths = []
    for node in nodes:
        if not NODE_NAME.match(node):
            raise SystemExit("fleet_gateway: not a container name: %r" % node)
        path = os.path.join(directory, node + ".sock")
        if os.path.exists(path):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, 0o600)
        listener.listen(16)
        selector.register(listener, selectors.EVENT_READ, node)
        paths.append(path)
    sessions = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print("fleet_gateway: %d nodes in %s" % (len(nodes), directory), flush=True)
        while True:
            for key, _mask in selector.select(timeout=1.0):
                connection, _address = key.fileobj.accept()
                with connection:
                    sessions.append(subprocess.Popen(  # pylint: disable=consider-using-with
                        ["podman", "exec", "-i", key.data, "/usr/sbin/sshd", "-i"],
                        stdin=connection, stdout=connection, stderr=subprocess.DEVNULL))
            sessions = [s for s in sessions if s.poll() is None]  # ended sessions reaped, not left <defunct>
    finally:
        for path in paths:
            os.unlink(path)
        for session in sessions:
            session.terminate()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    serve(sys.argv[1], sys.argv[2:])
