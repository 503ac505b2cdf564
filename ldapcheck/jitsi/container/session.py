"""What the container steps share: options, the found container, and the two batched execs (facts, probe)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.adapters.docker_errors import DockerError
from ldapcheck.auth.ldap import render as renderer
from ldapcheck.auth.ldap import saslfilter
from ldapcheck.auth.ldap.container import files as configs
from ldapcheck.auth.ldap.container import probe as probemod
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container import facts as factsmod
from ldapcheck.jitsi.container.failures import DOCKER_EXEC, failure

if TYPE_CHECKING:
    from docker.models.containers import Container

T = TypeVar("T")

DEFAULT_DOMAIN = "meet.jitsi"
CURRENT_CONF = "/run/saslauthd.conf"
# What identifies "the prosody of this .env" among several: where it logs in, and as which domain.
IDENTIFYING_KEYS = ("LDAP_URL", "LDAP_BASE", "LDAP_BINDDN", "XMPP_DOMAIN")
LEGACY_CONF = "/etc/saslauthd.conf"


@dataclass(kw_only=True)
class ContainerOptions:
    """How to find the container and what to test inside it."""

    container: str | None = None
    project: str | None = None
    docker_host: str | None = None
    expected_env: Mapping[str, str] | None = None  # the operator's .env (--env-file), to detect drift
    env_file: str | None = None
    login: str | None = None  # as typed in the browser
    password: Secret | None = None
    testsaslauthd: bool = False  # opt-in: it puts the password in a process argv inside the container
    servers: Sequence[tuple[str, int]] = ()  # host:port to probe for DNS/TCP from inside
    timeout: float = 5.0
    ldap_chain: bool = True  # run the LDAP chain in the probe exec (testsasl does not show it)


@dataclass
class ContainerContext:
    """Runner context of the container steps (`values` is filled by the runner).

    Finding the container and the two execs are memoised (results and errors alike), so every step reads
    the same facts; `prefetch` runs them in a background thread while the host chain runs.
    """

    options: ContainerOptions
    values: dict[str, object] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    container: Any = None
    _memo: dict[str, tuple[bool, object]] = field(default_factory=dict, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _workers: set[int] = field(default_factory=set, repr=False)
    _ready: threading.Event = field(default_factory=threading.Event, repr=False)
    _background_ms: dict[str, float] = field(default_factory=dict, repr=False)  # computed by prefetch, unclaimed
    _claimable_ms: float = field(default=0.0, repr=False)
    _prefetched: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        if self.options.password:
            self.secrets.add(self.options.password.reveal())

    # --- memo and prefetch -----------------------------------------------------------------------
    def provide(self, **inputs: Any) -> None:
        """Complete the options (login, password, servers…) a `prefetch(inputs_later=True)` is waiting for."""
        for key, value in inputs.items():
            setattr(self.options, key, value)
        if self.options.password:
            self.secrets.add(self.options.password.reveal())
        self._ready.set()

    def prefetch(self, *, inputs_later: bool = False) -> None:
        """Find the container and run both execs in the background (they need nothing from the host chain).

        With `inputs_later`, the engine lookup starts at once and the execs wait for `provide`. While the
        probe exec waits on the container, this thread renders the expected saslauthd.conf.
        """
        if not inputs_later:
            self._ready.set()

        def quietly(*calls: Callable[[], object]) -> None:
            with contextlib.suppress(Exception):  # memoised: the step that needs it re-raises it
                for call in calls:
                    call()

        def body() -> None:
            quietly(dockeradapter.load_sdk)  # apart, so container.find's time is the engine's, not the import's
            quietly(self.locate)
            self._ready.wait()
            quietly(self.facts)
            probe = threading.Thread(target=quietly, args=(self.probe,), daemon=True)
            self._workers.add(id(probe))
            probe.start()
            quietly(renderer.load_engine, self.expected_conf)
            probe.join()
            quietly(self.login_log)

        self._thread = threading.Thread(target=body, name="ldapcheck-container-prefetch", daemon=True)
        self._workers.add(id(self._thread))
        self._thread.start()

    def _join(self) -> None:
        thread = self._thread
        if thread is not None and id(threading.current_thread()) not in self._workers:
            self._ready.set()  # whoever reads the results has given every input there will be
            thread.join()
            self._thread = None

    def _cached(self, key: str, compute: Callable[[], T]) -> T:
        self._join()
        if key not in self._memo:
            start = time.perf_counter()
            try:
                self._memo[key] = (True, compute())
            except Exception as exc:
                self._memo[key] = (False, exc)
            if self._in_worker():
                self._background_ms[key] = (time.perf_counter() - start) * 1000
                self._prefetched.add(key)
        elif not self._in_worker() and key in self._background_ms:
            # The first step to use prefetched work is charged its time, less the parts measured inside the
            # container that other steps report (`charge`): an exec's overhead lands on its first reader.
            spent = self._background_ms.pop(key)
            ok, value = self._memo[key]
            self._claimable_ms += max(0.0, spent - (_parts_ms(value) if ok else 0.0))
        ok, value = self._memo[key]
        if not ok:
            assert isinstance(value, Exception)
            raise value
        return value  # type: ignore[return-value]

    def _in_worker(self) -> bool:
        return id(threading.current_thread()) in self._workers

    def claim_background_ms(self) -> float:
        """Time of prefetched work the last step consumed (the runner adds it to that step's duration)."""
        spent, self._claimable_ms = self._claimable_ms, 0.0
        return spent

    def charge(self, key: str, ms: float) -> None:
        """Charge the current step with `ms` of the prefetched work `key`, as measured inside the container.

        Work done in the step's own thread is already in its duration, so only prefetched work counts.
        """
        if key in self._prefetched:
            self._claimable_ms += ms

    # --- the container -------------------------------------------------------------------------
    def locate(self) -> Container:
        """Connect to the engine and find the prosody container (once)."""
        return self._cached("container", self._locate)

    def _locate(self) -> Container:
        opts = self.options
        try:
            client = dockeradapter.connect(opts.docker_host, timeout=opts.timeout)
            container = dockeradapter.find_prosody(
                client,
                container=opts.container,
                project=opts.project,
                prefer_env=self._expected_env_when_known,
                identifying_keys=IDENTIFYING_KEYS,
            )
        except DockerError as exc:
            raise failure(exc) from None
        self.container = container
        return container

    def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        user: str = "",
        environment: Mapping[str, str] | None = None,
        timeout: float = 15.0,
    ) -> dockeradapter.ExecResult:
        """Run `argv` in the found container (secrets only on `stdin`); engine trouble fails the step."""
        try:
            return dockeradapter.exec_in(
                self.require_container(), argv, stdin=stdin, user=user, environment=environment, timeout=timeout
            )
        except DockerError as exc:
            raise failure(exc) from None

    def _expected_env_when_known(self) -> Mapping[str, str] | None:
        # The lookup starts before the .env is read (prefetch); only an ambiguous lookup needs to wait for it.
        self._ready.wait(timeout=self.options.timeout)
        return self.options.expected_env

    @property
    def name(self) -> str:
        """The container's name (for messages and reproduce commands)."""
        return str(self.container.name) if self.container is not None else "<prosody-container>"

    def require_container(self) -> Container:
        """The found container (steps run only after container.find passed)."""
        return self.locate()

    def env(self) -> dict[str, str]:
        """The container's environment as the engine holds it."""
        env = dockeradapter.container_env(self.require_container())
        if env.get("LDAP_BINDPW"):
            self.secrets.add(env["LDAP_BINDPW"])
        return env

    @property
    def xmpp_domain(self) -> str:
        """XMPP_DOMAIN of the container (prosody's realm for saslauthd)."""
        return self.env().get("XMPP_DOMAIN") or DEFAULT_DOMAIN

    # --- exec 1: facts ---------------------------------------------------------------------------
    def facts(self) -> factsmod.ContainerFacts:
        """All file/process/network facts, from one exec (run once)."""
        return self._cached("facts", self._run_facts)

    def targets(self) -> list[tuple[str, int]]:
        """Servers to probe from inside: those of the .env/options and those of the container's own LDAP_URL."""
        found = list(self.options.servers)
        with contextlib.suppress(Exception):  # no container, or an LDAP_URL the host chain reports on anyway
            from ldapcheck.auth.ldap.settings import parse_servers

            found += [(s.host, s.port) for s in parse_servers(self.env().get("LDAP_URL", ""))]
        return list(dict.fromkeys(found))

    def _run_facts(self) -> factsmod.ContainerFacts:
        args: list[str] = []
        for host, port in self.targets():
            args += [host, str(port)]
        result = self.exec(["bash", "-c", factsmod.script(), "facts", *args], user="0", timeout=20)
        parsed = factsmod.parse(result.stdout)
        if not parsed.complete:
            raise CheckFailed(
                DOCKER_EXEC,
                f"could not read the container's files (bash exited {result.exit_code}: "
                f"{result.stderr.strip()[:200] or 'no output'})",
                hint="The image needs bash and coreutils (docker-jitsi-meet's prosody image has both).",
                reproduce=f"docker exec {self.name} bash -c 'ls -l /run/saslauthd.conf /etc/sasl/xmpp.conf'",
            )
        return parsed

    def generation(self) -> tuple[str, list[str]]:
        """`current` (rootless, stable-11146+) or `legacy`, with the file-layout evidence for it."""
        f = self.facts()
        opts = self.saslauthd_options()
        current: list[str] = []
        legacy: list[str] = []
        if "/run/prosody/config/prosody.cfg.lua" in f.files:
            current.append("prosody config at /run/prosody/config/prosody.cfg.lua")
        if "/config/prosody.cfg.lua" in f.files:
            legacy.append("prosody config at /config/prosody.cfg.lua")
        if opts is not None and opts.conf_path.startswith("/run/"):
            current.append(f"saslauthd -O {opts.conf_path}")
        if opts is not None and opts.conf_path == LEGACY_CONF:
            legacy.append(f"saslauthd -O {LEGACY_CONF}")
        if "/run/prosody/config/certs" in f.dirs:
            current.append("certificates in /run/prosody/config/certs")
        if "/config/certs" in f.dirs:
            legacy.append("certificates in /config/certs")
        return ("legacy", legacy) if len(legacy) > len(current) else ("current", current)

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
        return self._cached("expected", lambda: renderer.render(env, self.generation()[0]))

    def login_log(self) -> list[str]:
        """saslauthd's `-d` lines about this login since the probe asked (its stderr is the container's log)."""
        req = self.request()
        probe = self.probe()
        if req is None or not probe.started_at:
            return []
        return self._cached("log", lambda: self._log_lines(req.user, probe.started_at))

    def _log_lines(self, login: str, since: float) -> list[str]:
        raw = self.require_container().logs(stdout=True, stderr=True, since=int(since) - 1, tail=400)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        marks = (f"[user={login}]", f"[login={login}]")
        return [line.strip() for line in text.splitlines() if "saslauthd" in line and any(m in line for m in marks)]

    def prosody_user(self) -> str:
        """The user prosody runs as (by name when the container knows it), for socket access checks."""
        f = self.facts()
        procs = f.prosody()
        if procs:
            uid = procs[0].uid
            for name, (user_uid, _gid, _groups) in f.users.items():
                if user_uid == uid:
                    return name
            return str(uid)
        return "prosody" if "prosody" in f.users else ""

    # --- login request ---------------------------------------------------------------------------
    def request(self) -> saslfilter.SaslRequest | None:
        """What saslauthd receives for the typed login, with the filter and base of the conf in use."""
        if not self.options.login:
            return None
        conf = self.effective_conf()
        pattern = conf.get("ldap_filter", "(uid=%u)") if conf else "(uid=%u)"
        base = conf.get("ldap_search_base") if conf else ""
        return saslfilter.via_prosody(self.options.login, pattern, base, self.xmpp_domain)

    # --- exec 2: probe ---------------------------------------------------------------------------
    def probe(self) -> probemod.ProbeResult:
        """LDAP chain + socket connect (+ saslauthd request with a password), one exec as prosody's user."""
        return self._cached("probe", self._run_probe)

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
        if req is not None and password is not None:
            fields.update(password=password, sasl_auth="1", login=req.user, service=req.service, realm=req.realm)
        started = time.time()
        env = {"LDAPNETWORK_TIMEOUT": "5", "LDAPTIMEOUT": "5"}
        if conf is not None:
            env.update(configs.tls_environment(conf))
        result = self.exec(
            ["lua5.4", "-e", probemod.script()],
            stdin=probemod.encode_fields(fields),
            user=self.prosody_user(),
            environment=env,
            timeout=40,
        )
        parsed = probemod.parse(result.stdout, result.stderr)
        parsed.started_at = started
        if not parsed.complete and not parsed.records:
            raise CheckFailed(
                DOCKER_EXEC,
                f"the in-container probe (lua5.4) failed: {result.stderr.strip()[:200] or f'exit {result.exit_code}'}",
                hint="The image needs lua5.4, lua-ldap and lua-socket (docker-jitsi-meet's prosody image has them).",
                reproduce=f'docker exec {self.name} lua5.4 -e \'require "lualdap"; require "socket.unix"\'',
            )
        return parsed


def _parts_ms(value: object) -> float:
    """Time inside a prefetched result that its own steps report (net probes run in parallel: the longest)."""
    if isinstance(value, probemod.ProbeResult):
        return value.ms(*probemod.TIMED_RECORDS)
    if isinstance(value, factsmod.ContainerFacts):
        return max(value.net_ms.values(), default=0.0)
    return 0.0
