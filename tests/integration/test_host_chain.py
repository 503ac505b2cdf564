"""`ldapcheck diagnose|count|user` against the lab's real OpenLDAP: each failure names its step and catalogue id."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonreport import env_file_with, step

from ldapcheck.lab.containers import LabPaths, Mount, openldap_plan, run_container
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.manager import prepare_files
from ldapcheck.lab.ready import wait_for_bind
from ldapcheck.lab.spec import free_port, new_spec
from testing import servers
from testing.info import LabInfo

pytestmark = pytest.mark.integration


def run(
    *args: str,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, dict[str, Any], str, float]:
    """Run the CLI with --json; returns (exit code, report, raw stdout+stderr, wall seconds).

    `diagnose` runs host steps only here (--no-container): the container chain has its own tests.
    """
    if args[0] == "diagnose":
        args = (*args, "--no-container")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    clean.update(env or {})
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args, "--json"],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean,
        timeout=timeout,
    )
    elapsed = time.monotonic() - start
    report = json.loads(proc.stdout) if proc.stdout.startswith("{") else {}
    return proc.returncode, report, proc.stdout + proc.stderr, elapsed


def first_failure(report: dict[str, Any]) -> tuple[str, str]:
    failed = [s for s in report["steps"] if s["status"] == "fail"]
    assert failed, json.dumps(report, indent=1)[:3000]
    return failed[0]["id"], failed[0]["failure_id"]


def env_file(lab: LabInfo, tmp_path: Path, **overrides: str | None) -> str:
    """The lab's docker-jitsi-meet .env with some values changed (None removes a key)."""
    return env_file_with(lab.env, tmp_path / "jitsi.env", overrides)


def secrets_of(lab: LabInfo) -> list[str]:
    return [lab.bind_password, lab.admin_password, *lab.users.values()]


def assert_no_secrets(lab: LabInfo, text: str) -> None:
    for secret in secrets_of(lab):
        assert secret not in text


# --- the healthy lab ----------------------------------------------------------------------------


def test_healthy_lab_user_logs_in_and_count_is_truncated(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path)
    code, report, raw, _ = run(
        "diagnose", "--env-file", path, "--user", "alice", env={"LDAPCHECK_PASSWORD": lab.users["alice"]}
    )
    assert code == 0, raw
    assert report["status"] == "warn"
    assert step(report, "ldap.user_bind")["status"] == "pass"
    assert step(report, "ldap.user_search")["detail"]["dns"] == [f"uid=alice,{lab.users_base}"]
    count = step(report, "ldap.user_count")
    assert (count["status"], count["failure_id"]) == ("warn", "RC-4")
    assert count["detail"]["count"] == 500 and "NOT the total" in count["summary"]
    assert "size.prtotal=unlimited" in count["hint"]
    rootdse = step(report, "ldap.rootdse")
    assert rootdse["detail"]["vendor"].startswith("OpenLDAP") and rootdse["detail"]["paged_results"] is True
    assert_no_secrets(lab, raw)
    for s in report["steps"]:
        if s["reproduce"].lstrip().split(" ")[0].startswith(("ldap", "LDAPTLS")):
            assert (" -w " not in s["reproduce"] and " -W" in s["reproduce"]) or " -D " not in s["reproduce"]


def test_count_as_admin_sees_every_entry(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_BINDDN=lab.admin_dn)
    code, report, raw, _ = run(
        "count", "--env-file", path, "--page-size", "500", env={"LDAPCHECK_BIND_PASSWORD": lab.admin_password}
    )
    assert code == 0, raw
    count = step(report, "ldap.user_count")
    assert count["status"] == "pass"
    assert count["detail"]["count"] > lab.n_users and count["detail"]["pages"] >= 3
    assert_no_secrets(lab, raw)


def test_markdown_and_text_never_show_passwords(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    for fmt in ("--markdown", "-v"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "ldapcheck",
                "diagnose",
                "--env-file",
                path,
                "--user",
                "bob",
                "--password-stdin",
                "--sanitize",
                "--no-container",
                fmt,
            ],
            input=lab.users["bob"] + "\n",
            capture_output=True,
            text=True,
            env=clean,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert_no_secrets(lab, proc.stdout + proc.stderr)
        assert "uid=bob" not in proc.stdout  # --sanitize masks user DNs


# --- service account and base -----------------------------------------------------------------


def test_wrong_bind_password(lab: LabInfo, tmp_path: Path) -> None:
    _, report, raw, _ = run("diagnose", "--env-file", env_file(lab, tmp_path, LDAP_BINDPW="wrong-password"))
    assert first_failure(report) == ("ldap.service_bind", "RC-49")
    assert "$$" in step(report, "ldap.service_bind")["hint"]
    assert "wrong-password" not in raw


def test_bind_dn_without_password(lab: LabInfo, tmp_path: Path) -> None:
    _, report, _, _ = run("diagnose", "--env-file", env_file(lab, tmp_path, LDAP_BINDPW=None))
    assert first_failure(report) == ("config.parse", "LINT-BINDPW-MISSING")  # `<no value>` is sent as the password
    assert step(report, "ldap.service_bind")["status"] == "skip"


def test_bind_dn_that_does_not_exist(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_BINDDN=f"cn=nobody,ou=services,{lab.suffix}")
    code, report, _, _ = run("diagnose", "--env-file", path)
    assert code == 1
    assert first_failure(report) == ("ldap.service_bind", "RC-49")


def test_anonymous_cannot_see_the_users(lab: LabInfo, tmp_path: Path) -> None:
    _, report, _, _ = run("diagnose", "--env-file", env_file(lab, tmp_path, LDAP_BINDDN=None, LDAP_BINDPW=None))
    assert step(report, "ldap.service_bind")["status"] == "pass"
    assert first_failure(report) == ("ldap.base", "OL-ANON-ACL")


@pytest.fixture
def anonymous_binds_disallowed(lab: LabInfo) -> Iterator[None]:
    import ldap3

    server = ldap3.Server("127.0.0.1", port=lab.ldap_port, connect_timeout=5, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user="cn=admin,cn=config", password=lab.admin_password, receive_timeout=10)
    assert conn.bind(), conn.result
    assert conn.modify("cn=config", {"olcDisallows": [(ldap3.MODIFY_ADD, ["bind_anon"])]}), conn.result
    try:
        yield
    finally:
        conn.modify("cn=config", {"olcDisallows": [(ldap3.MODIFY_DELETE, ["bind_anon"])]})
        conn.unbind()


def test_anonymous_bind_refused(lab: LabInfo, tmp_path: Path, anonymous_binds_disallowed: None) -> None:
    _, report, _, _ = run("diagnose", "--env-file", env_file(lab, tmp_path, LDAP_BINDDN=None, LDAP_BINDPW=None))
    assert first_failure(report) == ("ldap.service_bind", "RC-48")


def test_base_typo(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_BASE=f"ou=usres,{lab.suffix}")
    _, report, _, _ = run("diagnose", "--env-file", path)
    assert first_failure(report) == ("ldap.base", "RC-32")
    assert step(report, "ldap.base")["detail"]["matched_dn"] == lab.suffix


def test_base_outside_the_naming_contexts_is_reported_at_the_base(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_BASE="dc=elsewhere,dc=test")
    _, report, _, _ = run("diagnose", "--env-file", path)
    assert step(report, "ldap.rootdse")["status"] == "pass"
    assert step(report, "ldap.service_bind")["status"] == "pass"
    assert first_failure(report) == ("ldap.base", "RC-32")
    assert f"not under any naming context ({lab.suffix})" in step(report, "ldap.base")["summary"]


def test_base_in_the_wrong_subtree(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_BASE=f"ou=services,{lab.suffix}")
    _, report, _, _ = run("diagnose", "--env-file", path, "--user", "alice", "--no-bind")
    assert step(report, "ldap.base")["status"] == "pass"
    assert first_failure(report) == ("ldap.user_count", "SA-ENTRY-COUNT")
    search = step(report, "ldap.user_search")
    assert (search["status"], search["failure_id"]) == ("fail", "SA-ENTRY-COUNT")
    assert search["detail"]["entries"] == 0


def test_filter_matching_nothing(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_FILTER="(&(uid=%u)(objectClass=posixGroup))")
    code, report, _, _ = run("user", "alice", "--env-file", path, "--no-bind")
    assert code == 1
    assert first_failure(report) == ("ldap.user_search", "SA-ENTRY-COUNT")
    assert step(report, "ldap.user_search")["detail"]["filter"] == "(&(uid=alice)(objectClass=posixGroup))"


def test_login_with_an_at_sign(lab: LabInfo, tmp_path: Path) -> None:
    """prosody sends the part before '@'; testsaslauthd -u sends it whole: both filters are shown."""
    _, report, _, _ = run("user", lab.at_uid, "--env-file", env_file(lab, tmp_path), "--no-bind")
    search = step(report, "ldap.user_search")
    local = lab.at_uid.split("@")[0]
    assert search["detail"]["saslauthd_login"] == local
    assert search["detail"]["filter"] == f"(uid={local})"
    assert f"(uid={lab.at_uid})" in search["detail"]["testsaslauthd_filter"]
    # The lab has only uid=carol@example.org: through prosody this login can never work.
    assert (search["status"], search["failure_id"]) == ("fail", "SA-ENTRY-COUNT")
    assert "'@'" in search["hint"]


def test_uid_present_twice(lab: LabInfo, tmp_path: Path) -> None:
    _, report, _, _ = run("user", lab.dupe_uid, "--env-file", env_file(lab, tmp_path), "--no-bind")
    assert first_failure(report) == ("ldap.user_search", "SA-ENTRY-COUNT")
    dns = step(report, "ldap.user_search")["detail"]["dns"]
    assert len(dns) == 2 and all(dn.startswith(f"uid={lab.dupe_uid},") for dn in dns)


def test_special_characters_are_escaped_like_saslauthd(lab: LabInfo, tmp_path: Path) -> None:
    _, report, _, _ = run("user", lab.special_uid, "--env-file", env_file(lab, tmp_path), "--no-bind")
    search = step(report, "ldap.user_search")
    assert search["status"] == "pass", search
    assert "\\2a" in search["detail"]["filter"] and "\\28" in search["detail"]["filter"]


# --- the user's password --------------------------------------------------------------------------


def test_wrong_user_password(lab: LabInfo, tmp_path: Path) -> None:
    _, report, raw, _ = run(
        "user", "alice", "--env-file", env_file(lab, tmp_path), "--password-stdin", stdin="not-her-password\n"
    )
    assert first_failure(report) == ("ldap.user_bind", "RC-49")
    assert step(report, "ldap.user_bind")["detail"]["result_code"] == 49
    assert "not-her-password" not in raw


def test_user_without_password(lab: LabInfo, tmp_path: Path) -> None:
    _, report, _, _ = run(
        "user", lab.nopass_uid, "--env-file", env_file(lab, tmp_path), "--password-stdin", stdin="anything\n"
    )
    assert first_failure(report) == ("ldap.user_bind", "RC-49")


def test_empty_password_is_never_a_login(lab: LabInfo, tmp_path: Path) -> None:
    code, report, _, _ = run("user", "alice", "--env-file", env_file(lab, tmp_path), "--password-stdin", stdin="\n")
    assert code == 1
    assert first_failure(report) == ("ldap.user_bind", "RC-53")
    assert "not a login" in step(report, "ldap.user_bind")["summary"]


def test_locked_account(lab: LabInfo, tmp_path: Path) -> None:
    _, report, _, _ = run(
        "user",
        lab.locked_uid,
        "--env-file",
        env_file(lab, tmp_path),
        "--password-stdin",
        stdin=lab.users.get(lab.locked_uid, "x") + "\n",
    )
    assert first_failure(report) == ("ldap.account_state", "OL-PPOLICY")


# --- network ------------------------------------------------------------------------------------------


def test_closed_port(lab: LabInfo, tmp_path: Path) -> None:
    port = free_port()
    code, report, raw, _ = run("diagnose", "--env-file", env_file(lab, tmp_path, LDAP_URL=f"ldap://127.0.0.1:{port}"))
    assert code == 1
    assert first_failure(report) == (f"net.tcp[127.0.0.1:{port}]", "NET-REFUSED")
    assert_no_secrets(lab, raw)
    assert step(report, "ldap.rootdse")["status"] == "skip"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts and never answers."""
    with servers.silent_server() as port:
        yield port


@pytest.mark.parametrize(("scheme", "step_prefix"), [("ldap", "net.plain"), ("ldaps", "tls.handshake")])
def test_server_that_never_answers(
    lab: LabInfo, tmp_path: Path, silent_server: int, scheme: str, step_prefix: str
) -> None:
    path = env_file(lab, tmp_path, LDAP_URL=f"{scheme}://127.0.0.1:{silent_server}")
    code, report, _, elapsed = run("diagnose", "--env-file", path, "--timeout", "2")
    assert code == 1
    assert first_failure(report) == (f"{step_prefix}[127.0.0.1:{silent_server}]", "NET-TIMEOUT")
    assert elapsed < 2 + 1, f"took {elapsed:.1f} s"


def test_second_server_is_used_when_the_first_is_down(lab: LabInfo, tmp_path: Path) -> None:
    port = free_port()
    path = env_file(lab, tmp_path, LDAP_URL=f"ldap://127.0.0.1:{port} {lab.ldap_url}")
    _, report, _, _ = run("diagnose", "--env-file", path)
    assert first_failure(report) == (f"net.tcp[127.0.0.1:{port}]", "NET-REFUSED")
    select = step(report, "net.select")
    assert select["status"] == "warn" and select["detail"]["server"] == lab.ldap_url
    assert step(report, "ldap.service_bind")["status"] == "pass"


def test_tls_spoken_to_the_plain_port(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_URL=f"ldaps://127.0.0.1:{lab.ldap_port}")
    _, report, _, _ = run("diagnose", "--env-file", path)
    assert first_failure(report) == (f"tls.handshake[127.0.0.1:{lab.ldap_port}]", "NET-PROTO-MISMATCH")


def test_starttls_sent_to_the_tls_port(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_URL=f"ldap://127.0.0.1:{lab.ldaps_port}", LDAP_START_TLS="1")
    _, report, _, _ = run("diagnose", "--env-file", path)
    assert first_failure(report) == (f"tls.handshake[127.0.0.1:{lab.ldaps_port}]", "NET-PROTO-MISMATCH")


def test_plain_spoken_to_the_tls_port(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path, LDAP_URL=f"ldap://127.0.0.1:{lab.ldaps_port}")
    _, report, _, _ = run("diagnose", "--env-file", path)
    assert first_failure(report) == (f"net.plain[127.0.0.1:{lab.ldaps_port}]", "NET-PROTO-MISMATCH")


# --- TLS --------------------------------------------------------------------------------------------------


def test_ldaps_and_starttls_with_the_lab_ca(lab: LabInfo, tmp_path: Path) -> None:
    for overrides in ({"LDAP_URL": lab.ldaps_url}, {"LDAP_START_TLS": "1"}):
        path = env_file(lab, tmp_path, LDAP_USE_TLS="1", LDAP_TLS_CHECK_PEER="1", **overrides)
        code, report, raw, _ = run("diagnose", "--env-file", path, "--ca-file", str(lab.ca_cert))
        assert code == 0, raw
        tls = next(s for s in report["steps"] if s["id"].startswith("tls.handshake"))
        assert tls["status"] == "pass" and tls["detail"]["chain_ok"] and tls["detail"]["hostname_ok"]
        assert "LDAPTLS_CACERT=" in step(report, "ldap.service_bind")["reproduce"]


def test_untrusted_ca(lab: LabInfo, tmp_path: Path) -> None:
    tls_id = f"tls.handshake[127.0.0.1:{lab.ldaps_port}]"
    strict = env_file(lab, tmp_path, LDAP_URL=lab.ldaps_url, LDAP_USE_TLS="1", LDAP_TLS_CHECK_PEER="1")
    _, report, _, _ = run("diagnose", "--env-file", strict, "--ca-file", str(lab.other_ca_cert))
    assert first_failure(report) == (tls_id, "TLS-SELF-SIGNED")
    # Without LDAP_USE_TLS + LDAP_TLS_CHECK_PEER saslauthd accepts the certificate: a warning, and the chain goes on.
    lax = env_file(lab, tmp_path, LDAP_URL=lab.ldaps_url)
    code, report, _, _ = run("diagnose", "--env-file", lax, "--ca-file", str(lab.other_ca_cert))
    tls = step(report, tls_id)
    assert code == 0
    assert (tls["status"], tls["failure_id"]) == ("warn", "TLS-SELF-SIGNED")
    assert "BAD" in tls["summary"] and "TLS_REQCERT allow" in tls["summary"]
    assert step(report, "ldap.service_bind")["status"] == "pass"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA of our own (key kept) to issue bad server certificates."""
    d = tmp_path_factory.mktemp("ca")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=hostchain test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )
    return d


def issue(ca: Path, out: Path, san: str, *, start: str | None = None, end: str | None = None) -> Path:
    """A server cert/key pair in `out` (mounted at /certs), with SAN `san`; `start`/`end` as YYYYMMDDHHMMSSZ."""
    out.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=ldap test",
        "-keyout",
        str(out / "server.key"),
        "-out",
        str(out / "server.csr"),
        cwd=ca,
    )
    (out / "ext.cnf").write_text(f"basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName={san}\n")
    if start is None:
        _openssl(
            "x509",
            "-req",
            "-in",
            str(out / "server.csr"),
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            str(out / "ext.cnf"),
            "-out",
            str(out / "server.crt"),
            cwd=ca,
        )
    else:
        (out / "index.txt").write_text("")
        (out / "serial").write_text("1000\n")
        (out / "ca.cnf").write_text(
            f"[ca]\ndefault_ca=d\n[d]\ndatabase={out}/index.txt\nnew_certs_dir={out}\nserial={out}/serial\n"
            "default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n"
        )
        _openssl(
            "ca",
            "-batch",
            "-notext",
            "-config",
            str(out / "ca.cnf"),
            "-cert",
            "ca.crt",
            "-keyfile",
            "ca.key",
            "-in",
            str(out / "server.csr"),
            "-out",
            str(out / "server.crt"),
            "-startdate",
            start,
            "-enddate",
            end or start,
            "-extfile",
            str(out / "ext.cnf"),
            cwd=ca,
        )
    (out / "ca.crt").write_text((ca / "ca.crt").read_text())
    for f in out.iterdir():
        f.chmod(0o644)  # slapd in the container copies them as root; the key never leaves tmp
    return out


@contextlib.contextmanager
def extra_openldap(tmp_path: Path, *, certs: Path | None = None, **env: str) -> Iterator[Any]:
    """A small extra OpenLDAP (own ports, 10 users) with mounted certificates or extra entrypoint options."""
    spec = new_spec(f"hostchain-{os.getpid()}-{time.monotonic_ns() % 10**6}", 10)
    paths = LabPaths(tmp_path / "extra-lab")
    prepare_files(spec, paths)
    plan = openldap_plan(spec, paths, extra_env=env)
    if certs is not None:
        plan = replace(plan, mounts=(*plan.mounts, Mount(str(certs), "/certs", "ro")))
    container = run_container(docker_client(), plan)
    try:
        wait_for_bind(container, spec.ldap_port, spec.bind_dn, spec.bind_password)
        values = spec.jitsi_env()
        yield spec, values
    finally:
        container.remove(force=True)


def test_hostname_mismatch(tmp_path: Path, test_ca: Path) -> None:
    certs = issue(test_ca, tmp_path / "certs", "DNS:ldap.wrong.example")
    with extra_openldap(tmp_path, certs=certs) as (spec, values):
        values.update(LDAP_URL=spec.ldaps_url, LDAP_USE_TLS="1", LDAP_TLS_CHECK_PEER="1")
        path = tmp_path / "x.env"
        write_env_file(path, values)
        _, report, _, _ = run("diagnose", "--env-file", str(path), "--ca-file", str(test_ca / "ca.crt"))
    tls_id = f"tls.handshake[127.0.0.1:{spec.ldaps_port}]"
    assert first_failure(report) == (tls_id, "TLS-HOSTNAME")
    assert "ldap.wrong.example" in step(report, tls_id)["summary"]


def test_expired_certificate(tmp_path: Path, test_ca: Path) -> None:
    certs = issue(test_ca, tmp_path / "certs", "IP:127.0.0.1", start="20200101000000Z", end="20210101000000Z")
    with extra_openldap(tmp_path, certs=certs) as (spec, values):
        values.update(LDAP_URL=spec.ldaps_url, LDAP_USE_TLS="1", LDAP_TLS_CHECK_PEER="1")
        path = tmp_path / "x.env"
        write_env_file(path, values)
        _, report, _, _ = run("diagnose", "--env-file", str(path), "--ca-file", str(test_ca / "ca.crt"))
    tls_id = f"tls.handshake[127.0.0.1:{spec.ldaps_port}]"
    assert first_failure(report) == (tls_id, "TLS-EXPIRED")
    assert step(report, tls_id)["detail"]["days_left"] < 0


def test_starttls_not_offered(tmp_path: Path) -> None:
    with extra_openldap(tmp_path, LDAP_TLS="0", LDAPS_PORT="0") as (spec, values):
        values.update(LDAP_START_TLS="1")
        path = tmp_path / "x.env"
        write_env_file(path, values)
        _, report, _, _ = run("diagnose", "--env-file", str(path))
    assert first_failure(report) == (f"tls.handshake[127.0.0.1:{spec.ldap_port}]", "TLS-STARTTLS-UNSUPPORTED")


# --- saslauthd and several servers in LDAP_URL (issue item 3) ------------------------------------------------


def test_saslauthd_does_not_fail_over_from_a_server_that_never_answers(
    lab: LabInfo, prosody_factory: Any, silent_server: int
) -> None:
    """Real saslauthd (libldap): the first URL accepts TCP and hangs → NO after its 2 x 5 s, the second is not tried."""
    from ldapcheck.lab.probe import probe_saslauthd

    container, info = prosody_factory({"LDAP_URL": f"ldap://127.0.0.1:{silent_server} {lab.ldap_url}"})
    start = time.monotonic()
    answer = probe_saslauthd(container, "alice", lab.users["alice"], realm=info.xmpp_domain)
    elapsed = time.monotonic() - start
    assert not answer.ok and "NO" in answer.stdout, answer
    # lak waits ldap_timeout (5 s), retries once, then answers NO: about 10 s.
    assert elapsed >= 8, f"answered after {elapsed:.1f} s: it did not wait for the hanging server"


def test_saslauthd_fails_over_from_a_server_that_refuses(lab: LabInfo, prosody_factory: Any) -> None:
    """Real saslauthd (libldap): a refused connection to the first URL → the second server answers, login OK."""
    from ldapcheck.lab.probe import probe_saslauthd

    port = free_port()
    container, info = prosody_factory({"LDAP_URL": f"ldap://127.0.0.1:{port} {lab.ldap_url}"})
    answer = probe_saslauthd(container, "alice", lab.users["alice"], realm=info.xmpp_domain)
    assert answer.ok, answer


def test_host_chain_reports_no_failover_when_the_first_server_hangs(
    lab: LabInfo, tmp_path: Path, silent_server: int
) -> None:
    path = env_file(lab, tmp_path, LDAP_URL=f"ldap://127.0.0.1:{silent_server} {lab.ldap_url}")
    code, report, _, _ = run("diagnose", "--env-file", path, "--timeout", "2")
    assert code == 1
    assert first_failure(report) == (f"net.plain[127.0.0.1:{silent_server}]", "NET-TIMEOUT")
    select = step(report, "net.select")
    assert (select["status"], select["failure_id"]) == ("fail", "NET-NO-FAILOVER")
    assert "does not fail over" in select["hint"]
    # The facts are not in the JSON report: read them from the chain itself.
    from ldapcheck.auth.ldap import chain
    from ldapcheck.auth.ldap.settings import from_env, read_env_file

    settings = from_env(read_env_file(path)).with_overrides(timeout=2.0)
    result = chain.run_chain("diagnose", chain.diagnose_steps, settings, chain.ChainOptions())
    facts = next(s.facts for s in result.steps if s.id == "net.select")
    assert facts == {"link": "tcp", "net": "timeout"}


# --- values as saslauthd reads them; client-side refusals (issue item 9) -------------------------------------


def test_quoted_leading_space_in_the_base_is_dropped_like_saslauthd_does(lab: LabInfo, tmp_path: Path) -> None:
    # The value as Compose reads it; the lab's writer quotes it, so the file says LDAP_BASE=' dc=…'.
    path = env_file(lab, tmp_path, LDAP_BASE=f" {lab.users_base}")
    assert f"LDAP_BASE=' {lab.users_base}'\n" in Path(path).read_text(encoding="utf-8")
    code, report, _, _ = run("user", "alice", "--env-file", path, "--password-stdin", stdin=lab.users["alice"] + "\n")
    assert code == 0, json.dumps(report, indent=1)[:3000]
    assert step(report, "ldap.base")["detail"]["base"] == lab.users_base


def test_password_stdin_with_a_windows_line_end(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path)
    code, report, _, _ = run("user", "alice", "--env-file", path, "--password-stdin", stdin=lab.users["alice"] + "\r\n")
    assert code == 0, json.dumps(report, indent=1)[:3000]
    assert step(report, "ldap.user_bind")["status"] == "pass"


def test_password_with_a_control_character_is_a_client_refusal(lab: LabInfo, tmp_path: Path) -> None:
    path = env_file(lab, tmp_path)
    code, report, raw, _ = run("user", "alice", "--env-file", path, "--password-stdin", stdin="pw\x07x\n")
    assert code == 1
    assert first_failure(report) == ("ldap.user_bind", "CL-SASLPREP")
    assert "the user's password" in step(report, "ldap.user_bind")["hint"]
    assert "pw\x07x" not in raw


# --- the .env's gates in front of saslauthd (issue item 5) ---------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "failure_id"),
    [({"ENABLE_AUTH": "0"}, "JM-AUTH-TYPE"), ({"AUTH_TYPE": "LDAP"}, "JM-AUTH-TYPE")],
)
def test_a_closed_gate_fails_the_settings_step(
    lab: LabInfo, tmp_path: Path, overrides: dict[str, str], failure_id: str
) -> None:
    path = env_file(lab, tmp_path, **overrides)
    code, report, _, _ = run("diagnose", "--env-file", path, "--user", "alice", "--no-bind")
    assert code == 1
    assert first_failure(report) == ("config.parse", failure_id)
    assert step(report, "ldap.service_bind")["status"] == "pass"  # the directory is still diagnosed


def test_saslauthd_logs_in_over_plain_ldap_with_use_tls(lab: LabInfo, prosody_factory: Any, tmp_path: Path) -> None:
    """LDAP_USE_TLS=1 on an ldap:// URL only adds TLS settings: the real saslauthd still says OK (in clear text)."""
    from ldapcheck.lab.probe import probe_saslauthd

    assert lab.ldap_url.startswith("ldap://")
    container, info = prosody_factory({"LDAP_USE_TLS": "1", "LDAP_START_TLS": "0"})
    assert "ldap_tls_cert" in info.saslauthd_conf_text or "ldap_tls" in info.saslauthd_conf_text
    answer = probe_saslauthd(container, "alice", lab.users["alice"], realm=info.xmpp_domain)
    assert answer.ok, answer
    path = env_file(lab, tmp_path, LDAP_USE_TLS="1", LDAP_START_TLS="0")
    _, report, _, _ = run("diagnose", "--env-file", path)
    settings = step(report, "config.parse")
    assert (settings["status"], settings["failure_id"]) == ("warn", "TLS-USE-TLS-SCHEME")
