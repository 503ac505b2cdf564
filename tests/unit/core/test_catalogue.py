"""The failure catalogue: every id has an entry, lookups of open-ended ids, and every id the code emits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ldapcheck.core import catalogue


def _words(text: str) -> list[str]:
    return text.split()


# Every id the code emitted before the restructuring (grep of src/ldapcheck), plus the ones added for the
# upcoming work. Each must have an entry.
IDS_IN_USE = _words(
    """
LDAP-SERVER-DOWN NET-TIMEOUT SA-ENTRY-COUNT RC-49 JM-AUTH-TYPE TLS-STARTTLS-UNSUPPORTED TLS-SELF-SIGNED TLS-EXPIRED
OL-PPOLICY JM-ENV-ESCAPE NET-REFUSED JM-STALE-CONFIG CL-FILTER TLS-HOSTNAME SA-TOKENS SA-SOCKET SA-CONF-INVALID RC-53
NET-PROTO-MISMATCH NET-DNS NET-CONTAINER JM-RECREATE TLS-CA-PATH JM-CUSTOM-CONF AD-775 AD-773 AD-701 AD-533
TLS-USE-TLS-SCHEME TLS-STARTTLS-ON-LDAPS TLS-PEER-UNCHECKED TLS-CIPHERS TLS-CHAIN SA-OPAQUE-NO RC-50 RC-48 RC-4 RC-34
RC-32 RC-3 OL-ANON-ACL LINT-URL-SCHEME LINT-TLS-IGNORED LINT-FILTER-TOKEN LINT-BOOL-WORD LINT-BINDPW-MISSING
LDAPCHECK-INTERNAL DOCKER-UNAVAILABLE DIR-NOT-CHECKED AD-52E TLS-HANDSHAKE SEC-PLAINTEXT SEC-PASSWORD-READABLE
SEC-ANON-READ SA-QUOTES SA-DISAGREE SA-CONF-EMPTY SA-CACHE SA-BINDPW-UNWRITTEN RC-8 RC-2 RC-13 RC-10 OL-UNAUTH-BIND
OL-SIZELIMIT LOGIN-SPACE LOGIN-NONASCII LOGIN-ESCAPED LOGIN-AT LINT-URL-MISSING LINT-TRAILING-SPACE
LINT-SHELL-OVERRIDE LINT-LINE-BREAK LINT-LEADING-SPACE LINT-LDAP-OFF LINT-ENABLE-AUTH LINT-DUPLICATE-KEY
LINT-BASE-MISSING LINT-AUTH-METHOD JM-SASL-APP-CONF JM-IMAGE DOCKER-STOPPED DOCKER-NO-CONTAINER DOCKER-EXEC
DOCKER-AMBIGUOUS DIR-NO-LOGIN-ATTR AD-FILTER-UID AD-568 AD-532 AD-531 AD-530 AD-52F AD-525
"""
)

IDS_NEW = _words(
    """
CL-DN-SYNTAX CL-SASLPREP NET-NO-FAILOVER SA-CONF-PERMS SA-CONF-DEFAULTS DOCKER-NOT-PROSODY
INT-NOUSER INT-DOMAIN INT-CFGPATH INT-MODE-STILL-TOKEN INT-BADPASS INT-JID-TYPED INT-DISABLED
GUEST-NOHOST GUEST-WAITING GUEST-OFF-PROMPT GUEST-LOGIN-LOOP
JICOFO-AUTH-OFF JICOFO-LOGINURL JICOFO-AUTOLOGIN ENV-SPLIT XMPP-DOMAIN-CUSTOM
JWT-SIG JWT-ALG JWT-TYP JWT-ISS JWT-AUD JWT-EXP JWT-NBF JWT-ROOMCLAIM JWT-ROOM JWT-SUB JWT-KID JWT-KEYSERVER
JWT-FORMAT JWT-EMPTY JWT-CONFIG JWT-SECRET-TOBOOL JWT-MODULE JWT-CLOCK JWT-GUESTS-MIX JWT-ALL-MODERATOR
JWT-EMPTY-CREATES JWT-ASAP-HEADER JWT-KID-ALG JWT-KEY JWT-SIGNTYPE JWT-NUMERIC JWT-CONTEXT JWT-JOIN JWT-TENANT
HOST-SASL-GROUP HOST-SASLAUTHD-OFF HOST-MECH HOST-CONF-UNLINKED HOST-LUA-LIB HOST-SERVICE
WEB-BOSH WEB-WS XMPP-SASL XMPP-NOMECH
"""
)

PLACEHOLDERS = ("TODO", "FIXME", "TBD", "XXX", "lorem")


def _constants() -> dict[str, str]:
    """Public module-level str constants: the ids."""
    return {
        name: value
        for name, value in vars(catalogue).items()
        if not name.startswith("_") and name.isupper() and isinstance(value, str)
    }


def test_every_constant_is_an_entry_with_its_id_and_family() -> None:
    constants = _constants()
    assert constants
    for name, value in constants.items():
        assert name == value.replace("-", "_"), name
        entry = catalogue.ENTRIES[value]
        assert entry.id == value
        assert entry.family in catalogue.FAMILIES
        assert catalogue.family_of(value) == entry.family


def test_every_entry_has_a_constant() -> None:
    constants = set(_constants().values())
    assert set(catalogue.ENTRIES) == constants


def test_family_is_the_prefix_except_ldap_server_down() -> None:
    for entry in catalogue.ENTRIES.values():
        expected = "NET" if entry.id == catalogue.LDAP_SERVER_DOWN else entry.id.partition("-")[0]
        assert entry.family == expected, entry.id


@pytest.mark.parametrize("failure_id", IDS_IN_USE + IDS_NEW)
def test_every_listed_id_has_an_entry(failure_id: str) -> None:
    assert failure_id in catalogue.ENTRIES
    assert catalogue.lookup(failure_id) is catalogue.ENTRIES[failure_id]


def test_texts() -> None:
    for entry in catalogue.ENTRIES.values():
        assert 0 < len(entry.title) <= 60, entry.id
        assert entry.title == entry.title.strip()
        for text in (entry.meaning, entry.fix):
            assert text.strip() == text and text.endswith((".", ")", "`")), entry.id
        for text in (entry.title, entry.meaning, entry.fix):
            assert not any(p in text for p in PLACEHOLDERS), entry.id
            assert text.isascii(), entry.id


def test_a_password_variable_in_a_fix_says_where_it_comes_from() -> None:
    for entry in catalogue.ENTRIES.values():
        if "$PW" in entry.fix:
            assert "read -rs PW" in entry.fix, entry.id


def test_lookup_result_codes() -> None:
    success = catalogue.lookup("RC-0")
    assert success is not None and success.id == "RC-0" and success.family == "RC"
    assert "success" in success.meaning
    assert catalogue.lookup("RC-49") is catalogue.ENTRIES["RC-49"]
    assert catalogue.lookup("rc-49") is catalogue.ENTRIES["RC-49"]
    assert catalogue.lookup("RC-049") is catalogue.ENTRIES["RC-49"]
    busy = catalogue.lookup("RC-51")
    assert busy is not None and busy.id == "RC-51" and "busy" in busy.meaning
    assert catalogue.lookup("RC-123") is not None
    # Not a registered result code (4096 is RFC 4533's e-syncRefreshRequired, not needed here): unknown.
    assert catalogue.lookup("RC-4096") is None
    assert catalogue.lookup("RC-9") is None
    assert catalogue.lookup("RC-") is None
    assert catalogue.lookup("RC-4x") is None
    assert catalogue.lookup("RC--1") is None


def test_every_registered_result_code_has_an_entry() -> None:
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 32, 33, 34, 36):
        assert catalogue.lookup(f"RC-{code}") is not None, code
    for code in (48, 49, 50, 51, 52, 53, 54, 64, 65, 66, 67, 68, 69, 71, 80, 118, 119, 120, 121, 122, 123):
        assert catalogue.lookup(f"RC-{code}") is not None, code
    assert catalogue.result_name(49) == "invalidCredentials"
    assert catalogue.result_name(4096) == "result 4096"


def test_lookup_ad_subcodes() -> None:
    for data in ("525", "52e", "52f", "530", "531", "532", "533", "568", "701", "773", "775"):
        entry = catalogue.lookup(f"AD-{data}")
        assert entry is not None and entry.id == f"AD-{data.upper()}", data
    assert catalogue.lookup("AD-52e") is catalogue.ENTRIES["AD-52E"]
    assert catalogue.lookup("ad-052E") is catalogue.ENTRIES["AD-52E"]
    assert catalogue.lookup("AD-52D") is None
    assert catalogue.lookup("AD-0x52e") is None
    assert catalogue.lookup("AD-filter-uid") is catalogue.ENTRIES["AD-FILTER-UID"]


def test_lookup_unknown_and_aliases() -> None:
    assert catalogue.lookup("NOPE-1") is None
    assert catalogue.lookup("") is None
    assert catalogue.lookup("NET-") is None
    for alias, target in catalogue.ALIASES.items():
        assert alias not in catalogue.ENTRIES
        assert catalogue.lookup(alias) is catalogue.ENTRIES[target]
    assert catalogue.lookup(" jwt-notoken ") is catalogue.ENTRIES["JWT-EMPTY"]


def test_family_of() -> None:
    assert catalogue.family_of("LDAP-SERVER-DOWN") == "NET"
    assert catalogue.family_of("RC-51") == "RC"
    assert catalogue.family_of("ad-52e") == "AD"
    assert catalogue.family_of("LDAPCHECK-INTERNAL") == "LDAPCHECK"
    assert catalogue.family_of("JWT-SOMETHING-NEW") == "JWT"
    assert catalogue.family_of("NOPE-1") == ""


def test_all_ids() -> None:
    ids = catalogue.all_ids()
    assert sorted(ids) == sorted(catalogue.ENTRIES)
    order = list(catalogue.FAMILIES)
    positions = [order.index(catalogue.ENTRIES[i].family) for i in ids]
    assert positions == sorted(positions)
    rc = [i for i in ids if i.startswith("RC-")]
    assert rc == sorted(rc, key=lambda i: int(i[3:]))
    ad = [i for i in ids if i.startswith("AD-")]
    assert ad[:3] == ["AD-525", "AD-52E", "AD-52F"] and ad[-1] == "AD-FILTER-UID"


def test_entries_are_frozen() -> None:
    entry = catalogue.ENTRIES["RC-49"]
    with pytest.raises(AttributeError):
        entry.title = "x"  # type: ignore[misc]


def test_import_is_cheap() -> None:
    """Importing pulls in no other ldapcheck module (but the value-class decorator, itself import-free) and no
    `dataclasses`, and the module holds no compiled regular expression."""
    code = (
        "import sys; import ldapcheck.core; before = set(sys.modules); import ldapcheck.core.catalogue; "
        "new = set(sys.modules) - before - {'ldapcheck.core.catalogue', 'ldapcheck.core.record'}; "
        "assert 'dataclasses' not in sys.modules; "
        "assert not any(m.startswith('ldapcheck') for m in new), new"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert not any(type(v).__name__ == "Pattern" for v in vars(catalogue).values())


ROOT = Path(__file__).resolve().parents[3]
_FAMILIES = "NET|TLS|RC|AD|OL|SA|JM|DOCKER|DIR|LOGIN|SEC|LINT|CL|ENV|XMPP|WEB|JICOFO|INT|GUEST|JWT|HOST|LDAP|LDAPCHECK"
_ID_LITERAL = rf'"((?:{_FAMILIES})-[A-Z0-9-]+)"'


def test_the_code_names_ids_through_the_catalogue() -> None:
    """Steps and rules use the catalogue's constants (`ids.RC_49`), each of them an entry; no bare id literal."""
    import re

    used: set[str] = set()
    literals: set[str] = set()
    for path in (ROOT / "ldapcheck").rglob("*.py"):
        if path.name == "catalogue.py":
            continue
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bids\.([A-Z][A-Z0-9_]+)\b", text))
        code = re.sub(r'"""(?:.|\n)*?"""', "", text)  # docstrings may show an id as an example
        literals |= set(re.findall(_ID_LITERAL, code))
    assert len(used) > 50
    assert sorted(n for n in used if getattr(catalogue, n, None) not in catalogue.ENTRIES) == []
    assert sorted(literals) == []


def test_readme_ids_are_in_the_catalogue() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Failure ids", 1)[1].split("\n## ", 1)[0]
    ids = set(re.findall(r"`([A-Z]{2,9}-[A-Z0-9]+(?:-[A-Z0-9]+)*)`", table))
    assert ids, "the README lists no failure id"
    assert sorted(i for i in ids if catalogue.lookup(i) is None) == []
