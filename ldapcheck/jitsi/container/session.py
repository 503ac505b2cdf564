"""What every container step shares, whatever the auth mode: the found container, its environment, the facts
exec, its logs, and the background work (prefetch) with its time accounting.

A mode adds what it needs on top (LDAP: `ldapcheck.auth.ldap.container.view.SaslauthdView`): work to prefetch
(`add_background`), file-layout markers of the image generation (`add_generation_markers`), the environment
keys that identify its container among several and those that are secret (`SessionOptions`).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.adapters.docker_errors import DockerError
from ldapcheck.core import catalogue as ids
from ldapcheck.core.model import Status, StepResult
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container import facts as factsmod
from ldapcheck.jitsi.container.failures import failure

if TYPE_CHECKING:
    from docker.models.containers import Container

T = TypeVar("T")

DEFAULT_DOMAIN = "meet.jitsi"
# Where upstream's images put the rendered prosody config (rootless, then older images).
PROSODY_CONFIGS = ("/run/prosody/config/prosody.cfg.lua", "/config/prosody.cfg.lua")
# A marker of the image generation: ("current" | "legacy", the evidence as shown to the operator).
Marker = tuple[str, str]


@dataclass(kw_only=True)
class SessionOptions:
    """How to find the container, and what the mode needs from it."""

    container: str | None = None
    project: str | None = None
    docker_host: str | None = None
    timeout: float = 5.0
    expected_env: Mapping[str, str] | None = None  # the operator's .env (--env-file), to detect drift
    env_file: str | None = None
    servers: Sequence[tuple[str, int]] = ()  # host:port to probe for DNS/TCP from inside
    # What identifies "the prosody of this .env" among several running ones (the mode's keys).
    identifying_keys: Sequence[str] = ("XMPP_DOMAIN",)
    secret_keys: frozenset[str] = frozenset()  # environment values to mask in every output
    # More host:port to probe, read from the container's own environment (e.g. its LDAP_URL).
    targets_from_env: Callable[[Mapping[str, str]], Sequence[tuple[str, int]]] | None = None


class MeasuredInside(Protocol):
    """A prefetched result that knows how much of its time its own steps report (measured in the container)."""

    def measured_ms(self) -> float: ...


@dataclass
class ContainerSession:
    """Runner context of the generic container steps (`values` is filled by the runner).

    Finding the container and the execs are memoised (results and errors alike), so every step reads the same
    facts; `prefetch` runs them in a background thread while the host chain runs. `results` are the results of
    the run so far (the host phase), shared with the runner.
    """

    options: SessionOptions
    values: dict[str, object] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    container: Any = None
    results: Mapping[str, StepResult] = field(default_factory=dict)
    _memo: dict[str, tuple[bool, object]] = field(default_factory=dict, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _workers: set[int] = field(default_factory=set, repr=False)
    _ready: threading.Event = field(default_factory=threading.Event, repr=False)
    _background_ms: dict[str, float] = field(default_factory=dict, repr=False)  # computed by prefetch, unclaimed
    _claimable_ms: float = field(default=0.0, repr=False)
    _prefetched: set[str] = field(default_factory=set, repr=False)
    _jobs: list[Callable[[], object]] = field(default_factory=list, repr=False)
    _markers: list[Callable[[], list[Marker]]] = field(default_factory=list, repr=False)
    _expect_followup: bool = field(default=False, repr=False)
    _channel: dockeradapter.ExecChannel | None = field(default=None, repr=False)
    _channel_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # Which deployment this is: "docker" (a docker-jitsi-meet prosody container) or "host" (Debian packages on
    # this host, `ldapcheck.jitsi.deploy.local.HostSession`). Steps ask the session how to locate, read and run;
    # only the reproduce/fix commands below differ by kind.
    kind = "docker"

    @property
    def session(self) -> ContainerSession:
        """Itself (generic steps take any context that has a session)."""
        return self

    # --- the commands an admin of this deployment types (reproduce lines and fixes) --------------
    def shell(self, command: str, *, interactive: bool = False, stdin: bool = False, user: str = "") -> str:
        """`command` as run where prosody runs: `docker exec [-it|-i] [-u user] <container> …` (`stdin`: fed by a
        pipe; `interactive`: a terminal for a prompt)."""
        flags = "-it " if interactive else "-i " if stdin else ""
        as_user = f"-u {user} " if user else ""
        return f"docker exec {flags}{as_user}{self.name} {command}"

    def prosodyctl(self, args: str, *, config: str | None = None) -> str:
        """A prosodyctl command line for this deployment (prompting ones get a terminal)."""
        where = f"--config {config} " if config else ""
        return self.shell(f"prosodyctl {where}{args}", interactive=True)

    def apply_hint(self, service: str = "prosody") -> str:
        """How a config change reaches the running service: recreate its container (a restart keeps the env)."""
        return f"docker compose up -d --force-recreate {service}"

    def restart_hint(self, service: str = "prosody") -> str:
        """How to restart `service` as it is (no config change): saslauthd runs in prosody's container."""
        return f"docker compose restart {'prosody' if service == 'saslauthd' else service}"

    def logs_command(self, service: str = "prosody") -> str:
        """Where `service`'s last words are (saslauthd logs into prosody's container output)."""
        return f"docker logs --tail 50 {self.name}"

    def config_place(self, key: str) -> str:
        """Where the admin sets `key` (a docker-jitsi-meet variable): the `.env`."""
        return f"{key} in .env"

    def prosody_files(self) -> tuple[str, list[str], str] | None:
        """(config path, included conf.d files, their text joined) of the config prosody runs with; None if none."""
        f = self.facts()
        live = self.live_config()
        path = live if live in f.files else next((p for p in PROSODY_CONFIGS if p in f.files), None)
        if path is None:
            return None
        conf_dir = path.rsplit("/", 1)[0] + "/conf.d/"
        included = sorted(p for p in f.files if p.startswith(conf_dir) and p.endswith(".cfg.lua"))
        return path, included, "\n".join(f.files[p] for p in (path, *included))

    def live_config(self) -> str:
        """The config the running prosody was started with (`--config X` on its command line), else the default."""
        with contextlib.suppress(Exception):
            for proc in self.facts().prosody():
                argv = list(proc.argv)
                for i, arg in enumerate(argv):
                    if arg == "--config" and i + 1 < len(argv):
                        return argv[i + 1]
                    if arg.startswith("--config="):
                        return arg.split("=", 1)[1]
        return PROSODY_CONFIGS[0]

    def jicofo_conf(self) -> tuple[str, str] | None:
        """(path, text) of jicofo's config when this deployment has it as a file here; None: ask the jicofo
        container (docker)."""
        return None

    def web_config(self) -> tuple[str, str] | None:
        """(path, text) of web's config.js when this deployment has it as a file here; None: fetch it."""
        return None

    def passed(self, *step_ids: str) -> bool:
        """Whether earlier steps of this run (the host phase) ran and passed or warned."""
        return bool(step_ids) and all(
            (r := self.results.get(i)) is not None and r.status in (Status.PASS, Status.WARN) for i in step_ids
        )

    # --- hooks of a mode -------------------------------------------------------------------------
    def add_background(self, job: Callable[[], object]) -> None:
        """Work to prefetch once the facts are in, in its own thread (register before `provide`)."""
        self._jobs.append(job)

    def expect_followup(self) -> None:
        """The mode will run one command after the facts (`followup`): keep the facts exec open for it."""
        self._expect_followup = True

    def add_generation_markers(self, markers: Callable[[], list[Marker]]) -> None:
        """File-layout evidence of the image generation that only the mode knows about."""
        self._markers.append(markers)

    # --- memo and prefetch -----------------------------------------------------------------------
    def provide(
        self,
        *,
        expected_env: Mapping[str, str] | None = None,
        env_file: str | None = None,
        servers: Sequence[tuple[str, int]] = (),
        timeout: float | None = None,
    ) -> None:
        """Complete the options a `prefetch(inputs_later=True)` is waiting for (they come from the .env)."""
        self.options.expected_env = expected_env
        self.options.env_file = env_file
        self.options.servers = list(servers)
        if timeout is not None:
            self.options.timeout = timeout
        self._ready.set()

    def prefetch(self, *, inputs_later: bool = False) -> None:
        """Find the container, run the facts exec and the mode's background jobs (they need nothing from the host
        chain) in a background thread.

        With `inputs_later`, the engine lookup starts at once and the execs wait for `provide`.
        """
        if not inputs_later:
            self._ready.set()

        def quietly(*calls: Callable[[], object]) -> None:
            with contextlib.suppress(Exception):  # memoised: the step that needs it re-raises it
                for call in calls:
                    call()

        def body() -> None:
            # apart, so container.find's time is the engine's, not the import's
            quietly(lambda: dockeradapter.load_sdk(self.options.docker_host))
            quietly(self.locate)
            self._ready.wait()
            quietly(self.facts)
            jobs = [threading.Thread(target=quietly, args=(job,), daemon=True) for job in self._jobs]
            self._workers.update(id(t) for t in jobs)
            for t in jobs:
                t.start()
            for t in jobs:
                t.join()

        self._thread = threading.Thread(target=body, name="ldapcheck-container-prefetch", daemon=True)
        self._workers.add(id(self._thread))
        self._thread.start()

    def _join(self) -> None:
        thread = self._thread
        if thread is not None and id(threading.current_thread()) not in self._workers:
            self._ready.set()  # whoever reads the results has given every input there will be
            thread.join()
            self._thread = None

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per session (its error too), waiting for the prefetch if it runs."""
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
        return self.memo("container", self._locate)

    def _locate(self) -> Container:
        opts = self.options
        try:
            client = dockeradapter.connect(opts.docker_host, timeout=opts.timeout)
            container = dockeradapter.find_prosody(
                client,
                container=opts.container,
                project=opts.project,
                prefer_env=self._expected_env_when_known,
                identifying_keys=opts.identifying_keys,
                prefer_dir=self._env_dir_when_known,
            )
        except DockerError as exc:
            raise failure(exc) from None
        self.container = container
        return container

    def _expected_env_when_known(self) -> Mapping[str, str] | None:
        # The lookup starts before the .env is read (prefetch); only an ambiguous lookup needs to wait for it.
        self._ready.wait(timeout=self.options.timeout)
        return self.options.expected_env

    def _env_dir_when_known(self) -> str | None:
        # The compose project directory that holds the .env being diagnosed is that .env's prosody.
        self._ready.wait(timeout=self.options.timeout)
        env_file = self.options.env_file
        return os.path.dirname(os.path.abspath(env_file)) if env_file else None

    def followup(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes,
        user: str,
        environment: Mapping[str, str] | None = None,
        timeout: float = 15.0,
    ) -> dockeradapter.ExecResult:
        """Run `argv` as `user`, fed `stdin` (secrets go there), in the facts exec kept open for it (one exec
        less; util-linux `setpriv` switches the user), else in an exec of its own. Once per session."""
        with self._channel_lock:
            channel, self._channel = self._channel, None
        usable = user and not any(c.isspace() for c in user)  # "" is the image's default user: docker's choice
        if channel is None or not channel.open or not usable or not self.facts().has_binary("setpriv"):
            if channel is not None:
                channel.close()
            return self.exec(argv, stdin=stdin, user=user, environment=environment, timeout=timeout)
        try:
            channel.send(followup_request(argv, user=user, environment=environment or {}) + stdin)
            return channel.read_part(timeout=timeout)
        except DockerError as exc:
            raise failure(exc) from None
        finally:
            channel.close()

    def close(self) -> None:
        """Hang up the facts exec if it still waits for a follow-up (it then exits)."""
        self._join()
        with self._channel_lock:
            channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

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

    @property
    def name(self) -> str:
        """The container's name (for messages and reproduce commands)."""
        return str(self.container.name) if self.container is not None else "<prosody-container>"

    def require_container(self) -> Container:
        """The found container (steps run only after container.find passed)."""
        return self.locate()

    def env(self) -> dict[str, str]:
        """The container's environment as the engine holds it (its secret values registered for masking)."""
        env = dockeradapter.container_env(self.require_container())
        self.secrets.update(env[k] for k in self.options.secret_keys if env.get(k))
        return env

    @property
    def xmpp_domain(self) -> str:
        """XMPP_DOMAIN of the container (prosody's main VirtualHost)."""
        return self.env().get("XMPP_DOMAIN") or DEFAULT_DOMAIN

    def started_at(self) -> float | None:
        """When prosody last started (epoch seconds): the container's State.StartedAt; None when not known.

        A log read from here on says what the running prosody did, not what one before a fix and a restart did."""
        attrs = getattr(self.require_container(), "attrs", None) or {}
        raw = str((attrs.get("State") or {}).get("StartedAt") or "")
        match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", raw)
        return datetime.fromisoformat(match.group(1) + "+00:00").timestamp() if match else None

    def logs(self, *, since: float, tail: int = 400) -> str:
        """The container's log (stdout and stderr) since a wall-clock time."""
        raw = self.require_container().logs(stdout=True, stderr=True, since=int(since) - 1, tail=tail)
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)

    # --- the facts exec --------------------------------------------------------------------------
    def facts(self) -> factsmod.ContainerFacts:
        """All file/process/network facts, from one exec (run once)."""
        return self.memo("facts", self._run_facts)

    def runs_target(self, host: str, port: int) -> bool:
        """Whether the container's own environment names this server (what saslauthd uses today).

        True when that cannot be told (no mode reader, an unreadable value): a probe then counts as today's.
        """
        from_env = self.options.targets_from_env
        if from_env is None:
            return True
        try:
            return (host, port) in list(from_env(self.env()))
        except Exception:  # no container, or a value the host chain reports on anyway
            return True

    def targets(self) -> list[tuple[str, int]]:
        """Servers to probe from inside: those of the options and those the container's own env names."""
        found = list(self.options.servers)
        from_env = self.options.targets_from_env
        if from_env is not None:
            with contextlib.suppress(Exception):  # no container, or a value the host chain reports on anyway
                found += list(from_env(self.env()))
        return list(dict.fromkeys(found))

    def _run_facts(self) -> factsmod.ContainerFacts:
        args: list[str] = []
        for host, port in self.targets():
            args += [host, str(port)]
        # One root exec: the facts, then (if the mode expects one) it waits for the follow-up (`followup`).
        before = time.time()
        try:
            channel = dockeradapter.ExecChannel(
                self.require_container(),
                lambda token: ["bash", "-c", factsmod.then_script(), "ldapcheck", token, factsmod.script(), *args],
                user="0",
                environment=factsmod.net_environment(self.options.timeout),
            )
            result = channel.read_part(timeout=factsmod.deadline(self.options.timeout))
        except DockerError as exc:
            raise failure(exc) from None
        if self._expect_followup and channel.open:
            with self._channel_lock:
                self._channel = channel
        else:
            channel.close()
        parsed = factsmod.parse(result.stdout)
        parsed.host_window = (before, time.time())
        if not parsed.complete:
            raise CheckFailed(
                ids.DOCKER_EXEC,
                f"could not read the container's files (bash exited {result.exit_code}: "
                f"{result.stderr.strip()[:200] or 'no output'})",
                hint="The image needs bash and coreutils (docker-jitsi-meet's prosody image has both).",
                reproduce=f"docker exec {self.name} bash -c 'ls -l /run/prosody/config /config'",
            )
        return parsed

    def generation(self) -> tuple[str, list[str]]:
        """`current` (rootless, stable-11146+) or `legacy`, with the file-layout evidence for it."""
        f = self.facts()
        markers: list[Marker] = []
        if "/run/prosody/config/prosody.cfg.lua" in f.files:
            markers.append(("current", "prosody config at /run/prosody/config/prosody.cfg.lua"))
        if "/config/prosody.cfg.lua" in f.files:
            markers.append(("legacy", "prosody config at /config/prosody.cfg.lua"))
        for more in self._markers:
            markers += more()
        if "/run/prosody/config/certs" in f.dirs:
            markers.append(("current", "certificates in /run/prosody/config/certs"))
        if "/config/certs" in f.dirs:
            markers.append(("legacy", "certificates in /config/certs"))
        current = [text for gen, text in markers if gen == "current"]
        legacy = [text for gen, text in markers if gen == "legacy"]
        return ("legacy", legacy) if len(legacy) > len(current) else ("current", current)

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


def followup_request(argv: Sequence[str], *, user: str, environment: Mapping[str, str]) -> bytes:
    """The follow-up request then.sh reads on stdin before the command's own stdin (no secrets in it: they
    would end in the command's argv or environment)."""

    def counted(text: str) -> bytes:
        data = text.encode()
        if b"\0" in data:
            raise ValueError("a NUL byte cannot be in an argument or the environment")
        return b"%d\n%s" % (len(data), data)

    if not argv or not user or any(c.isspace() for c in user):
        raise ValueError(f"a follow-up needs a command and a user without spaces, not {user!r}")
    env = [f"{k}={v}" for k, v in environment.items()]
    return f"@@then {user} {len(argv)} {len(env)}\n".encode() + b"".join(counted(t) for t in [*argv, *env])


def _parts_ms(value: object) -> float:
    """Time inside a prefetched result that its own steps report (see MeasuredInside)."""
    measured = getattr(value, "measured_ms", None)
    return float(measured()) if callable(measured) else 0.0
