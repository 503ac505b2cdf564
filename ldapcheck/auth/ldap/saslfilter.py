"""saslauthd's `ldap_filter` / `ldap_search_base` token expansion, as lak.c (cyrus-sasl 2.1.28) does it.

Tokens: %u user, %U user up to the first '@', %d the part after the first '@' (empty without one),
%r realm, %R '@'+realm, %1-%9 the n-th label from the right of the user's domain (or of the realm),
%s service, %D user DN, %% a percent sign; any other token expands to nothing. Each value is escaped
(`* ( ) \\ NUL` become `\\2a \\28 \\29 \\5c \\00`). A lone trailing '%' repeats the text before it
(a lak quirk kept on purpose: we show what saslauthd sends).
"""

from __future__ import annotations

from ldapcheck.adapters.ldap.filter import wrapped as wrapped  # re-exported: the filter steps use it
from ldapcheck.core.record import record

SERVICE = "xmpp"

_ESCAPES = {"*": "\\2a", "(": "\\28", ")": "\\29", "\\": "\\5c", "\0": "\\00"}


def escape(value: str) -> str:
    """lak_escape: the RFC 4515 escapes for the characters that would change a filter's structure."""
    return "".join(_ESCAPES.get(ch, ch) for ch in value)


def _domain_label(domain: str, n: int) -> str:
    labels = domain.split(".")
    if n > len(labels):
        return ""
    # strtok drops empty labels but lak counts dots: keep its arithmetic.
    index = len(labels) - n
    tokens = [t for t in labels if t]
    return escape(tokens[index]) if index < len(tokens) else ""


def expand(pattern: str, user: str, *, realm: str = "", service: str = SERVICE, dn: str = "") -> str:
    """Expand `pattern` exactly as lak_expand_tokens does."""
    out: list[str] = []
    pos = 0
    at = user.find("@")
    domain = user[at + 1 :] if at >= 0 else ""
    while True:
        mark = pattern.find("%", pos)
        if mark < 0:
            out.append(pattern[pos:])
            break
        out.append(pattern[pos:mark])
        if mark + 1 >= len(pattern):
            out.append(pattern[pos:])  # lak's strcat(buf, ptr) after the break
            break
        token = pattern[mark + 1]
        if token == "%":
            out.append("%")
        elif token == "u" and user:
            out.append(escape(user))
        elif token == "U" and user:
            out.append(escape(user[:at] if at >= 0 else user))
        elif token in "123456789":
            if user and domain:
                out.append(_domain_label(domain, int(token)))
            elif realm:
                out.append(_domain_label(realm, int(token)))
        elif token == "d" and user and domain:
            out.append(escape(domain))
        elif token in "rR" and realm:
            out.append(("@" if token == "R" else "") + escape(realm))
        elif token == "s" and service:
            out.append(escape(service))
        elif token == "D" and dn:
            out.append(escape(dn))
        pos = mark + 2
    return "".join(out)


def prosody_login(typed: str) -> str:
    """The user name prosody hands to Cyrus SASL: the typed login up to its first '@'.

    libsasl then appends '@' + XMPP_DOMAIN, and saslauthd splits at the last '@' again, so lak sees
    user = this value and realm = XMPP_DOMAIN.
    """
    return typed.split("@", 1)[0]


@record
class SaslRequest:
    """What saslauthd's LDAP module receives for one login, and the filter and base it searches with."""

    typed: str
    user: str
    realm: str
    service: str
    filter: str
    base: str


def via_prosody(typed: str, filter_pattern: str, base_pattern: str, xmpp_domain: str) -> SaslRequest:
    """The request a browser login through prosody produces."""
    user = prosody_login(typed)
    return _request(typed, user, filter_pattern, base_pattern, xmpp_domain)


def via_testsaslauthd(typed: str, filter_pattern: str, base_pattern: str, xmpp_domain: str) -> SaslRequest:
    """The request `testsaslauthd -u <typed> -s xmpp -r <XMPP_DOMAIN>` produces (the login is not cut)."""
    return _request(typed, typed, filter_pattern, base_pattern, xmpp_domain)


def _request(typed: str, user: str, filter_pattern: str, base_pattern: str, realm: str) -> SaslRequest:
    flt = expand(filter_pattern, user, realm=realm)
    return SaslRequest(
        typed=typed,
        user=user,
        realm=realm,
        service=SERVICE,
        filter=flt,
        base=expand(base_pattern, user, realm=realm),
    )


def count_filter(filter_pattern: str, realm: str) -> str:
    """The filter with the user tokens as a wildcard: every entry some login could match."""
    marker = "\x01"
    text = expand(filter_pattern.replace("%u", marker).replace("%U", marker), "", realm=realm)
    return wrapped(text.replace(marker, "*"))
