"""The saslauthd side of the prosody container, read through a ContainerSession: which saslauthd.conf and
socket are in use, what saslauthd receives for a login, and the probe exec (password on stdin)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ldapcheck.auth.ldap import render as renderer
from ldapcheck.auth.ldap import saslfilter
from ldapcheck.auth.ldap.container import files as configs
from ldapcheck.auth.ldap.container import probe as probemod
from ldapcheck.core import catalogue as ids
from ldapcheck.core.attempts import PasswordGate
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container import facts as factsmod
from ldapcheck.jitsi.container.session import ContainerSession, Marker, SessionOptions

if TYPE_CHECKING:
    from docker.models.containers import Container

    from ldapcheck.adapters.docker import ExecResult

CURRENT_CONF = "/run/saslauthd.conf"
LEGACY_CONF = "/etc/saslauthd.conf"
# What identifies "the prosody of this .env" among several: where it logs in, and as which domain.
IDENTIFYING_KEYS = ("LDAP_URL", "LDAP_BASE", "LDAP_BINDDN", "XMPP_DOMAIN")
SECRET_ENV = frozenset({"LDAP_BINDPW"})


def ldap_servers(env: Mapping[str, str]) -> list[tuple[str, int]]:
    """host:port of the LDAP_URL in an environment (the container's own: probed from inside too)."""
    from ldapcheck.auth.ldap.settings import parse_servers

    return [(s.host, s.port) for s in parse_servers(env.get("LDAP_URL", ""))]


def session_options(
    *,
    container: str | None = None,
    project: str | None = None,
    docker_host: str | None = None,
    timeout: float = 5.0,
    expected_env: Mapping[str, str] | None = None,
    env_file: str | None = None,
    servers: Sequence[tuple[str, int]] = (),
) -> SessionOptions:
    """Session options for an LDAP deployment: its identifying and secret keys, its servers from LDAP_URL."""
    return SessionOptions(
        container=container,
        project=project,
        docker_host=docker_host,
        timeout=timeout,
        expected_env=expected_env,
        env_file=env_file,
        servers=servers,
        identifying_keys=IDENTIFYING_KEYS,
        secret_keys=SECRET_ENV,
        targets_from_env=ldap_servers,
    )


@dataclass(kw_only=True)
class LoginOptions:
    """What to try through saslauthd."""

    login: str | None = None  # as typed in the browser
    password: Secret | None = None
    testsaslauthd: bool = False  # opt-in: it puts the password in a process argv inside the container
    ldap_chain: bool = True  # run the LDAP chain in the probe exec (testsasl does not show it)
    # diagnose: the host's user bind decides first; after a rejection saslauthd is not asked (one attempt per run)
    gate: PasswordGate | None = None

    def rejected_by(self) -> str | None:
        """The step that already rejected the password (waits for the gate's decision), or None."""
        return self.gate.rejected_by() if self.gate is not None else None


@dataclass
class SaslauthdView:
    """Runner context of the LDAP container steps: a session plus what saslauthd makes of it.

    The probe exec is memoised in the session like the facts; `prefetch` registers it (and the rendering of
    the expected saslauthd.conf) as background work of the session.
    """

    session: ContainerSession
    options: LoginOptions = field(default_factory=LoginOptions)
    values: dict[str, object] = field(init=False)

    def __post_init__(self) -> None:
        self.values = self.session.values
        if self.options.password:
            self.secrets.add(self.options.password.reveal())
        self.session.add_generation_markers(self._generation_markers)

    def prefetch(self) -> None:
        """Have the session run the probe exec (then read saslauthd's log) and render the expected conf."""
        self.session.expect_followup()  # the probe runs in the facts exec, as prosody's user
        self.session.add_background(self._probe_then_log)
        self.session.add_background(self._render_expected)

    def _probe_then_log(self) -> None:
        self.probe()
        self.login_log()

    def _render_expected(self) -> None:
        renderer.load_engine()
        self.expected_conf()

    # --- the session, as the steps use it ----------------------------------------------------------
    @property
    def secrets(self) -> set[str]:
        """Values to mask (the session's set)."""
        return self.session.secrets

    @property
    def name(self) -> str:
        """The container's name."""
        return self.session.name

    @property
    def xmpp_domain(self) -> str:
        """XMPP_DOMAIN of the container (prosody's realm for saslauthd)."""
        return self.session.xmpp_domain

    def env(self) -> dict[str, str]:
        """The container's environment."""
        return self.session.env()

    def facts(self) -> factsmod.ContainerFacts:
        """The facts exec."""
        return self.session.facts()

    def require_container(self) -> Container:
        """The found container."""
        return self.session.require_container()

    def exec(self, argv: Sequence[str], *, user: str = "", timeout: float = 15.0) -> ExecResult:
        """An exec in the container (no stdin)."""
        return self.session.exec(argv, user=user, timeout=timeout)

    def prosody_user(self) -> str:
        """The user prosody runs as."""
        return self.session.prosody_user()

    def generation(self) -> tuple[str, list[str]]:
        """The image generation, with saslauthd's -O among the evidence."""
        return self.session.generation()

    def charge(self, key: str, ms: float) -> None:
        """See ContainerSession.charge."""
        self.session.charge(key, ms)

    def passed(self, *step_ids: str) -> bool:
        """Whether these host steps ran and passed."""
        return self.session.passed(*step_ids)

    # --- saslauthd ---------------------------------------------------------------------------------
    def _generation_markers(self) -> list[Marker]:
        opts = self.saslauthd_options()
        if opts is not None and opts.conf_path.startswith("/run/"):
            return [("current", f"saslauthd -O {opts.conf_path}")]
        if opts is not None and opts.conf_path == LEGACY_CONF:
            return [("legacy", f"saslauthd -O {LEGACY_CONF}")]
        return []

    def saslauthd_options(self) -> factsmod.SaslauthdOptions | None:
        """The running saslauthd's options (None when it is not running)."""
        procs = self.facts().saslauthd()
        return factsmod.saslauthd_options(procs[0].argv) if procs else None

    def conf_path(self) -> str:
        """The saslauthd.conf saslauthd reads: its -O, else where this generation puts it."""
        opts = self.saslauthd_options()
        if opts is not None:
            return opts.conf_path
        return CURRENT_CONF if self.generation()[0] == "current" else LEGACY_CONF

    def effective_conf(self) -> configs.LakConf | None:
        """The parsed saslauthd.conf in use (secrets registered for masking)."""
        text = self.facts().files.get(self.conf_path())
        if text is None:
            return None
        conf = configs.parse_lak(text)
        for key in configs.SECRET_KEYS:
            if conf.get(key):
                self.secrets.add(conf.get(key))
        return conf

    def socket_path(self) -> str:
        """Where libsasl connects: xmpp.conf's saslauthd_path, else saslauthd's -m dir + /mux."""
        app = self.sasl_app_conf()
        if app is not None and app[1].get("saslauthd_path"):
            return app[1]["saslauthd_path"]
        opts = self.saslauthd_options()
        return opts.socket if opts is not None else factsmod.DEFAULT_RUN_DIR + "/mux"

    def sasl_search_path(self) -> list[str]:
        """libsasl's config search path (SASL_CONF_PATH of prosody's environment first)."""
        extra = [p for p in self.env().get("SASL_CONF_PATH", "").split(":") if p]
        return extra + list(factsmod.SASL_CONF_SEARCH_PATH)

    def sasl_app_conf(self) -> tuple[str, dict[str, str]] | None:
        """The xmpp.conf libsasl finds first, parsed."""
        files = self.facts().files
        candidates = [f"{d.rstrip('/')}/xmpp.conf" for d in self.sasl_search_path()]
        found = configs.first_found(candidates, files)
        return (found, configs.parse_sasl_app_conf(files[found])) if found else None

    def expected_conf(self) -> str:
        """saslauthd.conf as the image's template renders it from the container's own env."""
        env = self.env()
        return self.session.memo("expected", lambda: renderer.render(env, self.generation()[0]))

    def login_log(self) -> list[str]:
        """saslauthd's `-d` lines about this login since the probe asked (its stderr is the container's log)."""
        req = self.request()
        probe = self.probe()
        if req is None or not probe.started_at:
            return []
        return self.session.memo("log", lambda: _log_lines(self.session.logs(since=probe.started_at), req.user))

    def login_log_since(self, since: float) -> list[str]:
        """saslauthd's `-d` lines about this login since a wall-clock time (not memoised: testsaslauthd's own)."""
        req = self.request()
        return _log_lines(self.session.logs(since=since), req.user) if req is not None else []

    # --- login request ---------------------------------------------------------------------------
    def request(self) -> saslfilter.SaslRequest | None:
        """What saslauthd receives for the typed login, with the filter and base of the conf in use."""
        if not self.options.login:
            return None
        conf = self.effective_conf()
        pattern = conf.get("ldap_filter", "(uid=%u)") if conf else "(uid=%u)"
        base = conf.get("ldap_search_base") if conf else ""
        return saslfilter.via_prosody(self.options.login, pattern, base, self.xmpp_domain)

    # --- the probe exec --------------------------------------------------------------------------
    def probe(self) -> probemod.ProbeResult:
        """LDAP chain + socket connect (+ saslauthd request with a password), one exec as prosody's user."""
        return self.session.memo("probe", self._run_probe)

    def _run_probe(self) -> probemod.ProbeResult:
        conf = self.effective_conf()
        req = self.request()
        password = self.options.password.reveal() if self.options.password else None
        fields: dict[str, str] = {"sasl": "1", "socket": self.socket_path()}
        if conf is not None and not conf.errors and self.options.ldap_chain:
            fields.update(
                ldap="1",
                servers=conf.get("ldap_servers", "ldap://localhost/"),
                start_tls="1" if configs.lak_bool(conf.get("ldap_start_tls")) else "0",
                bind_dn=conf.get("ldap_bind_dn"),
                bind_pw=conf.get("ldap_bind_pw") or conf.get("ldap_password"),
                base=req.base if req else conf.get("ldap_search_base"),
                filter=req.filter if req else "",
            )
            if req is None:
                fields["filter"] = "(objectClass=*)"
        # Waits for the host's user bind: after a rejection the password is not sent again (one attempt per run).
        if req is not None and password is not None and self.options.rejected_by() is None:
            fields.update(password=password, sasl_auth="1", login=req.user, service=req.service, realm=req.realm)
            if self.options.gate is not None and self.options.gate.accepted:
                # the host's bind said the password is right: saslauthd's bind (the chain) is the only one left
                fields["user_bind"] = "0"
        # Every wait of the probe follows --timeout (probe.py says how); the exec's own deadline adds them up.
        timeout = self.session.options.timeout
        wait = probemod.ldap_wait(timeout)
        fields.update(timeout=str(wait), sasl_timeout=str(probemod.SASL_REPLY_FACTOR * wait))
        servers = len((fields.get("servers") or "").split())
        started = time.time()
        env = {"LDAPNETWORK_TIMEOUT": str(wait), "LDAPTIMEOUT": str(wait)}
        if conf is not None:
            env.update(configs.tls_environment(conf))
        result = self.session.followup(
            ["lua5.4", "-e", probemod.script()],
            stdin=probemod.encode_fields(fields),
            user=self.prosody_user(),
            environment=env,
            timeout=probemod.exec_budget(timeout, servers),
        )
        parsed = probemod.parse(result.stdout, result.stderr)
        parsed.started_at = started
        if not parsed.complete and not parsed.records:
            raise CheckFailed(
                ids.DOCKER_EXEC,
                f"the in-container probe (lua5.4) failed: {result.stderr.strip()[:200] or f'exit {result.exit_code}'}",
                hint="The image needs lua5.4, lua-ldap and lua-socket (docker-jitsi-meet's prosody image has them)."
                if self.session.kind == "docker"
                else "This host needs lua5.4, lua-ldap and lua-socket for the probe: "
                "`sudo apt install lua5.4 lua-ldap lua-socket`.",
                reproduce=self.session.shell('lua5.4 -e \'require "lualdap"; require "socket.unix"\''),
            )
        return parsed


def _log_lines(text: str, login: str) -> list[str]:
    marks = (f"[user={login}]", f"[login={login}]")
    return [line.strip() for line in text.splitlines() if "saslauthd" in line and any(m in line for m in marks)]
