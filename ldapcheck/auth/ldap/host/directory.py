"""Host chain, directory part: root DSE, saslauthd's service bind, the search base and the user count."""

from __future__ import annotations

from ldapcheck.adapters.errors import AdapterError, FilterError
from ldapcheck.adapters.ldap import ber as ldapwire
from ldapcheck.adapters.ldap import rootdse
from ldapcheck.adapters.ldap.client import TRUNCATING_CODES, WireClient
from ldapcheck.adapters.ldap.directory import Directory
from ldapcheck.adapters.ldap.stream import count_entries
from ldapcheck.adapters.ldap.wire import WireDirectory
from ldapcheck.auth.ldap import codes as ldapcodes
from ldapcheck.auth.ldap import saslfilter
from ldapcheck.auth.ldap.failures import classified, failure
from ldapcheck.auth.ldap.host.context import DirectoryLike, HostContext
from ldapcheck.core import catalogue as ids
from ldapcheck.core.facts import BIND, LOGIN_UNAFFECTED
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped


def connection(ctx: HostContext, *, wire: bool = False) -> Directory | WireDirectory:
    """A new (not yet opened) connection to the chosen server, TLS as saslauthd uses it: ldap3, or the raw client."""
    assert ctx.server is not None, "net.select / the server steps set ctx.server"
    srv, s = ctx.server, ctx.settings
    kind = WireDirectory if wire else Directory
    return kind(srv.host, srv.port, tls=srv.tls, timeout=s.timeout, start_tls=s.start_tls)


def shared_directory(ctx: HostContext) -> DirectoryLike:
    """The connection the LDAP steps share (opened by the first one that needs it)."""
    if ctx.directory is None:
        directory = connection(ctx, wire=ctx.options.wire)
        directory.open()
        ctx.directory = directory
    return ctx.directory


def rootdse_step(requires: frozenset[str]) -> Step[HostContext]:
    """`ldap.rootdse`: vendor, AD or not, naming contexts, paging and StartTLS support."""

    def run(ctx: HostContext) -> Outcome:
        assert ctx.server is not None
        result, attrs = shared_directory(ctx).read_entry("", rootdse.ATTRIBUTES)
        if result.code != 0 or not attrs:
            return Outcome(
                summary=f"root DSE not readable anonymously ({ldapcodes.result_name(result.code)}); continuing",
                detail={"result_code": result.code, "message": result.message},
                warn=True,
                hint="Some servers hide the root DSE; vendor-specific checks are skipped.",
            )
        dse = rootdse.from_attributes(ctx.server.url, attrs)
        vendor = dse.flavor
        if dse.vendor_version and dse.vendor_version not in vendor:
            vendor += f" {dse.vendor_version}"
        ctx.is_ad = dse.is_active_directory
        contexts = list(dse.naming_contexts)
        paging = dse.supports_paging
        starttls = dse.supports_starttls
        detail: dict[str, object] = {
            "vendor": vendor,
            "active_directory": dse.is_active_directory,
            "naming_contexts": contexts,
            "default_naming_context": dse.default_naming_context or "",
            "paged_results": paging,
            "starttls_offered": starttls,
            "ldap_versions": list(dse.supported_ldap_versions),
        }
        ctx.naming_contexts = tuple(contexts)
        if ctx.outside_naming_contexts():
            # Reported by ldap.base: the service bind does not depend on the base and is still tested.
            detail["LDAP_BASE"] = f"{ctx.search_base()}: not under any naming context (see ldap.base)"
        if ctx.settings.start_tls and not starttls and ctx.server is not None and not ctx.server.tls:
            return Outcome(
                summary=f"{vendor}; StartTLS not listed in supportedExtension",
                detail=detail,
                warn=True,
                failure_id=ids.TLS_STARTTLS_UNSUPPORTED,
                hint="LDAP_START_TLS=1 needs StartTLS on the server.",
            )
        summary = f"{vendor}; naming contexts {', '.join(contexts) or '(none listed)'}"
        summary += "; paging " + ("yes" if paging else "NO") + ", StartTLS " + ("yes" if starttls else "no")
        return Outcome(summary=summary, detail=detail)

    return Step(
        id="ldap.rootdse",
        title="Root DSE",
        run=run,
        requires=requires,
        reproduce=lambda ctx: f"{ctx.env_prefix()}ldapsearch {ctx.ldap_args()} -s base -b '' '(objectClass=*)' '*' '+'",
    )


def service_bind_step() -> Step[HostContext]:
    """`ldap.service_bind`: bind as LDAP_BINDDN (or anonymously), as saslauthd does before every search."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        if not s.anonymous and not s.bind_password:
            raise StepSkipped("LDAP_BINDDN without LDAP_BINDPW: saslauthd rejects its config (see config.parse)")
        who = s.bind_dn or "anonymous"
        password = s.bind_password.reveal() if s.bind_password else ""
        with classified(dn="LDAP_BINDDN", credential="LDAP_BINDPW"):
            result = shared_directory(ctx).bind(s.bind_dn, password)
        verdict = ldapcodes.classify_bind(result.code, result.message, who=who, service=True)
        detail: dict[str, object] = {"identity": who, "result_code": result.code}
        if result.message:
            detail["diagnostic_message"] = result.message
        if not verdict.ok:
            raise CheckFailed(
                verdict.failure_id or ids.RC_49,
                verdict.summary,
                hint=verdict.hint,
                detail=detail,
                facts={BIND: "service"},
            )
        return Outcome(summary=verdict.summary, detail=detail)

    def reproduce(ctx: HostContext) -> str:
        if ctx.settings.anonymous:
            return f"{ctx.env_prefix()}ldapwhoami {ctx.ldap_args()}"
        return f"{ctx.env_prefix()}ldapwhoami {ctx.ldap_args()}{ctx.bind_args()}"

    return Step(
        id="ldap.service_bind",
        title="Service bind",
        run=run,
        requires=frozenset(
            {"ldap.rootdse"}
        ),  # not config.parse: a gate there (AUTH_TYPE…) leaves the directory testable
        reproduce=reproduce,
    )


def base_step() -> Step[HostContext]:
    """`ldap.base`: LDAP_BASE exists (noSuchObject with matchedDN otherwise)."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        if not s.base:
            raise CheckFailed(
                ids.SA_CONF_EMPTY,
                "LDAP_BASE is empty: the rendered `ldap_search_base: ` line has no value, and saslauthd then "
                "rejects its whole config (every login fails, with nothing in the log)",
                hint="Set LDAP_BASE to the DN that holds the users, e.g. ou=users,dc=example,dc=org.",
            )
        base = ctx.search_base()
        if ctx.outside_naming_contexts():
            contexts = ", ".join(ctx.naming_contexts)
            raise CheckFailed(
                ids.RC_32,
                f"LDAP_BASE {base} is not under any naming context ({contexts}) of this server: saslauthd finds "
                "nobody there",
                hint=f"Fix LDAP_BASE (check the dc= parts: this server holds {contexts}), or point LDAP_URL at the "
                "server (or AD Global Catalog port 3268) that holds it.",
                detail={"base": base, "naming_contexts": list(ctx.naming_contexts)},
            )
        with classified(dn="LDAP_BASE"):
            result, _ = shared_directory(ctx).read_entry(base)
        detail: dict[str, object] = {"base": base, "result_code": result.code, "matched_dn": result.matched_dn}
        if result.code == 0:
            return Outcome(summary=f"{base} exists", detail=detail)
        if result.code == 32 and s.anonymous:
            raise CheckFailed(
                ids.OL_ANON_ACL,
                f"{base} is not visible to an anonymous client (noSuchObject, 32)",
                hint="Anonymous clients can't see the users (or the base is wrong). Configure LDAP_BINDDN/LDAP_BINDPW "
                "for a read-only service account.",
                detail=detail,
            )
        if result.code == 32:
            deepest = result.matched_dn or "(nothing: even the top of the DN is unknown)"
            raise CheckFailed(
                ids.RC_32,
                f"LDAP_BASE {base} does not exist (noSuchObject); deepest existing part: {deepest}",
                hint=f"Check the spelling of LDAP_BASE below {result.matched_dn or 'the naming context'} "
                "and the dc= parts. saslauthd treats this like an unknown user.",
                detail=detail,
            )
        raise CheckFailed(
            f"RC-{result.code}",
            f"reading LDAP_BASE {base} failed: {ldapcodes.result_name(result.code)} ({result.code}) {result.message}",
            hint="Check that the bind identity may read the base.",
            detail=detail,
        )

    return Step(
        id="ldap.base",
        title="Search base",
        run=run,
        requires=frozenset({"ldap.service_bind"}),
        reproduce=lambda ctx: ctx.ldapsearch(ctx.search_base(), "(objectClass=*)", "1.1", scope="base"),
    )


def wire_client(ctx: HostContext) -> WireClient:
    """A raw-socket client to the chosen server, TLS as the LDAP steps use it, bound as the service account."""
    s = ctx.settings
    directory = connection(ctx, wire=True)
    assert isinstance(directory, WireDirectory)
    directory.open()  # connection, TLS and StartTLS failures: NetError, classified by the step's guard
    bound = directory.bind(s.bind_dn, s.bind_password.reveal() if s.bind_password else "")
    if bound.code != 0:
        directory.close()
        verdict = ldapcodes.classify_bind(bound.code, bound.message, who=s.bind_dn or "anonymous", service=True)
        raise CheckFailed(verdict.failure_id or ids.RC_49, verdict.summary, hint=verdict.hint, facts={BIND: "service"})
    return directory.client


def count_step() -> Step[HostContext]:
    """`ldap.user_count`: entries under the base that LDAP_FILTER could match (paged, no attributes)."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        flt = saslfilter.count_filter(s.filter, s.xmpp_domain)
        try:
            ldapwire.encode_filter(flt)
        except FilterError as exc:
            raise CheckFailed(
                ids.CL_FILTER, f"LDAP_FILTER is not a valid filter: {exc}", hint="Fix its syntax."
            ) from None
        counted = [0]

        def progress(entries: int) -> None:
            counted[0] = entries
            if ctx.progress is not None:
                ctx.progress(entries)

        try:
            with wire_client(ctx) as client:
                result = count_entries(
                    client, ctx.search_base(), flt, page_size=ctx.options.page_size, progress=progress
                )
        except (AdapterError, OSError) as exc:
            # What was counted before the server went away is said, and said to be partial: never a total.
            after = f" after {counted[0]} entries (a partial count, not the total)" if counted[0] else ""
            raise failure(
                exc, during=f"the count stopped{after}", hint="The server stopped answering during the search."
            ) from None
        detail: dict[str, object] = {
            "filter": flt,
            "base": ctx.search_base(),
            "count": result.count,
            "pages": result.pages,
            "page_size": result.page_size,
            "result_code": result.result_code,
            "references": result.references,
        }
        if result.truncated:
            who = s.bind_dn or "anonymous"
            fix = (
                "On Active Directory raise the LDAP policy MaxPageSize (ntdsutil) or the account's query policy"
                if ctx.is_ad
                else f'On OpenLDAP add to the database: olcLimits: dn.exact="{who}" size.prtotal=unlimited'
            )
            return Outcome(
                summary=f"at least {result.count} entries: the server stopped at its limit "
                f"({TRUNCATING_CODES[result.result_code]}, {result.result_code}); this is NOT the total",
                detail=detail,
                warn=True,
                failure_id=f"RC-{result.result_code}",
                hint=f"{fix}. Logins are not affected (saslauthd needs exactly one entry).",
                facts={LOGIN_UNAFFECTED: True},
            )
        if result.result_code != 0:
            raise CheckFailed(
                f"RC-{result.result_code}",
                f"count failed: {ldapcodes.result_name(result.result_code)} ({result.result_code}) {result.message}",
                detail=detail,
            )
        if result.count == 0:
            raise CheckFailed(
                ids.OL_ANON_ACL if s.anonymous else ids.SA_ENTRY_COUNT,
                f"no entry under {ctx.search_base()} matches {flt}: saslauthd will find nobody",
                hint="Anonymous clients may not see users: configure LDAP_BINDDN."
                if s.anonymous
                else "LDAP_BASE is in the wrong subtree or LDAP_FILTER's attribute/objectClass doesn't match your "
                "users (AD: sAMAccountName, not uid).",
                detail=detail,
            )
        return Outcome(
            summary=f"{result.count} entries match {flt} under {ctx.search_base()}", detail=detail, value=result.count
        )

    def reproduce(ctx: HostContext) -> str:
        flt = saslfilter.count_filter(ctx.settings.filter, ctx.settings.xmpp_domain)
        return ctx.ldapsearch(ctx.search_base(), flt, "1.1", extra=" -E pr=1000/noprompt") + " | grep -c '^dn:'"

    return Step(
        id="ldap.user_count",
        title="Users under the base",
        run=run,
        requires=frozenset({"ldap.base"}),
        reproduce=reproduce,
    )
