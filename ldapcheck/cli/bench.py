"""CLI: `ldapcheck bench logins` — real logins at a chosen concurrency, their throughput and latency.

The password comes as for every command (stdin, $LDAPCHECK_PASSWORD, a hidden prompt) or from a file
(--password-file, read bounded); it reaches the logins only over sockets and an exec's stdin.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ldapcheck.cli import container as container_cli
from ldapcheck.cli.common import read_password
from ldapcheck.cli.options import check_login, grouped
from ldapcheck.commands.source import LdapSource
from ldapcheck.core.model import ExitCode

if TYPE_CHECKING:
    from ldapcheck.commands.bench import BenchResult
    from ldapcheck.core.secrets import Secret

bench_app = typer.Typer(help="Load: many real logins at once, and what limits them.", no_args_is_help=True)

PASSWORD_FILE_LIMIT = 4096


@grouped
def logins(
    ldap: LdapSource,
    login: Annotated[
        str, typer.Option("--user", callback=check_login, help="The login as typed in Jitsi (e.g. alice).")
    ],
    via: Annotated[
        str,
        typer.Option(
            "--via",
            help="saslauthd (its socket in the prosody container, as prosody asks), ldap (simple binds from this "
            "host, as saslauthd's LDAP chain does them) or xmpp (real logins to prosody, any auth mode).",
        ),
    ] = "saslauthd",
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Logins in flight at once (1-64).")] = 4,
    duration: Annotated[float, typer.Option("--duration", help="Seconds to run (0.5-300).")] = 10.0,
    max_logins: Annotated[
        int, typer.Option("--max-logins", help="Stop after this many logins (1-1,000,000).")
    ] = 10_000,
    transport: Annotated[str, typer.Option("--transport", help="--via xmpp: c2s or bosh (PUBLIC_URL).")] = "c2s",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from stdin's first line (else --password-file, $LDAPCHECK_PASSWORD or a hidden "
            "prompt; never an argument).",
        ),
    ] = False,
    password_file: Annotated[
        str | None, typer.Option("--password-file", help="Read the password from this file's first line.")
    ] = None,
    container: Annotated[str | None, container_cli.CONTAINER_OPT] = None,
    project: Annotated[str | None, container_cli.PROJECT_OPT] = None,
    docker_host: Annotated[str | None, container_cli.DOCKER_HOST_OPT] = None,
    deployment: Annotated[str | None, container_cli.DEPLOYMENT_OPT] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON output (the figures only).")] = False,
) -> None:
    """Drive real logins for a while and report logins/s, p50/p95/p99 latency, failures by kind and what limits
    them (saslauthd's -n workers, the directory, prosody's one CPU). A progress line goes to stderr.

    --via ldap reads the LDAP settings as `count` and `diagnose` do: the .env (--env-file, default ./.env), or
    --url/--base/--bind-dn/--filter/--start-tls/--ca-file/--xmpp-domain, which override it. --timeout bounds
    each login (and each of its network operations)."""
    from ldapcheck.commands import bench as command
    from ldapcheck.commands.inside import ContainerOptions
    from ldapcheck.core.errors import ConfigError

    timeout = ldap.timeout

    from ldapcheck.jitsi.deploy.detect import KINDS

    if via not in command.VIAS:
        raise typer.BadParameter(f"must be one of {', '.join(command.VIAS)}, not {via!r}", param_hint="--via")
    if deployment is not None and deployment not in KINDS:
        raise typer.BadParameter(f"{deployment!r}: choose one of {', '.join(KINDS)}", param_hint="--deployment")
    if transport not in ("c2s", "bosh"):
        raise typer.BadParameter(f"must be c2s or bosh, not {transport!r}", param_hint="--transport")
    limits = command.Limits(concurrency=concurrency, duration=duration, max_logins=max_logins, timeout=timeout)
    try:
        limits.check()
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    if password_stdin and password_file:
        raise typer.BadParameter("--password-stdin and --password-file exclude each other")
    password = _password_file(password_file) if password_file else None
    if password is None:
        password = read_password(from_stdin=password_stdin, prompt=f"Password for {login}: ")
    where = ContainerOptions(container=container, project=project, docker_host=docker_host, timeout=timeout)
    host = _host_session(deployment, via, ldap, names_container=bool(container or project or docker_host))
    via_ = command.open_via(
        via, login=login, password=password, timeout=timeout, container=where, ldap=ldap, transport=transport, host=host
    )
    result = command.run(via_, login, password, limits, progress=_progress)
    _clear_progress()
    if json_out:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(result))
    sys.stdout.flush()
    if result.interrupted:
        sys.stderr.write("ldapcheck: interrupted (figures so far above)\n")
        raise typer.Exit(ExitCode.INTERRUPTED)
    raise typer.Exit(ExitCode.OK if result.attempts and not result.failures else ExitCode.FAILED)


def _host_session(deployment: str | None, via: str, ldap: LdapSource, *, names_container: bool) -> Any:
    """A HostSession when the deployment is Jitsi from Debian packages on this host (as `diagnose` decides: forced by
    --deployment host, or detected), else None (docker-jitsi-meet). --via ldap with --url or a .env needs neither."""
    from ldapcheck.jitsi.deploy.detect import choose

    if via == "ldap" and (ldap.url is not None or ldap.resolved_env_file() is not None) and deployment != "host":
        return None
    choice = choose(deployment, names_container=names_container, env_file=ldap.env_file)
    if choice.kind != "host":
        return None
    from ldapcheck.commands import diagnose_host

    return diagnose_host.open_host(timeout=ldap.timeout, reason=choice.reason)


def _password_file(path: str) -> Secret:
    from ldapcheck.core.errors import ConfigError
    from ldapcheck.core.files import read_bounded
    from ldapcheck.core.secrets import Secret

    try:
        data = read_bounded(path, limit=PASSWORD_FILE_LIMIT, what="--password-file")
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--password-file") from None
    first = data.decode("utf-8", "replace").split("\n", 1)[0].removesuffix("\r")
    return Secret(first)


def _progress(done: int, failed: int, rate: float, p95: float) -> None:
    p95_text = "-" if math.isnan(p95) else f"{p95:.1f} ms"
    line = f"bench: {done:,} logins, {rate:.1f}/s, p95 {p95_text}, {failed:,} failed"
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{line}")
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _clear_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def render_text(result: BenchResult) -> str:
    """The figures for a terminal."""
    lat = result.latency
    lines = [
        f"bench logins --via {result.via} --user {result.login}: {result.limits.concurrency} concurrent, "
        f"{result.elapsed:.1f} s (stopped by {result.stopped_by})",
        *(f"  {k}: {v}" for k, v in result.server.items()),
        f"  logins      {result.attempts:,} ({result.ok:,} ok)",
        f"  throughput  {result.rate:.1f} logins/s",
        f"  latency ms  min {_ms(lat.min)}  p50 {_ms(lat.p50)}  p95 {_ms(lat.p95)}  p99 {_ms(lat.p99)}  "
        f"max {_ms(lat.max)}",
        "  failures    " + (", ".join(f"{k} {v:,}" for k, v in result.failures.items()) if result.failures else "none"),
    ]
    for kind, text in result.tally.examples.items():
        lines.append(f"    {kind}: {text}")
    if result.saslauthd_workers is not None:
        lines.append(f"  saslauthd   -n {result.saslauthd_workers}")
    cpu = ", ".join(f"{k} {v:.0%}" for k, v in result.cpu.items() if v is not None)
    if cpu:
        lines.append(f"  CPU         {cpu} of one core")
    if result.findings:
        lines.append("limited by:")
        lines += [f"  - {x}" for x in result.findings]
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    """Add `bench` to `app`."""
    bench_app.command("logins")(logins)
    app.add_typer(bench_app, name="bench")
