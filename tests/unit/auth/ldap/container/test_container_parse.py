"""Parsing what the in-container scripts print, and reading configs the way saslauthd, libsasl and prosody do."""

from __future__ import annotations

import pytest

from ldapcheck.auth.ldap.container import files as configs
from ldapcheck.auth.ldap.container import probe
from ldapcheck.core.secrets import MASK
from ldapcheck.jitsi.container import facts
from ldapcheck.jitsi.prosody import parse_prosody_hosts


def payload(header: str, body: str) -> str:
    """A record with a payload: the header ends in the body's byte length; raw bytes and a newline follow."""
    return f"{header} {len(body.encode())}\n{body}"


SASLAUTHD_ARGV = "saslauthd\n-a\nldap\n-O\n/run/saslauthd.conf\n-c\n-m\n/var/run/saslauthd\n-n\n5\n-d"
PROSODY_ARGV = "lua5.4\n/usr/bin/prosody\n-F\n--config\n/run/prosody/config/prosody.cfg.lua"
FACTS_OUTPUT = "\n".join(
    [
        "noise before the records",
        payload("@@proc 45 0", SASLAUTHD_ARGV),
        payload("@@proc 60 100", PROSODY_ARGV),
        payload("@@file /run/saslauthd.conf", "ldap_servers: ldap://h/\n@@done fake record inside a file\n"),
        payload("@@file /empty", ""),
        "@@missing /etc/saslauthd.conf",
        payload("@@dir /run/prosody/config/certs", "meet.jitsi.crt\nmeet.jitsi.key"),
        "@@stat /var/run/saslauthd 777 root root directory",
        "@@stat /var/run/saslauthd/mux 777 root root socket",
        "@@user prosody 100 102 prosody,sasl",
        "@@bin testsaslauthd /usr/sbin/testsaslauthd",
        "@@bin lua5.4 -",
        payload("@@dns ldap.example.org 0", "10.0.0.5      ldap.example.org"),
        payload("@@dns nowhere.invalid 2", ""),
        "@@tcp ldap.example.org 636 0 12",
        "@@tcp ldap.example.org 389 124 5004",
        "@@tcp old.bash.example 389 0 ",
        "@@done",
    ]
)


def test_facts_parse_every_record_kind() -> None:
    f = facts.parse(FACTS_OUTPUT)
    assert f.complete
    assert f.files["/run/saslauthd.conf"] == "ldap_servers: ldap://h/\n@@done fake record inside a file\n"
    assert f.files["/empty"] == ""
    assert f.missing == {"/etc/saslauthd.conf"}
    assert f.dirs["/run/prosody/config/certs"] == ["meet.jitsi.crt", "meet.jitsi.key"]
    assert f.stats["/var/run/saslauthd/mux"] == facts.FileStat("777", "root", "root", "socket")
    assert f.users["prosody"] == (100, 102, ("prosody", "sasl"))
    assert f.has_binary("testsaslauthd") and not f.has_binary("lua5.4")
    assert f.dns["ldap.example.org"] == (0, "10.0.0.5      ldap.example.org")
    assert f.dns["nowhere.invalid"] == (2, "")
    assert f.tcp[("ldap.example.org", 636)] == 0
    assert f.tcp[("ldap.example.org", 389)] == 124
    assert f.net_ms == {("ldap.example.org", 636): 12.0, ("ldap.example.org", 389): 5004.0}  # none without bash 5
    assert f.tcp[("old.bash.example", 389)] == 0
    assert [p.pid for p in f.saslauthd()] == [45]
    assert [p.name for p in f.prosody()] == ["prosody"]


def test_facts_without_done_marker_are_incomplete() -> None:
    assert not facts.parse("@@missing /x\n").complete


def test_saslauthd_options_upstream_command_line() -> None:
    argv = ["saslauthd", "-a", "ldap", "-O", "/run/saslauthd.conf", "-c", "-m", "/var/run/saslauthd", "-n", "5", "-d"]
    opts = facts.saslauthd_options(argv)
    assert opts.mechanism == "ldap"
    assert opts.conf_path == "/run/saslauthd.conf"
    assert opts.cache and opts.debug and not opts.append_realm
    assert opts.workers == "5"
    assert opts.socket == "/var/run/saslauthd/mux"


def test_saslauthd_options_clustered_and_attached_arguments() -> None:
    opts = facts.saslauthd_options(["/usr/sbin/saslauthd", "-cd", "-aldap", "-O/etc/x.conf", "-m", "/run/s/", "-r"])
    assert (opts.cache, opts.debug, opts.append_realm) == (True, True, True)
    assert opts.mechanism == "ldap"
    assert opts.conf_path == "/etc/x.conf"
    assert opts.socket == "/run/s/mux"


def test_saslauthd_options_defaults_without_O_and_c() -> None:
    opts = facts.saslauthd_options(["saslauthd", "-a", "ldap"])
    assert opts.conf_path == "/etc/saslauthd.conf"
    assert not opts.cache
    assert opts.socket == "/var/run/saslauthd/mux"


def test_lak_parser_ignores_only_what_saslauthd_ignores() -> None:
    text = (
        "# comment\n"
        "\n"
        "   \t \n"
        "   # indented comment\n"
        "  LDAP_Servers: ldap://a/\n"
        "ldap_filter:   uid=%u  \n"
        "ldap_search_base: ou=x#literal\n"
    )
    conf = configs.parse_lak(text)
    assert conf.errors == []
    assert conf.entries == [
        ("ldap_servers", "ldap://a/"),
        ("ldap_filter", "uid=%u  "),  # trailing whitespace is part of the value
        ("ldap_search_base", "ou=x#literal"),
    ]


def test_lak_parser_collects_lines_that_break_the_whole_file() -> None:
    conf = configs.parse_lak("ldap_search_base: \nldap servers: x\nno colon here\nldap_filter: uid=%u\n")
    assert conf.errors == ["ldap_search_base: ", "ldap servers: x", "no colon here"]
    assert conf.values == {"ldap_filter": "uid=%u"}


def test_lak_parser_later_keys_win_and_carriage_return_stays() -> None:
    conf = configs.parse_lak("ldap_filter: a\r\nldap_filter: b\n")
    assert conf.get("ldap_filter") == "b"
    assert configs.parse_lak("ldap_filter: a\r\n").get("ldap_filter") == "a\r"


def test_masked_diff_equal_configs_is_empty_and_whitespace_lines_do_not_matter() -> None:
    a = configs.parse_lak("ldap_bind_pw: s3cret-one\nldap_filter: uid=%u\n")
    b = configs.parse_lak("\n\n  \nldap_bind_pw: s3cret-one\n# x\nldap_filter: uid=%u\n")
    assert configs.masked_diff(a, b, actual_label="a", expected_label="b") == ""
    assert configs.differing_keys(a, b) == []


def test_masked_diff_shows_a_changed_password_without_revealing_it() -> None:
    actual = configs.parse_lak("ldap_bind_pw: old-secret-value\nldap_filter: uid=%u\n")
    expected = configs.parse_lak("ldap_bind_pw: new-secret-value\nldap_filter: (uid=%u)\n")
    diff = configs.masked_diff(actual, expected, actual_label="/run/saslauthd.conf", expected_label="rendered")
    assert "secret-value" not in diff
    assert f"-ldap_bind_pw: {MASK} (value #1)" in diff
    assert f"+ldap_bind_pw: {MASK} (value #2)" in diff
    assert "+ldap_filter: uid=%u" in diff
    # `uid=%u` and `(uid=%u)` are the same filter to saslauthd's libldap: only the password differs.
    assert configs.differing_keys(actual, expected) == ["ldap_bind_pw"]


def test_keys_left_out_compare_at_saslauthds_defaults() -> None:
    rendered = configs.parse_lak(
        "ldap_servers: ldap://ldap/\nldap_search_base: ou=people\nldap_filter: uid=%u\n"
        "ldap_version: 3\nldap_auth_method: bind\n"
    )
    mounted = configs.parse_lak("ldap_servers: ldap://ldap/\nldap_search_base: ou=people\n")
    assert configs.differing_keys(mounted, rendered) == []
    assert configs.defaulted_keys(mounted, rendered) == ["ldap_auth_method", "ldap_filter", "ldap_version"]
    # spelled differently, read the same way by lak
    spelled = configs.parse_lak(
        "ldap_servers: ldap://ldap/\nldap_search_base: ou=people\nldap_filter: (uid=%u)\n"
        "ldap_version: 3\nldap_auth_method: BIND\nldap_start_tls: no\nldap_size_limit: 1\n"
    )
    assert configs.differing_keys(spelled, rendered) == []
    assert configs.defaulted_keys(spelled, rendered) == ["ldap_size_limit", "ldap_start_tls"]
    assert configs.respelled_keys(spelled, rendered) == ["ldap_auth_method", "ldap_filter"]


def test_keys_left_out_that_the_env_sets_otherwise_still_differ() -> None:
    rendered = configs.parse_lak("ldap_servers: ldap://ldap/\nldap_filter: (cn=%u)\nldap_version: 2\n")
    mounted = configs.parse_lak("ldap_servers: ldap://ldap/\n")
    assert configs.differing_keys(mounted, rendered) == ["ldap_filter", "ldap_version"]
    assert configs.defaulted_keys(mounted, rendered) == []
    # a bind DN is no default: leaving it out is an anonymous bind
    with_bind = configs.parse_lak("ldap_servers: ldap://ldap/\nldap_bind_dn: cn=svc\nldap_bind_pw: x\n")
    assert configs.differing_keys(mounted, with_bind) == ["ldap_bind_dn", "ldap_bind_pw"]


def test_sasl_app_conf_and_search_order() -> None:
    values = configs.parse_sasl_app_conf("# c\npwcheck_method: saslauthd\nmech_list:  PLAIN \n")
    assert values == {"pwcheck_method": "saslauthd", "mech_list": "PLAIN"}
    present = {"/etc/sasl/xmpp.conf": "", "/usr/lib/sasl2/xmpp.conf": ""}
    order = [f"{d}/xmpp.conf" for d in facts.SASL_CONF_SEARCH_PATH]
    assert configs.first_found(order, present) == "/etc/sasl/xmpp.conf"
    assert configs.first_found(order, {"/etc/sasl2/xmpp.conf": "", **present}) == "/etc/sasl2/xmpp.conf"
    assert configs.first_found(order, {}) is None


PROSODY_CFG = """
authentication = "internal_hashed" -- global default
VirtualHost "meet.jitsi"
    authentication = "cyrus"
    cyrus_application_name = "xmpp"
    -- authentication = "anonymous"
VirtualHost "guest.meet.jitsi"
    authentication = "jitsi-anonymous"
Component "internal-muc.meet.jitsi" "muc"
    authentication = "ignored"
VirtualHost "plain.example"
"""


def test_prosody_hosts_per_virtualhost_with_global_default() -> None:
    global_settings, hosts = parse_prosody_hosts(PROSODY_CFG)
    assert global_settings["authentication"] == "internal_hashed"
    assert hosts["meet.jitsi"].authentication == "cyrus"
    assert hosts["meet.jitsi"].settings["cyrus_application_name"] == "xmpp"
    assert hosts["guest.meet.jitsi"].authentication == "jitsi-anonymous"
    assert hosts["plain.example"].authentication == "internal_hashed"
    assert "internal-muc.meet.jitsi" not in hosts


def test_probe_output_parse_with_escapes() -> None:
    out = (
        "probe\tok\tLua 5.4\n"
        "service_bind\tok\tcn=svc,dc=x\t5\n"
        "search\tok\t2\t3\tuid=a,dc=x\tuid=a\\tb\\\\c,dc=y\n"
        "user_bind\tfail\tInvalid credentials\t1\n"
        "sasl_connect\tfail\tPermission denied\t0\n"
        "done\tok\n"
    )
    p = probe.parse(out)
    assert p.complete
    assert p.entry_count == 2
    assert p.entries == ["uid=a,dc=x", "uid=a\tb\\c,dc=y"]
    user_bind = p.get("user_bind")
    assert user_bind is not None and not user_bind.ok and user_bind.field(0) == "Invalid credentials"
    assert p.sasl_answer is None
    assert p.ms(*probe.LDAP_RECORDS) == 9.0  # service bind 5 + search 3 + user bind 1
    assert p.ms("sasl_connect", "sasl_reply", "probe") == 0.0  # no reply record; `probe` carries no time


def test_probe_parse_reply_and_incomplete_run() -> None:
    p = probe.parse("sasl_connect\tok\t/var/run/saslauthd/mux\t0\nsasl_reply\tok\tOK\t3\n")
    assert not p.complete
    assert p.sasl_answer == "OK"
    assert probe.classify_reply(p.sasl_answer) == "OK"
    assert probe.classify_reply("NO authentication failed") == "NO"
    assert probe.classify_reply(None) == "NONE"


def test_encode_fields_length_prefixed_so_any_byte_survives() -> None:
    data = probe.encode_fields({"password": "a b\nc\td", "login": "älice"})
    assert data == b"password 7\na b\nc\tdlogin 6\n\xc3\xa4lice\n"


@pytest.mark.parametrize(
    ("stdout", "stderr", "code", "expected"),
    [
        ('0: OK "Success."\n', "", 0, "OK"),
        ('0: NO "authentication failed"\n', "", 255, "NO"),
        ("0: \n", "connect() : No such file or directory\n", 255, "SOCKET"),
        ("0: \n", "connect() : Permission denied\n", 255, "SOCKET"),
        ("", "testsaslauthd: usage: ...", 1, "USAGE"),
    ],
)
def test_testsaslauthd_outputs(stdout: str, stderr: str, code: int, expected: str) -> None:
    result = probe.parse_testsaslauthd(stdout, stderr, code)
    assert result.verdict == expected
    if expected == "SOCKET":
        assert result.reason.startswith("connect() : ")


def test_tls_environment_mirrors_lak_options() -> None:
    conf = configs.parse_lak(
        "ldap_tls_check_peer: yes\nldap_tls_cacert_file: /c/ca.crt\nldap_tls_cert: /c/x.crt\nldap_tls_key: /c/x.key\n"
    )
    assert configs.tls_environment(conf) == {
        "LDAPTLS_REQCERT": "demand",
        "LDAPTLS_CACERT": "/c/ca.crt",
        "LDAPTLS_CERT": "/c/x.crt",
        "LDAPTLS_KEY": "/c/x.key",
    }
    assert configs.tls_environment(configs.parse_lak("ldap_tls_check_peer: no\n")) == {"LDAPTLS_REQCERT": "never"}
    # Absent: /etc/ldap/ldap.conf decides (the image's TLS_REQCERT allow), exactly as for saslauthd.
    assert configs.tls_environment(configs.parse_lak("ldap_servers: ldaps://h/\n")) == {}


def test_facts_tls_file_existence_records() -> None:
    f = facts.parse("@@exists 0 /etc/ssl/my ca.crt\n@@exists 1 /etc/ssl/certs\n@@done\n")
    assert f.exists == {"/etc/ssl/my ca.crt": False, "/etc/ssl/certs": True}


def test_reproduce_lua_literal_survives_quotes_and_backslashes() -> None:
    from ldapcheck.auth.ldap.container.login import _lua_str

    assert _lua_str('cn=a\\,b "q"') == '"cn=a\\\\,b \\"q\\""'
    assert "\n" not in _lua_str("two\nlines")
