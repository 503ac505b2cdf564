"""LDAP result codes and Active Directory bind sub-codes, mapped to catalogue ids and fixes."""

from __future__ import annotations

import re

from ldapcheck.adapters.ldap.ber import RESULT_NAMES as RESULT_NAMES
from ldapcheck.adapters.ldap.ber import result_name as result_name
from ldapcheck.core import catalogue as ids
from ldapcheck.core.record import record


@record
class AdSubCode:
    """One `data XXX` value of an AD bind failure."""

    data: str
    failure_id: str
    meaning: str
    hint: str


AD_SUBCODES = {
    "525": AdSubCode(
        "525", ids.AD_525, "user not found", "Check the DN (or LDAP_FILTER's attribute: sAMAccountName vs uid)."
    ),
    "52e": AdSubCode(
        "52e",
        ids.AD_52E,
        "invalid credentials (wrong password, or unknown user)",
        "The password is wrong for this DN (AD also says 52e for unknown users). Repeated tries can lock the account.",
    ),
    "52f": AdSubCode("52f", ids.AD_52F, "account restriction", "An account restriction applies (e.g. empty password)."),
    "530": AdSubCode("530", ids.AD_530, "not permitted to log on at this time", "Check the user's logonHours in AD."),
    "531": AdSubCode(
        "531", ids.AD_531, "not permitted to log on from this workstation", "Check the user's userWorkstations in AD."
    ),
    "532": AdSubCode("532", ids.AD_532, "password expired", "The user must set a new password (Jitsi cannot)."),
    "533": AdSubCode(
        "533",
        ids.AD_533,
        "account disabled",
        "Enable the account in AD, or exclude disabled accounts with "
        "(&(sAMAccountName=%u)(!(userAccountControl:1.2.840.113556.1.4.803:=2))).",
    ),
    "568": AdSubCode("568", ids.AD_568, "too many security IDs (token too large)", "Reduce the user's group count."),
    "701": AdSubCode("701", ids.AD_701, "account expired", "Extend accountExpires for the user in AD."),
    "773": AdSubCode(
        "773", ids.AD_773, "user must reset the password", "Log in to Windows/the portal once to set a new password."
    ),
    "775": AdSubCode(
        "775",
        ids.AD_775,
        "account locked out",
        "Wait for the lockout duration or unlock the account; ldapcheck does not retry.",
    ),
}

_AD_DATA = re.compile(r"\bdata ([0-9a-fA-F]{3,8})\b")


def ad_subcode(message: str) -> AdSubCode | None:
    """The AD sub-code in a diagnostic message such as `80090308: LdapErr: ..., data 52e, v4563`."""
    match = _AD_DATA.search(message or "")
    if match is None:
        return None
    data = match.group(1).lower()
    return AD_SUBCODES.get(data, AdSubCode(data, f"AD-{data.upper()}", f"AD error data {data}", "See Microsoft docs."))


@record
class BindVerdict:
    """How to report a bind result."""

    ok: bool
    failure_id: str | None
    summary: str
    hint: str


def classify_bind(code: int, message: str, *, who: str, service: bool) -> BindVerdict:
    """Explain a bind result; `who` names the identity ('cn=x,…' or 'anonymous'); `service` = saslauthd's bind."""
    message = (message or "").rstrip("\x00").strip()
    said = f" ({message})" if message else ""
    if code == 0:
        return BindVerdict(True, None, f"bound as {who}", "")
    sub = ad_subcode(message) if code == 49 else None
    if sub is not None:
        return BindVerdict(
            False,
            sub.failure_id,
            f"bind as {who} rejected: {result_name(code)} ({code}), AD data {sub.data}: {sub.meaning}",
            sub.hint,
        )
    if code == 49:
        hint = (
            "LDAP_BINDDN or LDAP_BINDPW is wrong (or the DN does not exist). Check both, and write '$' as '$$' in .env."
            if service
            else "The password is wrong for this DN, or the entry has no password (userPassword)."
        )
        return BindVerdict(False, ids.RC_49, f"bind as {who} rejected: invalidCredentials (49){said}", hint)
    if code == 48:
        return BindVerdict(
            False,
            ids.RC_48,
            f"anonymous bind refused: inappropriateAuthentication (48){said}",
            "The server forbids anonymous binds. Set LDAP_BINDDN and LDAP_BINDPW.",
        )
    if code == 53:
        return BindVerdict(
            False,
            ids.RC_53,
            f"bind as {who} refused: unwillingToPerform (53){said}",
            "An empty password makes this an unauthenticated bind, which the server refuses. "
            + ("Set LDAP_BINDPW." if service else "Type the user's password."),
        )
    if code == 34:
        return BindVerdict(
            False,
            ids.RC_34,
            f"bind DN {who} is not a valid DN: invalidDNSyntax (34){said}",
            "LDAP_BINDDN must be a full DN on OpenLDAP (AD also accepts user@domain). Remove quotes.",
        )
    if code in (8, 13):
        return BindVerdict(
            False,
            f"RC-{code}",
            f"bind as {who} refused: {result_name(code)} ({code}){said}",
            "The server requires encryption/signing. Use ldaps:// or LDAP_START_TLS=1.",
        )
    return BindVerdict(
        False, f"RC-{code}", f"bind as {who} failed: {result_name(code)} ({code}){said}", "See the server's log."
    )
