"""`ldapcheck bench logins` on a Jitsi installed from Debian packages (the host lab), run inside the host as its admin
would: the deployment is detected (or forced with --deployment host), saslauthd's socket is asked from ldapcheck's
own process, --via ldap reads /etc/saslauthd.conf, --via xmpp logs in to the local prosody's c2s."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from testing.hostlab import HostLab

pytestmark = pytest.mark.integration

WRONG = "not-alice-s-password"


def bench(lab: HostLab, *args: str, password: str) -> tuple[int, dict[str, Any], str]:
    argv = ["ldapcheck", "bench", "logins", "--user", lab.user, "--password-stdin", "--json"]
    done = lab.exec([*argv, "--duration", "1", "--concurrency", "2", *args], stdin=password.encode() + b"\n")
    assert "Traceback" not in done.stderr, done.stderr
    assert lab.password not in done.stdout + done.stderr
    assert done.stdout, done.stderr
    return done.exit_code, json.loads(done.stdout), done.stderr


@pytest.mark.parametrize(
    ("args", "server_key"),
    [
        (["--via", "saslauthd"], "host"),  # detected: /etc/prosody with conf.d and no prosody container
        (["--via", "saslauthd", "--deployment", "host"], "host"),
        (["--via", "ldap"], "user_dn"),  # /etc/saslauthd.conf's ldap_servers, search base and filter
        (["--via", "xmpp"], "endpoint"),
    ],
    ids=["saslauthd-detected", "saslauthd-forced", "ldap", "xmpp"],
)
def test_right_password_logins_all_succeed(host_labs: Callable[..., HostLab], args: list[str], server_key: str) -> None:
    lab = host_labs("ldap")
    rc, report, err = bench(lab, *args, password=lab.password)
    assert rc == 0, err
    assert report["logins"] > 0 and report["ok"] == report["logins"] and report["failures"] == {}
    assert server_key in report["server"], report["server"]
    if "saslauthd" in args:
        assert report["saslauthd_workers"] is not None  # read from the local saslauthd's command line
        assert report["server"]["socket"].endswith("/mux")
    if "xmpp" in args:
        assert report["server"]["endpoint"].startswith("127.0.0.1:")
        assert report["cpu_cores"]["prosody"] is not None  # read from this host's /proc


def test_wrong_password_logins_are_rejected(host_labs: Callable[..., HostLab]) -> None:
    lab = host_labs("ldap")
    rc, report, err = bench(lab, "--via", "saslauthd", password=WRONG)
    assert rc == 1, err
    assert report["failures"] == {"rejected": report["logins"]}
