"""The scan's side searches: the few entries in a given state (locked, disabled, no login attribute...).

They run on a second connection in a thread while the main scan streams: the server filters (cheap) and returns
only the matching entries, so they add little to the scan's wall time. Results are tallied per problem kind with
capped example lists, like the scan itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ldapcheck.adapters import ldapwire
from ldapcheck.adapters.fastcount import TRUNCATING_CODES, CountResult, WireClient, WireError
from ldapcheck.adapters.stream import stream_entries
from ldapcheck.checks.directory import Problem, who
from ldapcheck.checks.directory_rules import ProblemKind


@dataclass
class SideResult:
    """One side search: its filter, its tally, and how it ended (-1: not run or failed)."""

    problem: Problem
    filter: str
    result_code: int = -1
    error: str = ""

    @property
    def truncated(self) -> bool:
        """The server stopped early: the count is a lower bound."""
        return self.result_code in TRUNCATING_CODES


class SideSearches(threading.Thread):
    """Run `searches` one after another on `client` (owned: closed at the end); read `results` after `join()`."""

    def __init__(
        self,
        client: WireClient,
        base: str,
        searches: Sequence[tuple[ProblemKind, str]],
        login_attrs: Sequence[str],
        *,
        keep: int,
        page_size: int,
    ) -> None:
        super().__init__(name="ldapcheck-side-searches", daemon=True)
        self._client = client
        self._base = base
        self._attrs = list(login_attrs)
        self._keep = keep
        self._page_size = page_size
        self.results = [SideResult(Problem(kind), flt) for kind, flt in searches]

    def run(self) -> None:
        try:
            for result in self.results:
                if not self._one(result):
                    break  # the connection is gone: the remaining searches stay at result_code -1
        finally:
            self._client.close()

    def _one(self, result: SideResult) -> bool:
        done: list[CountResult] = []
        try:
            for dn, attrs in stream_entries(
                self._client, self._base, result.filter, self._attrs, page_size=self._page_size, on_done=done.append
            ):
                result.problem.add(who(dn, attrs, self._attrs), self._keep)
        except (OSError, WireError, ldapwire.BerError) as exc:
            result.error = str(exc) or type(exc).__name__
            return False
        finally:
            if done:
                result.result_code = done[0].result_code
        return True

    def stop(self) -> None:
        """Abort: closing the socket ends the thread's current read."""
        self._client.close()
