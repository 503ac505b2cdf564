"""`validate`'s security steps: plain-text LDAP, what anonymous clients can read, readable password attributes."""

from __future__ import annotations

import contextlib

from ldapcheck.adapters.ldap.stream import count_entries
from ldapcheck.auth.ldap import codes as ldapcodes
from ldapcheck.auth.ldap.directory.scan import SCAN, scan_outcome
from ldapcheck.auth.ldap.failures import classified
from ldapcheck.auth.ldap.host.context import HostContext
from ldapcheck.auth.ldap.host.directory import connection, wire_client
from ldapcheck.core import catalogue as ids
from ldapcheck.core.record import replace
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import CheckFailed, Outcome, Step

# Anonymous visibility is shown as "at least N": counting everything would cost a second full pass.
ANONYMOUS_CAP = 1001
PASSWORD_ATTRS = ("userPassword", "unicodePwd")
PASSWORD_PROBES = 3


def transport_step() -> Step[HostContext]:
    """`sec.transport`: saslauthd sends every user's password to the directory; is that encrypted?"""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        plain = [srv.url for srv in s.servers if not srv.tls and not s.start_tls]
        detail: dict[str, object] = {"servers": [srv.url for srv in s.servers], "start_tls": s.start_tls}
        if plain:
            return Outcome(
                summary=f"plain LDAP without StartTLS: {', '.join(plain)} (user passwords cross the network readable)",
                detail=detail,
                warn=True,
                failure_id=ids.SEC_PLAINTEXT,
                hint="Use ldaps://host:636 (LDAP_URL) or LDAP_START_TLS=1 with ldap://.",
            )
        how = "StartTLS" if s.start_tls else "ldaps://"
        return Outcome(summary=f"encrypted ({how})", detail=detail)

    return Step(id="sec.transport", title="Encryption to the directory", run=run)


def anonymous_step() -> Step[HostContext]:
    """`sec.anonymous`: whether an anonymous bind works and how many users it can read."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        outcome = scan_outcome(ctx)
        directory = connection(ctx, wire=ctx.options.wire)  # validate: the raw client, no ldap3 import
        try:
            directory.open()
            bound = directory.bind("", "")
            if bound.code != 0:
                return Outcome(summary=f"anonymous bind refused ({ldapcodes.result_name(bound.code)}, {bound.code})")
            result, dns = directory.search_dns(outcome.base, outcome.login.presence, limit=ANONYMOUS_CAP)
        finally:
            with contextlib.suppress(Exception):
                directory.close()
        detail: dict[str, object] = {"visible_users": len(dns), "result_code": result.code, "cap": ANONYMOUS_CAP}
        if result.code not in (0, 4) or not dns:
            why = "no user is visible" if result.code in (0, 32) else ldapcodes.result_name(result.code)
            return Outcome(summary=f"anonymous bind allowed, but it reads no users ({why})", detail=detail)
        at_least = "at least " if result.code == 4 else ""
        needed = (
            " saslauthd itself binds anonymously (LDAP_BINDDN is empty), so it needs this today." if s.anonymous else ""
        )
        return Outcome(
            summary=f"anonymous clients can read {at_least}{len(dns)} user entries "
            f"(the user list is public to anyone who reaches the server){needed}",
            detail=detail,
            warn=True,
            failure_id=ids.SEC_ANON_READ,
            hint="Give saslauthd a read-only service account (LDAP_BINDDN/LDAP_BINDPW) and drop anonymous read "
            "(OpenLDAP: `by anonymous auth` only; AD: anonymous access is off by default).",
        )

    return Step(
        id="sec.anonymous",
        title="Anonymous read",
        run=run,
        requires=frozenset({SCAN}),
        reproduce=lambda ctx: (
            f"{ctx.env_prefix()}ldapsearch {ctx.ldap_args()} -z {ANONYMOUS_CAP} "
            f"-b {scan_outcome(ctx).base!r} {scan_outcome(ctx).login.presence!r} 1.1 | grep -c '^dn:'"
        ),
    )


def password_attrs_step() -> Step[HostContext]:
    """`sec.password_attrs`: can saslauthd's bind identity read userPassword / unicodePwd? (values never kept)"""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        assert ctx.directory is not None, "ldap.service_bind opened it"
        outcome = scan_outcome(ctx)
        _, dns = ctx.directory.search_dns(outcome.base, outcome.login.presence, limit=PASSWORD_PROBES)
        readable = 0
        for dn in dns:
            _, attrs = ctx.directory.read_entry(dn, PASSWORD_ATTRS)
            if any(k.lower() in ("userpassword", "unicodepwd") and v for k, v in attrs.items()):
                readable += 1
            del attrs  # password hashes: counted, never kept or shown
        who = s.bind_dn or "anonymous"
        detail: dict[str, object] = {"identity": who, "entries_probed": len(dns), "readable": readable}
        if readable:
            raise CheckFailed(
                ids.SEC_PASSWORD_READABLE,
                f"{who} can read password attributes ({readable} of {len(dns)} probed user entries)",
                hint="saslauthd (ldap_auth_method bind) never reads passwords. Restrict them, e.g. OpenLDAP "
                "`olcAccess: to attrs=userPassword by self write by anonymous auth by * none`, and use a "
                "service account that is not an administrator.",
                detail=detail,
            )
        return Outcome(summary=f"{who} cannot read userPassword/unicodePwd (probed {len(dns)} entries)", detail=detail)

    return Step(id="sec.password_attrs", title="Password attributes hidden", run=run, requires=frozenset({SCAN}))


def visibility_step(bind_dn: str, password: Secret) -> Step[HostContext]:
    """`dir.visibility`: count the users as a second identity (e.g. an admin) and compare with the service account."""

    def run(ctx: HostContext) -> Outcome:
        outcome = scan_outcome(ctx)
        other = replace(ctx, settings=ctx.settings.with_overrides(bind_dn=bind_dn, bind_password=password), values={})
        with wire_client(other) as client, classified(during=f"the comparison count as {bind_dn} stopped"):
            counted = count_entries(client, outcome.base, outcome.login.presence, page_size=ctx.options.page_size)
        seen = outcome.findings.selected
        detail: dict[str, object] = {
            "service_account": ctx.settings.bind_dn or "anonymous",
            "service_account_sees": seen,
            "compare_identity": bind_dn,
            "compare_identity_sees": counted.count,
            "compare_result_code": counted.result_code,
        }
        at_least = "at least " if counted.truncated else ""
        if counted.count > seen:
            hidden = counted.count - seen
            why = "its size limit" if outcome.truncated else "ACLs"
            return Outcome(
                summary=f"{bind_dn} sees {at_least}{counted.count} users, the service account {seen}: "
                f"{at_least}{hidden} are hidden from saslauthd by {why}",
                detail=detail,
                warn=True,
                failure_id=ids.RC_4 if outcome.truncated else ids.RC_50,
                hint="Users saslauthd cannot see cannot log in. Grant the service account search/read on them "
                "(and lift its size limit to validate them all)."
                if not outcome.truncated
                else "Only the scan is limited (logins are not); lift the limit to validate every user.",
            )
        return Outcome(summary=f"{bind_dn} sees {at_least}{counted.count} users, as many as the service account")

    return Step(id="dir.visibility", title="Service account sees every user", run=run, requires=frozenset({SCAN}))
