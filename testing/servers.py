"""Servers that misbehave on purpose, for tests of bounded waits (127.0.0.1 or a unix socket only)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def accepting(
    listener: socket.socket, serve: Callable[[socket.socket, threading.Event], None] | None = None
) -> Iterator[threading.Event]:
    """Accept every connection on `listener` until the block ends, holding each open; `serve(conn, stop)` runs in a
    thread per connection (none: never answer). Yields an event set once a client connected. At the end: `stop`
    is set, the held connections and the listener closed."""
    connected = threading.Event()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                held.append(conn)
                connected.set()
                if serve is not None:
                    threading.Thread(target=serve, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield connected
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            with contextlib.suppress(OSError):
                conn.close()
        listener.close()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    with accepting(listener):
        yield int(listener.getsockname()[1])


@contextlib.contextmanager
def silent_unix_server(path: str) -> Iterator[threading.Event]:
    """A unix socket at `path` that accepts and never answers; yields an event set once a client connected."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    with accepting(listener) as connected:
        yield connected
