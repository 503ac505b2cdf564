"""`bench logins`' runner with fake ways in: bounds, Ctrl-C, failure kinds, masking, what limits a run."""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

import pytest

from ldapcheck.cli.bench import render_text
from ldapcheck.commands import bench
from ldapcheck.commands.bench_via import ServerSide
from ldapcheck.core.errors import ConfigError
from ldapcheck.core.loadstats import CONNECT, OK, REJECTED, TIMEOUT, Attempt, Tally
from ldapcheck.core.secrets import Secret

SENTINEL = "S3ntinel-pw-7f2c"


class FakeWorker:
    def __init__(self, attempts: itertools.cycle[Attempt], seconds: float = 0.0) -> None:
        self._attempts = attempts
        self._seconds = seconds
        self._never = threading.Event()
        self.closed = False

    def login(self) -> Attempt:
        if self._seconds:
            self._never.wait(self._seconds)  # a login that takes time on the server
        return next(self._attempts)

    def close(self) -> None:
        self.closed = True


class FakeVia:
    name = "saslauthd"

    def __init__(self, *attempts: Attempt, workers: int | None = 5, cache: bool = False, seconds: float = 0) -> None:
        self._attempts = itertools.cycle(attempts)
        self._seconds = seconds
        self.side = ServerSide(saslauthd_workers=workers, saslauthd_cache=cache)
        self.opened: list[FakeWorker] = []
        self._lock = threading.Lock()

    def open_worker(self) -> FakeWorker:
        with self._lock:
            w = FakeWorker(self._attempts, self._seconds)
            self.opened.append(w)
            return w

    def describe(self) -> dict[str, Any]:
        return {"container": "fake"}


def run(via: FakeVia, **limits: Any) -> bench.BenchResult:
    return bench.run(via, "alice", Secret(SENTINEL), bench.Limits(**limits))


def test_the_login_budget_bounds_the_run_exactly() -> None:
    via = FakeVia(Attempt(OK, 1.0))
    result = run(via, concurrency=4, duration=30, max_logins=500)
    assert result.attempts == 500
    assert result.stopped_by == "max-logins"
    assert result.elapsed < 30
    assert len(via.opened) == 4
    assert all(w.closed for w in via.opened)


def test_the_duration_bounds_the_run() -> None:
    result = run(FakeVia(Attempt(OK, 1.0)), concurrency=2, duration=0.5, max_logins=1_000_000)
    assert result.stopped_by == "duration"
    assert 0.5 <= result.elapsed < 5
    assert result.rate > 0


@pytest.mark.parametrize(
    ("limits", "flag"),
    [
        ({"concurrency": 0}, "--concurrency"),
        ({"concurrency": 65}, "--concurrency"),
        ({"duration": 0.1}, "--duration"),
        ({"duration": 301}, "--duration"),
        ({"duration": float("nan")}, "--duration"),
        ({"max_logins": 0}, "--max-logins"),
        ({"max_logins": 2_000_000}, "--max-logins"),
    ],
)
def test_bounds_out_of_range_are_config_errors(limits: dict[str, Any], flag: str) -> None:
    with pytest.raises(ConfigError, match=flag):
        bench.Limits(**limits).check()


def test_ctrl_c_ends_the_run_with_the_figures_so_far() -> None:
    def interrupt(*_args: object) -> None:
        raise KeyboardInterrupt

    via = FakeVia(Attempt(OK, 1.0), seconds=0.002)
    result = bench.run(via, "alice", Secret(SENTINEL), bench.Limits(duration=30, max_logins=1_000_000), interrupt)
    assert result.interrupted
    assert result.attempts > 0
    assert result.elapsed < 29
    assert all(w.closed for w in via.opened)


def test_failures_are_counted_by_kind_and_their_text_is_masked() -> None:
    via = FakeVia(
        Attempt(OK, 1.0),
        Attempt(REJECTED, 2.0, f"server echoed {SENTINEL}"),
        Attempt(TIMEOUT, 5000.0, "no answer"),
        Attempt(CONNECT, 0.5, "refused"),
    )
    result = run(via, concurrency=1, max_logins=400)
    assert result.failures == {REJECTED: 100, TIMEOUT: 100, CONNECT: 100}
    assert result.ok == 100
    document = json.dumps(result.to_json())
    text = render_text(result)
    assert SENTINEL not in document
    assert SENTINEL not in text
    assert "server echoed" in document
    assert json.loads(document)["latency_ms"]["max"] == 5000.0


def test_all_rejected_is_said_first() -> None:
    result = run(FakeVia(Attempt(REJECTED, 1.0, "NO")), concurrency=1, max_logins=10)
    assert result.findings[0].startswith("every login was rejected")
    assert result.to_json()["failures"] == {REJECTED: 10}


def result_of(
    latencies: list[float], *, via: str = "saslauthd", concurrency: int = 8, **extra: Any
) -> bench.BenchResult:
    tally = Tally()
    for ms in latencies:
        tally.add(Attempt(OK, ms))
    return bench.BenchResult(
        via=via,
        login="alice",
        limits=bench.Limits(concurrency=concurrency),
        elapsed=1.0,
        tally=tally,
        stopped_by="duration",
        **extra,
    )


def test_more_workers_than_saslauthd_has_is_named_as_the_limit() -> None:
    found = bench.findings(result_of([2.0] * 10 + [10.0] * 90, saslauthd_workers=5))
    assert any("saslauthd's 5 workers (-n 5) answer at most 5" in f and "queue" in f for f in found)


def test_within_saslauthd_workers_the_time_is_behind_it() -> None:
    found = bench.findings(result_of([2.0] * 10, concurrency=4, saslauthd_workers=5))
    assert any("are not the limit at 4" in f and "directory" in f for f in found)
    cached = bench.findings(result_of([2.0] * 10, concurrency=4, saslauthd_workers=5, saslauthd_cache=True))
    assert any("caches credentials (-c)" in f for f in cached)


def test_a_busy_prosody_is_named_for_xmpp() -> None:
    busy = bench.findings(result_of([5.0] * 10, via="xmpp", cpu={"prosody": 0.97}))
    assert any("prosody used 97% of one CPU" in f and "bottleneck" in f for f in busy)
    idle = bench.findings(result_of([5.0] * 10, via="xmpp", cpu={"prosody": 0.2}))
    assert any("not CPU-bound" in f for f in idle)


def test_a_busy_client_is_named() -> None:
    found = bench.findings(result_of([5.0] * 10, via="ldap", cpu={"ldapcheck": 0.95}))
    assert any("ldapcheck itself used 95%" in f for f in found)
    assert any("direct binds" in f for f in found)


def test_an_unknown_via_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--via"):
        bench.open_via("carrier-pigeon", login="alice", password=Secret(SENTINEL), timeout=1)
