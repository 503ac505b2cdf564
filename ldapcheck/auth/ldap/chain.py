"""Build the ordered step lists of `diagnose`, `count` and `user`, and run them into a Report."""

from __future__ import annotations

from collections.abc import Callable

from ldapcheck.auth.ldap.failures import guarded
from ldapcheck.auth.ldap.host import directory as host_directory
from ldapcheck.auth.ldap.host import network as host
from ldapcheck.auth.ldap.host.context import ChainOptions, HostContext
from ldapcheck.auth.ldap.settings import Settings
from ldapcheck.core.model import Report, Status, StepResult, Verdict
from ldapcheck.core.runner import Run
from ldapcheck.core.step import Step

__all__ = ["ChainOptions", "HostContext", "count_steps", "diagnose_steps", "run_chain", "user_steps"]


def _server_steps(settings: Settings) -> tuple[list[Step[HostContext]], frozenset[str]]:
    """DNS/TCP/TLS (or plain probe) for every server, then what the LDAP steps require."""
    steps: list[Step[HostContext]] = []
    seen_hosts: set[str] = set()
    last: dict[str, str] = {}
    timeout = settings.timeout
    for server in settings.servers:
        if server.host not in seen_hosts:
            seen_hosts.add(server.host)
            steps.append(host.dns_step(server.host, timeout))
        steps.append(host.recorded(host.tcp_step(server, timeout), server))
        encrypted = server.tls or settings.start_tls
        if encrypted:  # imported here: a plain-LDAP count (start-up bound) needs neither TLS nor user steps
            from ldapcheck.auth.ldap.host import tls as host_tls

            step = host_tls.tls_step(server)
        else:
            step = host.plain_step(server, timeout)
        steps.append(host.recorded(step, server))
        last[server.url] = step.id
    if len(settings.servers) == 1:
        return steps, frozenset({last[settings.servers[0].url]})
    steps.append(host.select_step(last))
    return steps, frozenset({"net.select"})


def _ldap_steps(requires: frozenset[str], options: ChainOptions) -> list[Step[HostContext]]:
    steps = [
        host_directory.rootdse_step(requires),
        host_directory.service_bind_step(),
        host_directory.base_step(),
    ]
    if options.count:
        steps.append(host_directory.count_step())
    if options.user:
        from ldapcheck.auth.ldap.host import user as host_user

        steps.append(host_user.user_search_step())
        steps.append(host_user.account_state_step())
        if options.bind_user:
            steps.append(host_user.user_bind_step())
    return steps


def diagnose_steps(settings: Settings, options: ChainOptions) -> list[Step[HostContext]]:
    """Every host step of `ldapcheck diagnose`, in saslauthd's order (the container phase follows: commands/)."""
    server_steps, requires = _server_steps(settings)
    return [host.config_step(), *server_steps, *_ldap_steps(requires, options)]


def count_steps(settings: Settings, options: ChainOptions) -> list[Step[HostContext]]:
    """`ldapcheck count`: reach the server, bind, check the base, count."""
    server_steps, requires = _server_steps(settings)
    opts = ChainOptions(count=True, page_size=options.page_size, wire=True)
    return [host.config_step(), *server_steps, *_ldap_steps(requires, opts)]


def user_steps(settings: Settings, options: ChainOptions) -> list[Step[HostContext]]:
    """`ldapcheck user LOGIN`: the chain for one login, without the count."""
    server_steps, requires = _server_steps(settings)
    opts = ChainOptions(user=options.user, password=options.password, bind_user=options.bind_user, count=False)
    return [host.config_step(), *server_steps, *_ldap_steps(requires, opts)]


def verdict_of(results: list[StepResult], *, login: str | None = None, judge_success: bool = True) -> Verdict | None:
    """The most likely cause, from the rules in `ldapcheck.verdict` (the same for host-only and full runs)."""
    if not judge_success and all(r.status in (Status.PASS, Status.SKIP) for r in results):
        return None  # nothing failed: no cause to find (and `count` skips importing the rules and their modules)
    from ldapcheck.auth.ldap.verdict import decide

    found = decide(results, login=login)
    # `count` judges no login: it has a verdict only when something failed.
    return found if judge_success or (found is not None and found.failure_id is not None) else None


def host_phase(
    run: Run,
    build: Callable[[Settings, ChainOptions], list[Step[HostContext]]],
    settings: Settings,
    options: ChainOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> set[str]:
    """Run a host chain as one phase of `run` (shared connections closed); returns the secrets to mask."""
    ctx = HostContext(settings=settings, options=options, progress=progress)
    secrets = set(settings.secrets())
    if options.password is not None and options.password.reveal():
        secrets.add(options.password.reveal())
    if not options.wire:
        from ldapcheck.adapters.ldap.directory import load_library

        load_library()
    try:
        run.phase([guarded(s) for s in build(settings, options)], ctx)
    finally:
        ctx.close()
    return secrets


def run_chain(
    command: str,
    build: Callable[[Settings, ChainOptions], list[Step[HostContext]]],
    settings: Settings,
    options: ChainOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Run a chain and return its report (secrets registered, shared connections closed)."""
    run = Run()
    secrets = host_phase(run, build, settings, options, progress=progress)
    return Report(
        command=command,
        steps=run.ordered,
        verdict=verdict_of(run.ordered, login=options.user, judge_success=command != "count"),
        meta={"servers": [s.url for s in settings.servers], "user": options.user},
        secrets=frozenset(secrets),
        internal_error=run.internal,
    )
