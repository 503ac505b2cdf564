"""saslauthd's filter expansion (lak.c 2.1.28 lak_expand_tokens), token by token."""

from __future__ import annotations

import pytest

from ldapcheck.auth.ldap import saslfilter
from ldapcheck.auth.ldap.saslfilter import expand


@pytest.mark.parametrize(
    ("pattern", "user", "expected"),
    [
        ("uid=%u", "alice", "uid=alice"),
        ("(uid=%U)", "alice@example.org", "(uid=alice)"),
        ("(uid=%u)", "alice@example.org", "(uid=alice@example.org)"),
        ("(mail=%U@%d)", "alice@example.org", "(mail=alice@example.org)"),
        ("(mail=%u@%d)", "alice", "(mail=alice@)"),  # %d is empty without '@' (not the realm, despite the doc)
        ("(uid=%u)(r=%r)", "alice", "(uid=alice)(r=meet.jitsi)"),
        ("%u%R", "alice", "alice@meet.jitsi"),
        ("dc=%2,dc=%1", "alice", "dc=meet,dc=jitsi"),  # realm labels from the right
        ("dc=%2,dc=%1", "bob@corp.example.com", "dc=example,dc=com"),  # the user's domain wins over the realm
        ("dc=%3", "alice", "dc="),  # more labels than there are: nothing
        ("(s=%s)", "alice", "(s=xmpp)"),
        ("100%%", "alice", "100%"),
        ("(x=%q)", "alice", "(x=)"),  # unknown token: dropped with its letter
        ("uid=%u%", "alice", "uid=alice%"),  # a trailing lone % is appended once
        ("abc%", "alice", "abcabc%"),  # ... and repeats the text before it (lak's strcat quirk)
    ],
)
def test_tokens(pattern: str, user: str, expected: str) -> None:
    assert expand(pattern, user, realm="meet.jitsi") == expected


def test_escaping_of_filter_metacharacters() -> None:
    assert saslfilter.escape("a*b(c)d\\e\0") == "a\\2ab\\28c\\29d\\5ce\\00"
    assert expand("(uid=%u)", "x*)(uid=*") == "(uid=x\\2a\\29\\28uid=\\2a)"
    assert expand("(cn=%r)", "u", realm="a(b)") == "(cn=a\\28b\\29)"


def test_empty_user_expands_user_tokens_to_nothing() -> None:
    assert expand("(uid=%u)(x=%U)", "", realm="meet.jitsi") == "(uid=)(x=)"


def test_prosody_cuts_at_first_at_and_testsaslauthd_does_not() -> None:
    via_prosody = saslfilter.via_prosody("carol@example.org", "(uid=%u)", "ou=users,dc=%1", "meet.jitsi")
    via_tool = saslfilter.via_testsaslauthd("carol@example.org", "(uid=%u)", "ou=users,dc=%1", "meet.jitsi")
    assert via_prosody.user == "carol"
    assert via_prosody.filter == "(uid=carol)"
    assert via_prosody.base == "ou=users,dc=jitsi"
    assert via_prosody.realm == "meet.jitsi"
    assert via_prosody.service == "xmpp"
    assert via_tool.filter == "(uid=carol@example.org)"
    assert via_tool.base == "ou=users,dc=org"  # %1 comes from the user's domain when it has one


def test_count_filter_turns_user_tokens_into_a_wildcard() -> None:
    assert saslfilter.count_filter("uid=%u", "meet.jitsi") == "(uid=*)"
    assert saslfilter.count_filter("(&(sAMAccountName=%U)(objectClass=user))", "x") == (
        "(&(sAMAccountName=*)(objectClass=user))"
    )


def test_search_base_tokens_are_expanded_like_the_filter() -> None:
    from ldapcheck.auth.ldap.chain import ChainOptions, HostContext
    from ldapcheck.auth.ldap.settings import from_env

    settings = from_env(
        {"LDAP_URL": "ldap://127.0.0.1", "LDAP_BASE": "ou=%U,dc=%2,dc=%1", "XMPP_DOMAIN": "corp.example"}
    )
    assert HostContext(settings=settings).search_base() == "ou=,dc=corp,dc=example"
    with_user = HostContext(settings=settings, options=ChainOptions(user="bob@ignored.org"))
    assert with_user.search_base() == "ou=bob,dc=corp,dc=example"  # prosody cuts at '@': the realm's labels
