"""The lab works end to end: saslauthd, prosody's SASL PLAIN, the seeded directory, and `ldapcheck lab`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import ldap3
import pytest
from ldap3.utils.conv import escape_filter_chars

from ldapcheck.adapters.xmpp import login_c2s
from ldapcheck.lab.envfile import read_env_file
from ldapcheck.lab.probe import probe_saslauthd
from testing.info import LabInfo

pytestmark = pytest.mark.integration


def run_testsaslauthd(container: Any, user: str, password: str, realm: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the upstream diagnostic (the password on argv is acceptable in the lab only)."""
    argv = ["testsaslauthd", "-u", user, "-p", password, "-s", "xmpp", "-r", realm]
    result = container.exec_run(argv, demux=True)
    out, err = result.output
    return result.exit_code, (out or b"").decode(), (err or b"").decode()


def service_connection(lab: LabInfo) -> ldap3.Connection:
    server = ldap3.Server("127.0.0.1", port=lab.ldap_port, connect_timeout=5, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=lab.bind_dn, password=lab.bind_password, receive_timeout=10)
    assert conn.bind(), conn.result
    return conn


def test_testsaslauthd_accepts_alice(lab: LabInfo) -> None:
    code, out, _ = run_testsaslauthd(lab.prosody, "alice", lab.users["alice"], lab.xmpp_domain)
    assert out.strip() == '0: OK "Success."'
    assert code == 0


def test_testsaslauthd_rejects_wrong_password(lab: LabInfo) -> None:
    code, out, _ = run_testsaslauthd(lab.prosody, "alice", "not-" + lab.users["alice"], lab.xmpp_domain)
    assert out.strip() == '0: NO "authentication failed"'
    assert code != 0


def test_lua_probe_answers_like_testsaslauthd(lab: LabInfo) -> None:
    uid, password = lab.generated_user(7)
    good = probe_saslauthd(lab.prosody, uid, password, realm=lab.xmpp_domain)
    bad = probe_saslauthd(lab.prosody, uid, "wrong", realm=lab.xmpp_domain)
    gone = probe_saslauthd(lab.prosody, uid, password, realm=lab.xmpp_domain, socket_path="/nonexistent/mux")
    assert (good.ok, good.stdout.strip()) == (True, '0: OK "Success."')
    assert (bad.ok, bad.stdout.strip()) == (False, '0: NO "authentication failed"')
    assert gone.exit_code == 255
    assert "connect()" in gone.stderr


def test_xmpp_plain_login_succeeds_for_alice(lab: LabInfo) -> None:
    result = login_c2s("127.0.0.1", lab.c2s_port, lab.xmpp_domain, "alice", lab.users["alice"])
    assert result.mechanisms == ("PLAIN",)
    assert result.success, result.raw_reply


def test_xmpp_wrong_password_is_not_authorized(lab: LabInfo) -> None:
    result = login_c2s("127.0.0.1", lab.c2s_port, lab.xmpp_domain, "alice", "wrong-password")
    assert not result.success
    assert result.raw_reply.startswith("<failure")
    assert "<not-authorized/>" in result.raw_reply
    assert result.condition == "not-authorized"


def test_env_file_is_private_and_complete(lab: LabInfo) -> None:
    mode = stat.S_IMODE(lab.env_file.stat().st_mode)
    values = read_env_file(lab.env_file)
    assert mode == 0o600
    assert values["LAB_USER"] == "alice"
    assert values["LAB_PASSWORD"] == lab.users["alice"]
    for key in ("ENABLE_AUTH", "AUTH_TYPE", "XMPP_DOMAIN", "LDAP_URL", "LDAP_BASE", "LDAP_BINDDN", "LDAP_BINDPW"):
        assert values[key] == lab.env[key]
    assert values["LDAP_FILTER"] == "(uid=%u)"
    assert Path(values["LAB_CA_CERT"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_service_account_paged_search_stops_at_500(lab: LabInfo) -> None:
    conn = service_connection(lab)
    entries = conn.extend.standard.paged_search(
        lab.users_base, "(objectClass=inetOrgPerson)", attributes=["uid"], paged_size=200, generator=False
    )
    assert len(entries) == 500
    assert conn.result["result"] == 4  # sizeLimitExceeded, which ldap3 does not raise
    conn.unbind()


def test_admin_sees_every_user(lab: LabInfo, ldap_admin: Any) -> None:
    entries = ldap_admin.extend.standard.paged_search(
        lab.users_base, "(objectClass=inetOrgPerson)", attributes=["uid"], paged_size=500, generator=False
    )
    assert len(entries) > lab.n_users > 1000


def test_seeded_edge_cases(lab: LabInfo, ldap_admin: Any) -> None:
    conn = service_connection(lab)

    def count(filt: str) -> int:
        conn.search(lab.suffix, filt, attributes=["uid", "displayName"])
        return len(conn.entries)

    assert count(f"(uid={escape_filter_chars(lab.special_uid)})") == 1
    assert count(f"(uid={lab.dupe_uid})") == 2
    assert count(f"(uid={lab.at_uid})") == 1
    conn.search(lab.users_base, f"(uid={lab.unicode_uid})", attributes=["displayName"])
    assert conn.entries[0].displayName.value == lab.unicode_name
    ldap_admin.search(lab.users_base, f"(uid={lab.nopass_uid})", attributes=["userPassword"])
    assert ldap_admin.entries[0].userPassword.value is None
    ldap_admin.search(lab.no_uid_dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["uid"])
    assert ldap_admin.entries[0].uid.value is None
    conn.unbind()


def test_locked_user_cannot_bind_with_the_right_password(lab: LabInfo) -> None:
    server = ldap3.Server("127.0.0.1", port=lab.ldap_port, connect_timeout=5, get_info=ldap3.NONE)
    locked = ldap3.Connection(server, f"uid={lab.locked_uid},{lab.users_base}", lab.users[lab.locked_uid])
    bob = ldap3.Connection(server, f"uid=bob,{lab.users_base}", lab.users["bob"])
    assert not locked.bind()
    assert locked.result["result"] == 49
    assert bob.bind()
    bob.unbind()


def test_ldaps_and_starttls_verify_against_the_lab_ca(lab: LabInfo) -> None:
    import ssl

    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(lab.ca_cert))
    ldaps = ldap3.Server("127.0.0.1", port=lab.ldaps_port, use_ssl=True, tls=tls, connect_timeout=5)
    conn = ldap3.Connection(ldaps, lab.bind_dn, lab.bind_password)
    assert conn.bind(), conn.result
    conn.unbind()
    plain = ldap3.Server("127.0.0.1", port=lab.ldap_port, tls=tls, connect_timeout=5)
    conn = ldap3.Connection(plain, lab.bind_dn, lab.bind_password)
    conn.open()
    assert conn.start_tls()
    assert conn.bind()
    conn.unbind()


def test_prosody_factory_wrong_case_auth_type_starts_no_saslauthd(lab: LabInfo, prosody_factory: Any) -> None:
    with prosody_factory({"AUTH_TYPE": "LDAP"}) as (container, info):
        code, out, err = run_testsaslauthd(container, "alice", lab.users["alice"], info.xmpp_domain)
        login = login_c2s("127.0.0.1", info.c2s_port, info.xmpp_domain, "alice", lab.users["alice"])
    assert code != 0
    assert out.strip() == "0:"
    assert "connect() : No such file or directory" in err  # AUTH_TYPE is compared case-sensitively upstream
    assert not login.success
    assert login.condition == "not-authorized"  # prosody's own internal_hashed, which knows no alice


def test_prosody_factory_default_is_a_working_copy(lab: LabInfo, prosody_factory: Any) -> None:
    container, info = prosody_factory()
    assert info.c2s_port != lab.c2s_port
    assert container.labels["com.docker.compose.service"] == "prosody"
    assert login_c2s("127.0.0.1", info.c2s_port, info.xmpp_domain, "bob", lab.users["bob"]).success


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "lab", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_up_status_down_is_idempotent(lab: LabInfo, tmp_path: Path) -> None:
    # `lab` first: the images exist. A project and directory of its own so a developer's lab is never touched.
    env = {
        **os.environ,
        "LDAPCHECK_LAB_DIR": str(tmp_path / "state"),
        "LDAPCHECK_LAB_PROJECT": f"ldapcheck-clitest-{os.getpid()}",
    }
    env_out = tmp_path / "lab.env"
    try:
        first = _cli(["up", "--users", "20", "--env-out", str(env_out)], env)
        assert first.returncode == 0, first.stderr
        assert stat.S_IMODE(env_out.stat().st_mode) == 0o600
        values = read_env_file(env_out)
        secret_values = {values["LAB_PASSWORD"], values["LDAP_BINDPW"], values["LAB_ADMIN_PASSWORD"]}
        again = _cli(["up", "--users", "20"], env)
        assert again.returncode == 0, again.stderr
        assert "already up" in again.stderr
        status = _cli(["status"], env)
        assert status.returncode == 0
        assert f"c2s 127.0.0.1:{values['LAB_C2S_PORT']}" in status.stdout
        login = login_c2s("127.0.0.1", int(values["LAB_C2S_PORT"]), "meet.jitsi", "alice", values["LAB_PASSWORD"])
        assert login.success
        printed = first.stdout + first.stderr + again.stdout + again.stderr + status.stdout + status.stderr
        state_files = [p for p in (tmp_path / "state").rglob("*") if p.is_file() and p.suffix != ".ldif"]
        stored = {p.name: p.read_text() for p in state_files if p.name != "saslauthd.conf"}
        assert not [s for s in secret_values if s in printed]
        assert not [s for s in secret_values for text in stored.values() if s in text]  # state.json holds none
        conf = tmp_path / "state" / "saslauthd.conf"
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600
        assert values["LDAP_BINDPW"] in conf.read_text()
    finally:
        down = _cli(["down"], env)
    assert down.returncode == 0, down.stderr
    assert "removed 4 container(s)" in down.stderr  # openldap, prosody, web, jicofo
    assert not env_out.exists()
    second_down = _cli(["down"], env)
    assert second_down.returncode == 0
    assert "no lab was running" in second_down.stderr
    after = _cli(["status"], env)
    assert after.returncode == 1
    assert "lab: down" in after.stdout


def _tls_handshake_error(port: int, ca_file: Path) -> str | None:
    """None if a verified TLS handshake (hostname 127.0.0.1) succeeds, else the verification error."""
    import socket
    import ssl

    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1"),
        ):
            return None
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message)


def test_openldap_factory_tls_off_offers_no_starttls(openldap_factory: Any) -> None:
    with openldap_factory({"LDAP_TLS": "0"}) as (_, info):
        server = ldap3.Server("127.0.0.1", port=info.ldap_port, connect_timeout=5)
        conn = ldap3.Connection(server, info.bind_dn, info.bind_password)
        conn.open()
        with pytest.raises(ldap3.core.exceptions.LDAPStartTLSError, match="protocolError"):
            conn.start_tls()
        conn.unbind()
        plain = ldap3.Connection(server, info.bind_dn, info.bind_password)
        assert plain.bind()  # plain LDAP still works
        plain.unbind()
        with pytest.raises(OSError):
            import socket

            socket.create_connection(("127.0.0.1", info.ldaps_port), timeout=2).close()


def test_openldap_factory_expired_and_wrong_name_certificates(openldap_factory: Any, lab: LabInfo) -> None:
    with openldap_factory({"LDAP_TLS_DAYS": "-1"}) as (_, expired):
        expired_error = _tls_handshake_error(expired.ldaps_port, expired.ca_cert)
    with openldap_factory({"LDAP_TLS_CN": "ldap.elsewhere.example", "LDAP_TLS_SAN": "DNS:ldap.elsewhere.example"}) as (
        _,
        wrong_name,
    ):
        name_error = _tls_handshake_error(wrong_name.ldaps_port, wrong_name.ca_cert)
        other_ca_error = _tls_handshake_error(wrong_name.ldaps_port, lab.other_ca_cert)
    assert _tls_handshake_error(lab.ldaps_port, lab.ca_cert) is None
    assert expired_error is not None and "expired" in expired_error
    assert name_error is not None and "mismatch" in name_error.lower()
    assert other_ca_error is not None  # slapd also sends the lab CA: "self-signed certificate in certificate chain"


def test_openldap_factory_mounted_certificates_are_used(openldap_factory: Any, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=certs, check=True, capture_output=True, timeout=30)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=Mounted Test CA", "-keyout", "ca.key", "-out", "ca.crt")
    openssl("req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    (certs / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-days", "1",
        "-extfile", "ext", "-out", "server.crt",
    )  # fmt: skip
    with openldap_factory(certs_dir=certs) as (_, info):
        assert _tls_handshake_error(info.ldaps_port, certs / "ca.crt") is None
        assert info.ca_cert.read_text() == (certs / "ca.crt").read_text()  # exported for the host


def test_openldap_factory_anonymous_read_and_unlimited_service_account(openldap_factory: Any, lab: LabInfo) -> None:
    def anonymous_count(port: int) -> int:
        conn = ldap3.Connection(ldap3.Server("127.0.0.1", port=port, connect_timeout=5), auto_bind=True)
        conn.search(lab.users_base, "(uid=alice)", attributes=["uid", "userPassword"])
        found = [(e.entry_dn, e.entry_attributes_as_dict.get("userPassword")) for e in conn.entries]
        conn.unbind()
        assert all(not password for _, password in found)  # passwords are never readable
        return len(found)

    with openldap_factory({"LDAP_ANON_READ": "1", "LDAP_SERVICE_SIZELIMIT": "unlimited"}, n_users=600) as (_, info):
        assert anonymous_count(info.ldap_port) == 1
        conn = service_connection(info)
        entries = conn.extend.standard.paged_search(
            info.users_base, "(objectClass=inetOrgPerson)", attributes=["uid"], paged_size=200, generator=False
        )
        assert len(entries) > 600
        assert conn.result["result"] == 0
        conn.unbind()
    assert anonymous_count(lab.ldap_port) == 0
