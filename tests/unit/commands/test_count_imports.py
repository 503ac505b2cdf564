"""`ldapcheck count` starts fast: it runs against a fake LDAP server without importing typer, ldap3, docker, jinja2.

On a small directory `count` was start-up bound (0.30 s against ldapsearch's 0.08 s): what the count path imports
is part of its speed. Besides the heavy libraries, the command line of a plain-LDAP text count goes without typer
and click (~35 ms: `ldapcheck.cli.fastcount`), ssl (~5 ms: no TLS asked), logging and json (~4 ms each: no debug
log, no JSON output) and dataclasses (~24 ms with its classes: `ldapcheck.core.record`). The command runs in a
fresh interpreter (`testing.fresh`: `-X importtime` lists every module it imported) against `testing.fakeldap` on
127.0.0.1, which answers binds, the root DSE, base searches and a paged subtree search.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.fakeldap import FakeLdap
from testing.fakeldap import fake_ldap as serving
from testing.fresh import ldap_env_file, run_listing_imports

HEAVY = ("ldap3", "docker", "jinja2", "requests", "urllib3", "typer", "click", "pydantic")
# Not heavy, but measurable on every start-up of a plain-LDAP text count, which needs none of them. dataclasses
# (with inspect, ast, dis, tokenize ~9 ms, and ~0.5 ms of exec per frozen class): count's classes are records.
UNNEEDED = ("ssl", "logging", "json", "dataclasses", "inspect")
# Modules inside packages every run imports: the idna codec (getaddrinfo given a str name), the TLS and user steps.
UNNEEDED_INSIDE = ("encodings.idna", "ldapcheck.auth.ldap.host.tls", "ldapcheck.auth.ldap.host.user")
USERS = 7
BASE = "dc=example,dc=org"


@pytest.fixture
def fake_ldap() -> Iterator[FakeLdap]:
    """A tiny directory that answers everything: each subtree search serves USERS entries, paged in two pages."""
    with serving("never", base=BASE, entries=USERS) as server:
        yield server


def _count_imports(server: FakeLdap, tmp_path: Path, *extra: str) -> tuple[dict[str, object], set[str]]:
    """The JSON report (or {} for text) and the modules a `count` run in a fresh interpreter imported."""
    env_file = ldap_env_file(tmp_path, server.url, BASE)
    proc, imported = run_listing_imports("count", "--env-file", str(env_file), *extra)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ldapcheck.commands.count" in imported and "socket" in imported  # the listing is real
    return (json.loads(proc.stdout) if "--json" in extra else {}), imported


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_count_imports_no_heavy_library(fake_ldap: FakeLdap, tmp_path: Path) -> None:
    report, imported = _count_imports(fake_ldap, tmp_path, "--json")
    steps = report["steps"]
    assert isinstance(steps, list)
    step = next(s for s in steps if s["id"] == "ldap.user_count")
    assert (step["status"], step["detail"]["count"]) == ("pass", 2 * USERS)  # both pages counted
    assert not _top(imported) & set(HEAVY), sorted(_top(imported) & set(HEAVY))


def test_plain_text_count_imports_nothing_it_does_not_need(fake_ldap: FakeLdap, tmp_path: Path) -> None:
    _, imported = _count_imports(fake_ldap, tmp_path)
    assert not _top(imported) & {*HEAVY, *UNNEEDED}, sorted(_top(imported) & {*HEAVY, *UNNEEDED})
    assert not imported & set(UNNEEDED_INSIDE), sorted(imported & set(UNNEEDED_INSIDE))
