"""Figures of a login load run (`ldapcheck bench logins`): attempts, their kinds and latency percentiles."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

# What one login ended in; every kind but OK is a failure.
OK = "ok"
REJECTED = "rejected"  # the server answered no: wrong password, unknown or locked account
TIMEOUT = "timeout"  # no answer within --timeout
CONNECT = "connect"  # could not reach it (refused, no socket, unreachable)
ERROR = "error"  # anything else: a protocol surprise, a broken exec, an unexpected result code
KINDS = (OK, REJECTED, TIMEOUT, CONNECT, ERROR)


@dataclass(frozen=True)
class Attempt:
    """One login: how it ended, how long it took (milliseconds), and the server's or OS's words on failure."""

    kind: str
    ms: float
    detail: str = ""


def percentile(sorted_ms: Sequence[float], p: float) -> float:
    """The nearest-rank percentile `p` (0 < p <= 100) of an ascending list; NaN for an empty one."""
    if not sorted_ms:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_ms)))
    return sorted_ms[min(rank, len(sorted_ms)) - 1]


@dataclass
class Tally:
    """Attempts recorded by many workers at once (thread-safe), with the first detail seen per failure kind."""

    latencies: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, attempt: Attempt) -> None:
        with self._lock:
            self.latencies.append(attempt.ms)
            self.kinds[attempt.kind] += 1
            if attempt.kind != OK and attempt.detail and attempt.kind not in self.examples:
                self.examples[attempt.kind] = attempt.detail[:300]

    @property
    def done(self) -> int:
        return len(self.latencies)

    def snapshot(self) -> tuple[int, int, float]:
        """(attempts, failures, p95 ms so far): for the progress line."""
        with self._lock:
            ordered = sorted(self.latencies)
            failed = self.done - self.kinds[OK]
        return len(ordered), failed, percentile(ordered, 95)


@dataclass(frozen=True)
class Latency:
    """Milliseconds over every attempt (successes and failures alike: what the users wait)."""

    min: float
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Latency:
        ordered = sorted(values)
        if not ordered:
            nan = math.nan
            return cls(nan, nan, nan, nan, nan, nan)
        return cls(
            min=ordered[0],
            p50=percentile(ordered, 50),
            p95=percentile(ordered, 95),
            p99=percentile(ordered, 99),
            max=ordered[-1],
            mean=sum(ordered) / len(ordered),
        )
