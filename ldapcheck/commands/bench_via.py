"""The three ways `ldapcheck bench logins` logs in, and what each can say about its own bottleneck.

A `Via` opens one `Worker` per concurrent login loop, and samples the server side before and after the run
(saslauthd's worker count and CPU, prosody's CPU) from the prosody container when there is one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ldapcheck.core.errors import ConfigError, LdapCheckError
from ldapcheck.core.loadstats import CONNECT, ERROR, OK, REJECTED, TIMEOUT, Attempt
from ldapcheck.core.secrets import Secret

if TYPE_CHECKING:
    from docker.models.containers import Container

    from ldapcheck.adapters.ldap.wire import WireDirectory
    from ldapcheck.commands.inside import ContainerOptions
    from ldapcheck.commands.source import LdapSource
    from ldapcheck.jitsi.container.session import ContainerSession

SASLAUTHD_DEFAULT_WORKERS = 5  # saslauthd-main.c: `num_procs = 5` unless -n says otherwise


class Worker(Protocol):
    def login(self) -> Attempt: ...
    def close(self) -> None: ...


@dataclass
class ServerSide:
    """What the prosody container says about the run: saslauthd's -n, CPU seconds per process group."""

    container: Container | None = None
    local: bool = False  # a Debian-package install: the processes are this host's (read from /proc here)
    pids: dict[str, list[int]] = field(default_factory=dict)  # "saslauthd" / "prosody" → pids in the container
    saslauthd_workers: int | None = None  # -n (0: a process per connection), None when saslauthd is not running
    saslauthd_cache: bool = False  # -c: repeat logins of one user are answered without the directory
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)

    def sample(self, into: dict[str, float]) -> None:
        from ldapcheck.jitsi.container import cpu

        every = [p for pids in self.pids.values() for p in pids]
        if self.local:
            seconds = cpu.local_cpu_seconds(every)
        elif self.container is not None:
            seconds = cpu.cpu_seconds(self.container, every)
        else:
            return
        if seconds is None:
            return
        for name, pids in self.pids.items():
            into[name] = sum(seconds.get(p, 0.0) for p in pids)

    def cpu_share(self, name: str, elapsed: float) -> float | None:
        """Cores a process group used on average during the run (1.0 = one CPU busy all the time)."""
        if name not in self.before or name not in self.after or elapsed <= 0:
            return None
        return max(0.0, self.after[name] - self.before[name]) / elapsed


def _server_side(session: ContainerSession) -> ServerSide:
    from ldapcheck.jitsi.container import facts as factsmod

    facts = session.facts()
    host = session.kind == "host"
    side = ServerSide(container=None if host else session.require_container(), local=host)
    sasl = facts.saslauthd()
    if sasl:
        side.pids["saslauthd"] = [p.pid for p in sasl]
        opts = factsmod.saslauthd_options(sasl[0].argv)
        workers = opts.workers
        side.saslauthd_cache = opts.cache
        side.saslauthd_workers = int(workers) if workers.isdigit() else SASLAUTHD_DEFAULT_WORKERS
    prosody = facts.prosody()
    if prosody:
        side.pids["prosody"] = [p.pid for p in prosody]
    return side


class Via(Protocol):
    name: str
    side: ServerSide

    def open_worker(self) -> Worker: ...
    def describe(self) -> dict[str, Any]: ...


# --- saslauthd --------------------------------------------------------------------------------------------------
class SaslauthdVia:
    """saslauthd's socket in the prosody container, asked what prosody asks (one long-lived exec per worker)."""

    name = "saslauthd"

    def __init__(
        self,
        options: ContainerOptions,
        login: str,
        password: Secret,
        timeout: float,
        session: ContainerSession | None = None,
    ) -> None:
        from ldapcheck.auth.ldap.container import saslloop
        from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
        from ldapcheck.commands.inside import open_session

        session = session or open_session(options)  # a host session (--deployment host) is opened by the caller
        view = SaslauthdView(session, LoginOptions(login=login, password=None, ldap_chain=False))
        self.side = _server_side(session)
        if self.side.saslauthd_workers is None:
            raise LdapCheckError(f"saslauthd is not running in {session.name}: nothing to load")
        self.target = saslloop.target(view)
        self._container = None if session.kind == "host" else session.require_container()
        self._password = password
        self._timeout = timeout
        self._container_name = session.name

    def open_worker(self) -> Worker:
        from ldapcheck.auth.ldap.container.saslloop import SaslLoop

        if self._container is None:  # saslauthd's socket is on this host: asked from here, as prosody asks it
            return _SocketWorker(self.target.socket, self.target, self._password, self._timeout)
        return SaslLoop(self._container, self.target, self._password, timeout=self._timeout)

    def describe(self) -> dict[str, Any]:
        return {
            ("container" if self._container is not None else "host"): self._container_name,
            "socket": self.target.socket,
            "request": f"{self.target.user}@{self.target.realm} service {self.target.service}",
        }


class _SocketWorker:
    """One login per connection to saslauthd's socket on this host (prosody's Cyrus SASL connects per login too)."""

    def __init__(self, path: str, tgt: Any, password: Secret, timeout: float) -> None:
        self._path, self._target, self._password, self._timeout = path, tgt, password, timeout

    def login(self) -> Attempt:
        from ldapcheck.adapters import saslauthd
        from ldapcheck.adapters.errors import NetError, NetKind
        from ldapcheck.auth.ldap.container import probe

        t, started = self._target, time.monotonic()
        try:
            answer = saslauthd.ask(
                self._path, t.user, self._password.reveal(), t.service, t.realm, timeout=self._timeout
            )
        except NetError as exc:
            kind = {NetKind.TIMEOUT: TIMEOUT, NetKind.REFUSED: CONNECT, NetKind.UNREACHABLE: CONNECT}.get(
                exc.kind, ERROR
            )
            return Attempt(kind, (time.monotonic() - started) * 1000, f"{exc.kind}: {exc}")
        ms = (time.monotonic() - started) * 1000
        kind = {"OK": OK, "NO": REJECTED}.get(probe.classify_reply(answer), ERROR)
        return Attempt(kind, ms, answer if kind == ERROR else "")

    def close(self) -> None:
        return None


# --- LDAP binds from this host ----------------------------------------------------------------------------------
class _LdapWorker:
    def __init__(self, endpoint: WireDirectory, dn: str, password: Secret) -> None:
        self._endpoint, self._dn, self._password = endpoint, dn, password

    def login(self) -> Attempt:
        """Connect (StartTLS as configured), bind as the user, unbind: a fresh connection per login."""
        from ldapcheck.adapters.errors import AdapterError, NetError, NetKind

        started = time.monotonic()
        try:
            with self._endpoint as directory:
                result = directory.bind(self._dn, self._password.reveal())
        except NetError as exc:
            kind = {NetKind.TIMEOUT: TIMEOUT, NetKind.REFUSED: CONNECT, NetKind.UNREACHABLE: CONNECT}.get(
                exc.kind, ERROR
            )
            return Attempt(kind, (time.monotonic() - started) * 1000, f"{exc.kind}: {exc}")
        except (AdapterError, OSError) as exc:
            return Attempt(ERROR, (time.monotonic() - started) * 1000, f"{type(exc).__name__}: {exc}")
        ms = (time.monotonic() - started) * 1000
        if result.code == 0:
            return Attempt(OK, ms)
        kind = REJECTED if result.code == 49 else ERROR  # invalidCredentials: wrong password, AD's locked/expired
        return Attempt(kind, ms, f"{result.code} {result.description}: {result.message}".strip())

    def close(self) -> None:
        return None


class LdapVia:
    """Simple binds from this host with the project's wire client; the user's DN looked up once, as saslauthd's
    service account looks it up (LDAP_FILTER expanded for the login, under LDAP_BASE)."""

    name = "ldap"

    def __init__(
        self,
        source: LdapSource,
        login: str,
        password: Secret,
        timeout: float,
        files_env: dict[str, str] | None = None,
    ) -> None:
        from ldapcheck.auth.ldap import saslfilter
        from ldapcheck.commands.source import load_settings

        # files_env: a Debian-package install's settings (/etc/saslauthd.conf), as `diagnose` reads them there
        settings = load_settings(source, files_env=files_env)
        server = settings.servers[0]
        self._server, self._start_tls, self._timeout = server, settings.start_tls, timeout
        req = saslfilter.via_prosody(login, settings.filter, settings.base, settings.xmpp_domain)
        self.side = ServerSide()
        self.server = server.raw
        self.dn = self._lookup(settings.bind_dn, settings.bind_password, req.base, req.filter)
        self.filter = req.filter
        self._password = password

    def _new(self) -> WireDirectory:
        from ldapcheck.adapters.ldap.wire import WireDirectory

        s = self._server
        return WireDirectory(s.host, s.port, tls=s.tls, timeout=self._timeout, start_tls=self._start_tls)

    def _lookup(self, bind_dn: str, bind_password: Secret | None, base: str, flt: str) -> str:
        from ldapcheck.adapters.errors import AdapterError

        try:
            with self._new() as directory:
                if bind_dn:
                    bound = directory.bind(bind_dn, bind_password.reveal() if bind_password else "")
                    if bound.code != 0:
                        raise LdapCheckError(
                            f"the service account {bind_dn} cannot bind ({bound.description}): "
                            "`ldapcheck diagnose` tells why"
                        )
                result, dns = directory.search_dns(base, flt, limit=2)
        except AdapterError as exc:
            raise LdapCheckError(f"cannot look the user up on {self.server}: {exc}") from None
        if result.code not in (0, 4) or len(dns) != 1:
            found = "no entry" if not dns else "more than one entry" if len(dns) > 1 else result.description
            raise LdapCheckError(f"{flt} under {base!r} matches {found}: `ldapcheck user LOGIN` tells why")
        return dns[0]

    def open_worker(self) -> Worker:
        return _LdapWorker(self._new(), self.dn, self._password)

    def describe(self) -> dict[str, Any]:
        return {"server": self.server, "user_dn": self.dn, "filter": self.filter}


# --- XMPP logins ------------------------------------------------------------------------------------------------
class _XmppWorker:
    def __init__(self, via: XmppVia) -> None:
        self._via = via

    def login(self) -> Attempt:
        from ldapcheck.adapters import xmpp

        via = self._via
        started = time.monotonic()
        try:
            if via.transport == "bosh":
                result = xmpp.login_bosh(
                    via.endpoint, via.domain, via.login, via.password.reveal(), timeout=via.timeout
                )
            else:
                host, _, port = via.endpoint.rpartition(":")
                result = xmpp.login_c2s(
                    host, int(port), via.domain, via.login, via.password.reveal(), bind=True, timeout=via.timeout
                )
        except xmpp.XmppError as exc:
            kind = {xmpp.XmppErrorKind.TIMEOUT: TIMEOUT, xmpp.XmppErrorKind.CONNECT: CONNECT}.get(exc.kind, ERROR)
            return Attempt(kind, (time.monotonic() - started) * 1000, f"{exc.kind}: {exc.text}")
        ms = (time.monotonic() - started) * 1000
        if result.success:
            return Attempt(OK, ms)
        detail = f"<failure> {result.condition or ''} {result.text or ''}".strip()
        return Attempt(REJECTED if result.condition == "not-authorized" else ERROR, ms, detail)

    def close(self) -> None:
        return None


class XmppVia:
    """Real XMPP logins (SASL PLAIN + resource bind) to prosody: c2s straight to its port, or BOSH through web."""

    name = "xmpp"

    def __init__(
        self,
        options: ContainerOptions,
        login: str,
        password: Secret,
        timeout: float,
        transport: str,
        session: ContainerSession | None = None,
    ) -> None:
        from ldapcheck.commands.inside import open_session

        session = session or open_session(options)  # a host session (--deployment host) is opened by the caller
        self.side = _server_side(session)
        env = session.env()
        self.domain = env.get("XMPP_DOMAIN") or "meet.jitsi"
        self.transport = transport
        self.endpoint = _xmpp_endpoint(session, env, transport)
        self.login, self.password, self.timeout = login, password, timeout
        self._container_name = session.name

    def open_worker(self) -> Worker:
        return _XmppWorker(self)

    def describe(self) -> dict[str, Any]:
        return {
            "container": self._container_name,
            "transport": self.transport,
            "endpoint": self.endpoint,
            "domain": self.domain,
        }


def _xmpp_endpoint(session: ContainerSession, env: dict[str, str], transport: str) -> str:
    """c2s: prosody's port on 127.0.0.1 (host network) or the container's IP; bosh: PUBLIC_URL/http-bind, the
    browser's way in through web's nginx (PUBLIC_URL from prosody's environment, else from the web container of
    prosody's compose project, as `diagnose` finds it: docker-jitsi-meet gives PUBLIC_URL to web)."""
    if transport == "bosh":
        from ldapcheck.jitsi.deployment import JitsiView

        url = (env.get("PUBLIC_URL") or "").rstrip("/") or JitsiView(session).public_url()
        if not url:
            raise ConfigError(
                "--transport bosh: no PUBLIC_URL in the prosody container nor in a web container of its compose "
                "project; use --transport c2s"
            )
        return f"{url}/http-bind"
    port = int(env.get("C2S_PORT") or 5222)
    if session.kind == "host":
        return f"127.0.0.1:{port}"  # prosody runs on this host
    container: Container = session.require_container()
    attrs: dict[str, Any] = container.attrs or {}
    if (attrs.get("HostConfig") or {}).get("NetworkMode") != "host":
        for net in ((attrs.get("NetworkSettings") or {}).get("Networks") or {}).values():
            if net.get("IPAddress"):
                return f"{net['IPAddress']}:{port}"
    return f"127.0.0.1:{port}"
