"""Latency percentiles and the thread-safe tally of `bench logins`."""

from __future__ import annotations

import math
import threading

from ldapcheck.core.loadstats import OK, REJECTED, Attempt, Latency, Tally, percentile


def test_nearest_rank_percentiles_of_1_to_100() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0


def test_percentiles_of_few_values_are_values_seen() -> None:
    assert percentile([3.0], 99) == 3.0
    assert percentile([1.0, 9.0], 50) == 1.0
    assert percentile([1.0, 9.0], 95) == 9.0
    assert math.isnan(percentile([], 50))


def test_latency_summary_sorts_its_input() -> None:
    lat = Latency.of([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (lat.min, lat.p50, lat.max, lat.mean) == (1.0, 3.0, 5.0, 3.0)
    assert lat.p99 == 5.0
    assert math.isnan(Latency.of([]).p95)


def test_tally_counts_kinds_from_many_threads_and_keeps_the_first_example() -> None:
    tally = Tally()

    def add() -> None:
        for i in range(1000):
            tally.add(Attempt(OK if i % 2 else REJECTED, 1.0, f"no {i}"))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tally.done == 4000
    assert tally.kinds[OK] == 2000
    assert tally.kinds[REJECTED] == 2000
    assert tally.examples[REJECTED].startswith("no ")
    assert OK not in tally.examples
    done, failed, p95 = tally.snapshot()
    assert (done, failed, p95) == (4000, 2000, 1.0)
