"""The prosody container a command looks into: where it is (`ContainerOptions`), the session whose engine lookup
starts early (`start_container` → `Inside`), and how a report names the deployment it inspected.

Shared by `diagnose` (every mode, both kinds), `testsasl`, `token check` and `bench`: its own module, so that
the diagnose commands build on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ldapcheck.auth.ldap.container.view import session_options
from ldapcheck.commands.secrets import secret_keys
from ldapcheck.core.record import replace
from ldapcheck.jitsi.container.session import ContainerSession, SessionOptions


@dataclass(kw_only=True)
class ContainerOptions:
    """Where the prosody container is, and what may be tried inside it."""

    container: str | None = None
    project: str | None = None
    docker_host: str | None = None
    timeout: float = 5.0
    testsaslauthd: bool = False  # opt-in: it puts the password in a process argv inside the container


@dataclass
class Inside:
    """A container session whose engine lookup already runs; the execs wait for `diagnose`'s inputs."""

    options: ContainerOptions
    session: ContainerSession


def open_session(options: ContainerOptions) -> ContainerSession:
    """A session on the prosody container these options name (nothing runs yet).

    Every mode's secrets (JWT_APP_SECRET too) in the container's environment are masked, not only LDAP's.
    """
    return ContainerSession(
        every_mode_options(
            container=options.container,
            project=options.project,
            docker_host=options.docker_host,
            timeout=options.timeout,
        )
    )


def every_mode_options(**where: Any) -> SessionOptions:
    """The session options of an LDAP deployment (`session_options`: its identifying keys, its servers from
    LDAP_URL) masking every mode's secrets, for a session whose mode is not known yet."""
    opts = session_options(**where)
    return replace(opts, secret_keys=opts.secret_keys | secret_keys())


def start_container(options: ContainerOptions) -> Inside:
    """Start looking for the prosody container now, in the background (call before reading the .env)."""
    session = open_session(options)
    session.prefetch(inputs_later=True)
    return Inside(options=options, session=session)


def deployment_meta(session: ContainerSession) -> dict[str, object]:
    """Which deployment kind the run inspected, and why (for every report format: JSON's `meta.deployment`, the
    `Deployment:` line of text and Markdown)."""
    kind = "Debian packages on this host" if session.kind == "host" else "docker-jitsi-meet containers"
    reason = str(session.values.get("deployment.reason") or "")
    if session.kind == "docker":
        found = f"prosody container {session.name}" if session.container is not None else "no prosody container found"
        reason = f"{reason}; {found}" if reason else found
    return {"kind": session.kind, "what": kind, "why": reason}
