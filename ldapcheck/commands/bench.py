"""`ldapcheck bench logins`: many real logins at once, for a while, and what limits them.

Workers (threads: every login waits on the network or the container, not on Python) each hold one `Worker` of
the chosen way in (`bench_via`) and log in back to back until the duration or the login budget is spent. The
figures are throughput, latency percentiles over every attempt, failures by kind, and the server side's own
numbers (saslauthd's worker count, prosody's and saslauthd's CPU) read from the prosody container.
"""

from __future__ import annotations

import math
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ldapcheck.commands.bench_via import Via, Worker
from ldapcheck.core.errors import ConfigError
from ldapcheck.core.loadstats import KINDS, OK, REJECTED, Latency, Tally
from ldapcheck.core.secrets import Secret, mask_secrets

VIAS = ("saslauthd", "ldap", "xmpp")
CONCURRENCY_MAX = 64
DURATION_MAX = 300.0
MAX_LOGINS_DEFAULT = 10_000
MAX_LOGINS_MAX = 1_000_000
BUSY_CORE = 0.85  # a process using this much of one CPU (or more) is CPU-bound
QUEUEING = 1.5  # median latency this many times the fastest login (and QUEUEING_MS more): logins wait
QUEUEING_MS = 1.0


@dataclass(frozen=True, kw_only=True)
class Limits:
    """How long and how much: every run ends by the first bound reached (or Ctrl-C)."""

    concurrency: int = 4
    duration: float = 10.0
    max_logins: int = MAX_LOGINS_DEFAULT
    timeout: float = 5.0

    def check(self) -> None:
        """Usage errors (exit 2) for bounds out of range."""
        if not 1 <= self.concurrency <= CONCURRENCY_MAX:
            raise ConfigError(f"--concurrency must be 1 to {CONCURRENCY_MAX}, not {self.concurrency}")
        if math.isnan(self.duration) or not 0.5 <= self.duration <= DURATION_MAX:
            raise ConfigError(f"--duration must be 0.5 to {DURATION_MAX:g} seconds, not {self.duration!r}")
        if not 1 <= self.max_logins <= MAX_LOGINS_MAX:
            raise ConfigError(f"--max-logins must be 1 to {MAX_LOGINS_MAX:,}, not {self.max_logins}")


@dataclass
class BenchResult:
    """Figures of one run (`to_json` is the `--json` document)."""

    via: str
    login: str
    limits: Limits
    elapsed: float
    tally: Tally
    stopped_by: str  # "duration", "max-logins", "interrupted"
    server: dict[str, Any] = field(default_factory=dict)  # where it logged in (container, socket, DN …)
    cpu: dict[str, float | None] = field(default_factory=dict)  # cores used on average during the run
    saslauthd_workers: int | None = None
    saslauthd_cache: bool = False
    findings: list[str] = field(default_factory=list)  # what limits the run, in plain words

    @property
    def attempts(self) -> int:
        return self.tally.done

    @property
    def failures(self) -> dict[str, int]:
        return {k: self.tally.kinds[k] for k in KINDS if k != OK and self.tally.kinds[k]}

    @property
    def ok(self) -> int:
        return self.tally.kinds[OK]

    @property
    def rate(self) -> float:
        return self.attempts / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def latency(self) -> Latency:
        return Latency.of(self.tally.latencies)

    @property
    def interrupted(self) -> bool:
        return self.stopped_by == "interrupted"

    def to_json(self) -> dict[str, Any]:
        lat = self.latency
        return {
            "command": "bench logins",
            "via": self.via,
            "login": self.login,
            "concurrency": self.limits.concurrency,
            "duration_s": self.limits.duration,
            "max_logins": self.limits.max_logins,
            "timeout_s": self.limits.timeout,
            "elapsed_s": round(self.elapsed, 3),
            "stopped_by": self.stopped_by,
            "interrupted": self.interrupted,
            "logins": self.attempts,
            "ok": self.ok,
            "failures": self.failures,
            "failure_examples": dict(self.tally.examples),
            "throughput_per_s": round(self.rate, 2),
            "ok_per_s": round(self.ok / self.elapsed, 2) if self.elapsed > 0 else 0.0,
            "latency_ms": {k: _round(getattr(lat, k)) for k in ("min", "p50", "p95", "p99", "max", "mean")},
            "server": self.server,
            "saslauthd_workers": self.saslauthd_workers,
            "saslauthd_cache": self.saslauthd_cache,
            "cpu_cores": {k: _round(v) for k, v in self.cpu.items()},
            "limited_by": self.findings,
        }


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 3)


Progress = Callable[[int, int, float, float], None]  # attempts, failures, rate per s, p95 ms


def open_via(
    via: str,
    *,
    login: str,
    password: Secret,
    timeout: float,
    container: Any = None,
    ldap: Any = None,
    transport: str = "c2s",
    host: Any = None,
) -> Via:
    """The chosen way in, with what it needs looked up once (container, socket, the user's DN).

    `host`: a HostSession when the deployment is Jitsi from Debian packages on this host (--deployment host):
    saslauthd's socket, prosody and /etc/saslauthd.conf are then this host's."""
    from ldapcheck.commands import bench_via

    if via == "saslauthd":
        return bench_via.SaslauthdVia(container, login, password, timeout, session=host)
    if via == "ldap":
        given = ldap is not None and (ldap.url is not None or ldap.resolved_env_file() is not None)
        files_env = dict(host.env()) if host is not None and not given else None
        return bench_via.LdapVia(ldap, login, password, timeout, files_env=files_env)
    if via == "xmpp":
        return bench_via.XmppVia(container, login, password, timeout, transport, session=host)
    raise ConfigError(f"--via must be one of {', '.join(VIAS)}, not {via!r}")


def run(via: Via, login: str, password: Secret, limits: Limits, progress: Progress | None = None) -> BenchResult:
    """Log in until the duration or the budget is spent; Ctrl-C ends it with the figures so far."""
    limits.check()
    workers = _open_workers(via, limits.concurrency)
    tally = Tally()
    stop = threading.Event()
    budget = _Budget(limits.max_logins)
    via.side.sample(via.side.before)
    cpu_before = _own_cpu()
    started = time.monotonic()
    deadline = started + limits.duration
    threads = [
        threading.Thread(target=_loop, args=(w, tally, stop, budget, deadline), daemon=True, name=f"bench-{i}")
        for i, w in enumerate(workers)
    ]
    for t in threads:
        t.start()
    stopped_by = "duration"
    try:
        next_report = started + 1.0
        while alive := [t for t in threads if t.is_alive()]:
            alive[0].join(timeout=0.1)
            now = time.monotonic()
            if progress is not None and now >= next_report:
                done, failed, p95 = tally.snapshot()
                progress(done, failed, done / (now - started), p95)
                next_report = now + 1.0
    except KeyboardInterrupt:
        stop.set()
        stopped_by = "interrupted"
        for t in threads:  # every login has its own timeout: this wait is bounded
            t.join(timeout=limits.timeout + 10)
    elapsed = time.monotonic() - started
    if stopped_by != "interrupted" and budget.exhausted:
        stopped_by = "max-logins"
    client_cpu = (_own_cpu() - cpu_before) / elapsed if elapsed > 0 else None
    for w in workers:
        w.close()
    via.side.sample(via.side.after)
    result = BenchResult(
        via=via.name,
        login=login,
        limits=limits,
        elapsed=elapsed,
        tally=tally,
        stopped_by=stopped_by,
        server=via.describe(),
        saslauthd_workers=via.side.saslauthd_workers,
        saslauthd_cache=via.side.saslauthd_cache,
    )
    result.cpu = {"ldapcheck": client_cpu}
    for name in via.side.pids:
        result.cpu[name] = via.side.cpu_share(name, elapsed)
    # Texts the servers sent back never hold the password, but a hostile one could echo it: mask anyway.
    result.tally.examples = {k: mask_secrets(v, [password.reveal()]) for k, v in tally.examples.items()}
    result.findings = findings(result)
    return result


class _Budget:
    """At most `total` logins started, over all workers."""

    def __init__(self, total: int) -> None:
        self._left = total
        self._lock = threading.Lock()
        self.exhausted = False

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                self.exhausted = True
                return False
            self._left -= 1
            return True


def _loop(worker: Worker, tally: Tally, stop: threading.Event, budget: _Budget, deadline: float) -> None:
    while not stop.is_set() and time.monotonic() < deadline and budget.take():
        tally.add(worker.login())


def _open_workers(via: Via, count: int) -> list[Worker]:
    """All workers open before the clock starts (an exec or a connection setup is not a login)."""
    with ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
        futures = [pool.submit(via.open_worker) for _ in range(count)]
        opened: list[Worker] = []
        error: BaseException | None = None
        for f in futures:
            try:
                opened.append(f.result())
            except BaseException as exc:
                error = error or exc
    if error is not None:
        for w in opened:
            w.close()
        raise error
    return opened


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def findings(result: BenchResult) -> list[str]:
    """What limits this run, from its figures: the worker count, a CPU-bound process, queueing, the client."""
    out: list[str] = []
    lat = result.latency
    if result.attempts == 0:
        return ["no login finished: nothing to judge (see the failures)"]
    if result.tally.kinds[REJECTED] == result.attempts:
        out.append(
            "every login was rejected (wrong password, or the account cannot log in): the figures time rejections"
        )
    queueing = lat.p50 >= QUEUEING * lat.min and lat.p50 - lat.min >= QUEUEING_MS
    spread = f"median {lat.p50:.1f} ms against {lat.min:.1f} ms for the fastest login"
    in_flight = result.rate * lat.mean / 1000  # Little's law: logins being served at any moment, on average
    n = result.saslauthd_workers
    c = result.limits.concurrency
    if result.via == "saslauthd" and n is not None:
        if n == 0:
            out.append("saslauthd runs with -n 0 (a process per login): no worker limit")
        elif c > n:
            out.append(
                f"saslauthd's {n} workers (-n {n}) answer at most {n} logins at once; {c} workers queue on its socket"
                + (f" ({spread})" if queueing else "")
                + ": more workers (-n) raise the ceiling only if the directory keeps up"
            )
        else:
            behind = (
                "saslauthd's cache"
                if result.saslauthd_cache and result.ok
                else "the directory's (service bind, search, user bind)"
            )
            out.append(
                f"saslauthd's {n} workers (-n {n}) are not the limit at {c} concurrent logins; "
                f"each login's time is {behind}"
            )
    if result.via in ("saslauthd", "xmpp") and result.saslauthd_cache and n is not None and result.ok:
        out.append(
            "saslauthd caches credentials (-c): after the first, these logins of one user were answered without "
            "the directory; a rush of different users is not (--via ldap measures the directory's binds)"
        )
    if result.via == "ldap":
        out.append(
            f"direct binds: the directory answers {result.rate:.0f} logins/s with {in_flight:.1f} in flight on average"
            + (f"; it queues ({spread})" if queueing else "")
        )
    prosody = result.cpu.get("prosody")
    if result.via == "xmpp" and prosody is not None:
        if prosody >= BUSY_CORE:
            out.append(
                f"prosody used {prosody:.0%} of one CPU: it is one process (one CPU at most), the bottleneck here"
            )
        else:
            out.append(f"prosody used {prosody:.0%} of one CPU: not CPU-bound; the time is spent behind it")
    sasl_cpu = result.cpu.get("saslauthd")
    if result.via in ("saslauthd", "xmpp") and sasl_cpu is not None and sasl_cpu >= BUSY_CORE:
        out.append(f"saslauthd's processes used {sasl_cpu:.0%} of a CPU")
    client = result.cpu.get("ldapcheck")
    if client is not None and client >= BUSY_CORE:
        out.append(
            f"ldapcheck itself used {client:.0%} of a CPU (one Python process): it may be the limit; "
            "compare with a lower --concurrency"
        )
    if queueing and result.via != "saslauthd" and not any("queue" in x for x in out):
        out.append(f"logins wait for each other: {spread}")
    return out
