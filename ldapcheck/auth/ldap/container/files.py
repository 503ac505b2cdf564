"""Read the container's config files the way their consumers do: saslauthd (lak), libsasl (xmpp.conf)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ldapcheck.adapters.ldap.filter import wrapped
from ldapcheck.core.secrets import MASK

SECRET_KEYS = frozenset({"ldap_bind_pw", "ldap_password"})
_LAK_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class LakConf:
    """saslauthd.conf as lak_config_read sees it: significant `key: value` entries (later keys win)."""

    entries: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def values(self) -> dict[str, str]:
        """Key → value, the last occurrence winning (lak overwrites its field)."""
        return dict(self.entries)

    def get(self, key: str, default: str = "") -> str:
        """One value."""
        return self.values.get(key, default)

    def lines(self) -> list[str]:
        """The normalised lines the parser acts on (`key: value`, key lower-cased)."""
        return [f"{k}: {v}" for k, v in self.entries] + [f"(unparsable) {e}" for e in self.errors]


def parse_lak(text: str) -> LakConf:
    """lak_config_read (cyrus-sasl 2.1.28): skip leading whitespace, blank and `#` lines; `key: value`.

    A key that is not `[A-Za-z0-9_-]+` followed by `:`, or an empty value, makes saslauthd reject the
    whole file (every login then answers NO with no log line): those lines are collected in `errors`.
    """
    conf = LakConf()
    for raw in text.split("\n"):
        line = raw.lstrip(" \t\v\f\r")
        if not line or line.startswith("#"):
            continue
        match = _LAK_KEY.match(line)
        if match is None or line[match.end() : match.end() + 1] != ":":
            conf.errors.append(line)
            continue
        key = match.group(0).lower()
        value = line[match.end() + 1 :].lstrip(" \t")
        if value == "":
            conf.errors.append(line)
            continue
        conf.entries.append((key, value))
    return conf


def _masked_lines(conf: LakConf, numbering: dict[str, int]) -> list[str]:
    out: list[str] = []
    for key, value in conf.entries:
        if key in SECRET_KEYS:
            number = numbering.setdefault(value, len(numbering) + 1)
            value = f"{MASK} (value #{number})"
        out.append(f"{key}: {value}")
    out.extend(f"(unparsable) {line}" for line in conf.errors)
    return out


def masked_diff(actual: LakConf, expected: LakConf, *, actual_label: str, expected_label: str) -> str:
    """A unified diff of the significant lines, secrets replaced by numbered masks (equal values, equal numbers)."""
    numbering: dict[str, int] = {}
    left = _masked_lines(expected, numbering)
    right = _masked_lines(actual, numbering)
    diff = difflib.unified_diff(left, right, fromfile=expected_label, tofile=actual_label, lineterm="", n=1)
    return "\n".join(diff)


# What saslauthd uses for a key its file leaves out (lak_config, cyrus-sasl 2.1.28). Keys without a default
# here (bind DN and password, TLS files, ldap_tls_check_peer) change behaviour by being present at all.
LAK_DEFAULTS: dict[str, str] = {
    "ldap_servers": "ldap://localhost/",
    "ldap_version": "3",
    "ldap_filter": "(uid=%u)",
    "ldap_auth_method": "bind",
    "ldap_timeout": "5",
    "ldap_time_limit": "5",
    "ldap_size_limit": "1",
    "ldap_deref": "never",
    "ldap_referrals": "no",
    "ldap_restart": "yes",
    "ldap_scope": "sub",
    "ldap_start_tls": "no",
}
_LAK_INTS = frozenset({"ldap_version", "ldap_timeout", "ldap_time_limit", "ldap_size_limit"})
_LAK_SWITCHES = frozenset({"ldap_referrals", "ldap_restart", "ldap_start_tls"})
_LAK_WORDS = {
    "ldap_auth_method": (("custom", "fastbind"), "bind"),
    "ldap_deref": (("search", "find", "always", "never"), "never"),
    "ldap_scope": (("one", "base"), "sub"),
}


def _lak_int(value: str) -> str:
    """lak_config_int: atoi of a leading (optionally negative) number, else 0."""
    match = re.match(r"-?\d+", value)
    return str(int(match.group(0))) if match else "0"


def lak_reading(key: str, value: str) -> str:
    """A value as lak reads it, so that two spellings of one setting compare equal."""
    if key == "ldap_filter":
        return wrapped(value)  # libldap takes a bare `uid=%u` as `(uid=%u)`
    if key in _LAK_INTS:
        return _lak_int(value)
    if key in _LAK_SWITCHES:
        return "yes" if lak_bool(value) else "no"
    if key in _LAK_WORDS:
        words, default = _LAK_WORDS[key]
        return value.lower() if value.lower() in words else default
    return value


def effective_values(conf: LakConf) -> dict[str, str]:
    """Every setting saslauthd ends up with: the file's values, saslauthd's defaults for keys it leaves out."""
    values = {**LAK_DEFAULTS, **conf.values}
    return {k: lak_reading(k, v) for k, v in values.items()}


def differing_keys(actual: LakConf, expected: LakConf) -> list[str]:
    """Keys whose effective value differs (added, removed or changed), saslauthd's defaults applied on both sides."""
    a, e = effective_values(actual), effective_values(expected)
    return sorted(k for k in set(a) | set(e) if a.get(k) != e.get(k))


def defaulted_keys(actual: LakConf, expected: LakConf) -> list[str]:
    """Keys that agree only because one side leaves them out and saslauthd's default fills in."""
    a, e = actual.values, expected.values
    agree = set(LAK_DEFAULTS) - set(differing_keys(actual, expected))
    return sorted(k for k in agree if (k in a) != (k in e))


def respelled_keys(actual: LakConf, expected: LakConf) -> list[str]:
    """Keys both sides set, written differently but read the same by lak (`uid=%u` / `(uid=%u)`, `BIND` / `bind`)."""
    a, e = actual.values, expected.values
    return sorted(k for k in set(a) & set(e) if a[k] != e[k] and lak_reading(k, a[k]) == lak_reading(k, e[k]))


def parse_sasl_app_conf(text: str) -> dict[str, str]:
    """libsasl's `<app>.conf`: `key: value` lines, `#` comments; values trimmed."""
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        result[key.strip()] = value.strip()
    return result


def first_found(candidates: Sequence[str], present: Mapping[str, str]) -> str | None:
    """The first path of `candidates` that exists (libsasl stops at the first `<app>.conf` it finds)."""
    return next((path for path in candidates if path in present), None)


def lak_bool(value: str) -> bool:
    """lak's boolean reading: 1, y, on, t … are true; everything else is false."""
    text = value.strip().lower()
    return text.startswith(("1", "y", "on", "t"))


def tls_environment(conf: LakConf) -> dict[str, str]:
    """libldap environment variables equivalent to the TLS options lak sets from saslauthd.conf.

    `ldap_tls_check_peer` is applied only when present (yes → demand, no → never); otherwise
    /etc/ldap/ldap.conf decides, as it does for saslauthd.
    """
    env: dict[str, str] = {}
    peer = conf.get("ldap_tls_check_peer")
    if peer:
        env["LDAPTLS_REQCERT"] = "demand" if lak_bool(peer) else "never"
    mapping = {
        "ldap_tls_cacert_file": "LDAPTLS_CACERT",
        "ldap_tls_cacert_dir": "LDAPTLS_CACERTDIR",
        "ldap_tls_cert": "LDAPTLS_CERT",
        "ldap_tls_key": "LDAPTLS_KEY",
        "ldap_tls_ciphers": "LDAPTLS_CIPHER_SUITE",
    }
    for key, var in mapping.items():
        if conf.get(key):
            env[var] = conf.get(key)
    return env
