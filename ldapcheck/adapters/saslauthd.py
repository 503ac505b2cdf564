"""saslauthd's socket protocol, asked from this process: what Cyrus SASL (and `testsaslauthd`) send over saslauthd's
unix socket for one login, for `bench logins` on a Jitsi host installed from Debian packages (the socket is local).

The request is four counted strings (2-byte big-endian length, then the bytes): login, password, service, realm; the
answer one counted string, `OK …` or `NO …`. The password travels only over the socket. Every wait is bounded by
`timeout` (connect, write, each read), and the answer is at most 64 KiB (its length field's range).
"""

from __future__ import annotations

import socket
import struct

from ldapcheck.adapters.errors import NetError, NetKind, Operation


def _counted(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 0xFFFF:
        raise ValueError("a saslauthd request field is at most 65535 bytes")
    return struct.pack(">H", len(data)) + data


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        chunk = sock.recv(size - len(out))
        if not chunk:
            raise NetError(NetKind.CLOSED, "saslauthd closed the connection before answering", operation=Operation.LDAP)
        out += chunk
    return bytes(out)


def ask(path: str, login: str, password: str, service: str, realm: str, *, timeout: float) -> str:
    """saslauthd's answer (`OK "Success."`, `NO "authentication failed"`, …) to one login; NetError otherwise."""
    request = _counted(login) + _counted(password) + _counted(service) + _counted(realm)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except TimeoutError:
            raise NetError(NetKind.TIMEOUT, f"no connection to {path} within {timeout:g} s", timeout=timeout) from None
        except OSError as exc:
            kind = (
                NetKind.REFUSED if isinstance(exc, ConnectionRefusedError | FileNotFoundError) else NetKind.UNREACHABLE
            )
            raise NetError(kind, f"{path}: {exc.strerror or exc}", errno=exc.errno) from None
        try:
            sock.sendall(request)
            size = struct.unpack(">H", _read_exactly(sock, 2))[0]
            return _read_exactly(sock, size).decode("utf-8", "replace")
        except TimeoutError:
            raise NetError(NetKind.TIMEOUT, f"saslauthd did not answer within {timeout:g} s", timeout=timeout) from None
        except OSError as exc:
            raise NetError(NetKind.CLOSED, f"{path}: {exc.strerror or exc}", errno=exc.errno) from None
