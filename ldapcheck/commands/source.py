"""Where the LDAP settings come from: a `.env` (./.env by default), command-line overrides, the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ldapcheck.core.errors import ConfigError
from ldapcheck.core.record import record

if TYPE_CHECKING:
    from ldapcheck.auth.ldap.settings import Settings

BIND_PASSWORD_ENV = "LDAPCHECK_BIND_PASSWORD"
DEFAULT_ENV_FILE = ".env"
TIMEOUT_MIN, TIMEOUT_MAX = 0.1, 300.0  # --timeout: seconds for every network operation


@record
class LdapSource:
    """The LDAP options of diagnose, count, user and validate, as given on the command line."""

    env_file: str | None = None
    url: str | None = None
    base: str | None = None
    bind_dn: str | None = None
    filter_text: str | None = None
    start_tls: bool | None = None
    ca_file: str | None = None
    xmpp_domain: str | None = None
    timeout: float = 5.0

    def ldap_options_given(self) -> bool:
        """Whether an LDAP option was given on the command line (--url, --base, --bind-dn, --filter): LDAP is asked
        for, whatever the deployment's auth mode."""
        return any(v is not None for v in (self.url, self.base, self.bind_dn, self.filter_text))

    def resolved_env_file(self) -> str | None:
        """--env-file, else ./.env when there is one and no --url (admins run ldapcheck in their jitsi dir)."""
        if self.env_file is None and self.url is None and os.path.isfile(DEFAULT_ENV_FILE):
            return DEFAULT_ENV_FILE
        return self.env_file


def load_settings(
    source: LdapSource, environ: Mapping[str, str] = os.environ, *, files_env: Mapping[str, str] | None = None
) -> Settings:
    """Settings from the .env (if any) with command-line overrides; the bind password never from argv.

    `files_env`: a package install's values read from its files (/etc/saslauthd.conf), used instead of a .env.
    """
    from ldapcheck.auth.ldap import settings as s

    env_file = None if files_env is not None else source.resolved_env_file()
    env: dict[str, str] = dict(files_env) if files_env is not None else s.read_env_file(env_file) if env_file else {}
    overrides = {
        "LDAP_URL": source.url,
        "LDAP_BASE": source.base,
        "LDAP_BINDDN": source.bind_dn,
        "LDAP_FILTER": source.filter_text,
        "XMPP_DOMAIN": source.xmpp_domain,
    }
    env.update({k: v for k, v in overrides.items() if v is not None})
    if source.start_tls is not None:
        env["LDAP_START_TLS"] = "1" if source.start_tls else "0"
    if BIND_PASSWORD_ENV in environ:
        env["LDAP_BINDPW"] = environ[BIND_PASSWORD_ENV]
    if not env.get("LDAP_URL"):
        where = (
            "/etc/saslauthd.conf has no ldap_servers"
            if files_env is not None
            else f"{env_file} has no LDAP_URL"
            if env_file
            else "no LDAP_URL and no ./.env here"
        )
        raise ConfigError(f"{where}: pass --env-file PATH (docker-jitsi-meet .env) or --url ldap://host:389")
    # A DN typed on the command line is a usage error; one from the .env is a finding (config.parse: CL-DN-SYNTAX).
    for flag, value, ad in (("--base", source.base, False), ("--bind-dn", source.bind_dn, True)):
        problem = s.dn_problem(flag, value or "", allow_ad_forms=ad)
        if problem is not None:
            raise ConfigError(problem)
    if source.ca_file and not os.path.isfile(source.ca_file):
        raise ConfigError(f"--ca-file {source.ca_file}: no such file (or not a regular file)")
    origin = "/etc/saslauthd.conf" if files_env is not None else env_file or "options"
    settings = s.from_env(env, source=origin, ca_file=source.ca_file or "")
    return settings.with_overrides(timeout=source.timeout) if source.timeout != settings.timeout else settings
