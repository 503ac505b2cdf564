"""Host names reach getaddrinfo as bytes when ASCII (no idna codec import at start-up), as str otherwise."""

from __future__ import annotations

import socket

from ldapcheck.adapters.errors import resolver_name


def test_ascii_names_are_bytes_and_resolve_the_same() -> None:
    assert resolver_name("127.0.0.1") == b"127.0.0.1"
    assert resolver_name("localhost") == b"localhost"
    as_bytes = {i[4][0] for i in socket.getaddrinfo(resolver_name("localhost"), 389, 0, socket.SOCK_STREAM)}
    as_text = {i[4][0] for i in socket.getaddrinfo("localhost", 389, 0, socket.SOCK_STREAM)}
    assert as_bytes == as_text


def test_other_names_keep_idna() -> None:
    assert resolver_name("bücher.example") == "bücher.example"
