"""`ldapcheck diagnose` on a Jitsi installed from Debian packages: the same chains as for docker-jitsi-meet,
over a `HostSession` (local files and processes) instead of a container session.

No `.env`: the expected values come from the files (`jitsi.deploy.site`, the modes' `env_from_host`). The mode of
the main VirtualHost picks the chain: `cyrus` (or LDAP options) → the LDAP chain (its host phase runs from this
host, which is prosody's); anything else → the Jitsi chain of that mode. The host's own steps (services, conf.d,
saslauthd's defaults, the sasl group, mod_auth_cyrus, the token module's Lua libraries) come first; every other
step is the docker kind's, unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ldapcheck.auth.jwt import debian as jwt_debian
from ldapcheck.auth.ldap import chain
from ldapcheck.auth.ldap import debian as ldap_debian
from ldapcheck.commands.diagnose import diagnose
from ldapcheck.commands.host_steps import head, shared_container_steps
from ldapcheck.commands.inside import ContainerOptions, Inside, every_mode_options
from ldapcheck.commands.source import LdapSource, load_settings
from ldapcheck.core.model import Report
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import Step
from ldapcheck.jitsi.container.session import ContainerSession
from ldapcheck.jitsi.deploy.host import HostLayout
from ldapcheck.jitsi.deploy.local import HostSession
from ldapcheck.jitsi.modes import auth_modes


def open_host(root: Path = Path("/"), *, timeout: float = 5.0, reason: str = "") -> HostSession:
    """A session on this host's Debian-package layout (nothing read yet)."""
    session = HostSession(
        every_mode_options(timeout=timeout),
        layout=HostLayout(root),
        env_readers=[ldap_debian.env_from_host, jwt_debian.env_from_host],
    )
    session.values["deployment.reason"] = reason
    return session


def run(
    source: LdapSource,
    *,
    user: str | None,
    password: Secret | None,
    bind_user: bool,
    session: HostSession,
    token: Secret | None = None,
    room: str | None = None,
    testsaslauthd: bool = False,
) -> Report:
    """Diagnose the package install `session` reads, in the mode its main VirtualHost uses."""
    env = session.env()
    inside = Inside(options=ContainerOptions(timeout=source.timeout, testsaslauthd=testsaslauthd), session=session)
    if source.ldap_options_given() or auth_modes(env).requested("ldap"):
        settings = load_settings(source, files_env=env)

        def container_steps(s: ContainerSession) -> list[Step[Any]]:
            from ldapcheck.auth import modes

            return [*head("ldap"), *shared_container_steps(modes()["ldap"].container_steps(s.targets()))]

        return diagnose(
            settings,
            chain.ChainOptions(user=user, password=password, bind_user=bind_user),
            inside=inside,
            expected_env=None,
            container_steps=container_steps,
        )
    from ldapcheck.commands.diagnose_jitsi import diagnose_jitsi

    return diagnose_jitsi(
        env,
        env_file=None,
        user=user,
        password=password,
        inside=inside,
        timeout=source.timeout,
        token=token,
        room=room,
    )
