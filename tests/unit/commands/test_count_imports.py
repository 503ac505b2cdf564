"""`ldapcheck count` starts fast: it runs against a fake LDAP server without importing typer, ldap3, docker, jinja2.

On a small directory `count` was start-up bound (0.30 s against ldapsearch's 0.08 s): what the count path imports
is part of its speed. Besides the heavy libraries, the command line of a plain-LDAP text count goes without typer
and click (~35 ms: `ldapcheck.cli.fastcount`), ssl (~5 ms: no TLS asked), logging and json (~4 ms each: no debug
log, no JSON output) and dataclasses (~24 ms with its classes: `ldapcheck.core.record`). The command runs in a
fresh interpreter (`-X importtime` lists every module it imported) against a minimal LDAPv3 server on 127.0.0.1
that answers binds, base searches and a paged subtree search.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldapcheck.adapters.ldap import ber as w

HEAVY = ("ldap3", "docker", "jinja2", "requests", "urllib3", "typer", "click", "pydantic")
# Not heavy, but measurable on every start-up of a plain-LDAP text count, which needs none of them. dataclasses
# (with inspect, ast, dis, tokenize ~9 ms, and ~0.5 ms of exec per frozen class): count's classes are records.
UNNEEDED = ("ssl", "logging", "json", "dataclasses", "inspect")
# Modules inside packages every run imports: the idna codec (getaddrinfo given a str name), the TLS and user steps.
UNNEEDED_INSIDE = ("encodings.idna", "ldapcheck.auth.ldap.host.tls", "ldapcheck.auth.ldap.host.user")
USERS = 7


def _attrs(values: dict[str, list[str]]) -> bytes:
    return w.sequence(
        *(w.sequence(w.octets(k), w.sequence(*(w.octets(v) for v in vs), tag=0x31)) for k, vs in values.items())
    )


def _answer(msgid: int, op: bytes) -> bytes:
    """The response to one request (op: the protocolOp's bytes)."""
    tag = op[0]
    done = w.sequence(w.integer(0, 0x0A), w.octets(""), w.octets(""), tag=w.SEARCH_DONE)
    if tag == w.BIND_REQUEST:
        return w.message(msgid, w.sequence(w.integer(0, 0x0A), w.octets(""), w.octets(""), tag=w.BIND_RESPONSE))
    assert tag == w.SEARCH_REQUEST, hex(tag)
    fields = w.children(op, *w.header(op, 0, len(op))[1:])
    base = op[fields[0][1] : fields[0][2]].decode()
    scope = w.decode_int(op[fields[1][1] : fields[1][2]])
    if scope == w.SCOPE_BASE:
        values = {"objectClass": ["top"]}
        if not base:
            values = {
                "namingContexts": ["dc=example,dc=org"],
                "supportedControl": [w.PAGED_RESULTS_OID],
                "supportedExtension": [w.STARTTLS_OID],
                "vendorName": ["OpenLDAP"],
                "supportedLDAPVersion": ["3"],
            }
        entry = w.message(msgid, w.sequence(w.octets(base), _attrs(values), tag=w.SEARCH_ENTRY))
        return entry + w.message(msgid, done)
    size_limit = w.decode_int(op[fields[3][1] : fields[3][2]])
    users = range(USERS) if size_limit == 0 else range(1)  # a bounded search is a login's lookup: one entry
    entries = b"".join(
        w.message(msgid, w.sequence(w.octets(f"uid=u{i},{base}"), w.sequence(), tag=w.SEARCH_ENTRY)) for i in users
    )
    cookie = w.control(w.PAGED_RESULTS_OID, w.sequence(w.integer(0), w.octets(b"")))
    return entries + w.message(msgid, done, [cookie])


def _serve(conn: socket.socket) -> None:
    buf = b""
    with conn:
        while True:
            h = w.header(buf, 0, len(buf))
            if h is None or h[2] > len(buf):
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                continue
            message, buf = buf[: h[2]], buf[h[2] :]
            msgid_at = w.header(message, h[1], h[2])
            assert msgid_at is not None
            msgid = w.decode_int(message[msgid_at[1] : msgid_at[2]])
            op = message[msgid_at[2] :]
            if op[0] == w.UNBIND_REQUEST:
                return
            conn.sendall(_answer(msgid, op[: w.header(op, 0, len(op))[2]]))  # type: ignore[index]


@pytest.fixture
def fake_ldap() -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            t = threading.Thread(target=_serve, args=(conn,), daemon=True)
            t.start()
            threads.append(t)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
    listener.close()
    acceptor.join(5)
    for t in threads:
        t.join(5)


def _count_imports(port: int, tmp_path: Path, *extra: str) -> tuple[dict[str, object], set[str]]:
    """The JSON report (or {} for text) and the top-level modules a `count` run in a fresh interpreter imported."""
    env_file = tmp_path / "jitsi.env"
    env_file.write_text(
        f"LDAP_URL=ldap://127.0.0.1:{port}\nLDAP_BASE=dc=example,dc=org\n"
        "LDAP_BINDDN=cn=admin,dc=example,dc=org\nLDAP_BINDPW=secret\nLDAP_FILTER=(uid=%u)\n"
    )
    env_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ldapcheck", "count", "--env-file", str(env_file), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "ldapcheck.commands.count" in imported and "socket" in imported  # the listing is real
    return (json.loads(proc.stdout) if "--json" in extra else {}), imported


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_count_imports_no_heavy_library(fake_ldap: int, tmp_path: Path) -> None:
    report, imported = _count_imports(fake_ldap, tmp_path, "--json")
    steps = report["steps"]
    assert isinstance(steps, list)
    step = next(s for s in steps if s["id"] == "ldap.user_count")
    assert (step["status"], step["detail"]["count"]) == ("pass", USERS)
    assert not _top(imported) & set(HEAVY), sorted(_top(imported) & set(HEAVY))


def test_plain_text_count_imports_nothing_it_does_not_need(fake_ldap: int, tmp_path: Path) -> None:
    _, imported = _count_imports(fake_ldap, tmp_path)
    assert not _top(imported) & {*HEAVY, *UNNEEDED}, sorted(_top(imported) & {*HEAVY, *UNNEEDED})
    assert not imported & set(UNNEEDED_INSIDE), sorted(imported & set(UNNEEDED_INSIDE))
