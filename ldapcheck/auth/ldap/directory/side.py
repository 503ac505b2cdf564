"""The scan's side search: the few entries in a given state (locked, disabled, no login attribute...).

On Active Directory it runs on a second connection in a thread while the main scan streams; on OpenLDAP-like
servers the scan's own entries answer it (`analysis.scan_plan`), and it runs only after a size limit cut the scan
short, returning just the matching entries, which stay exact under the limit. Its entries are tallied per problem
kind with capped example lists, like the scan itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ldapcheck.adapters.errors import AdapterError
from ldapcheck.adapters.ldap.client import TRUNCATING_CODES, CountResult, WireClient
from ldapcheck.adapters.ldap.stream import stream_entries
from ldapcheck.auth.ldap.directory.analysis import Problem, SideSearch, classify_side, who


@dataclass
class SideResult:
    """The side search's tally of one problem kind, and how the search ended (-1: not run or failed)."""

    problem: Problem
    filter: str
    result_code: int = -1
    error: str = ""

    @property
    def truncated(self) -> bool:
        """The server stopped early: the count is a lower bound."""
        return self.result_code in TRUNCATING_CODES


class SideSearches(threading.Thread):
    """Run `search` on `client` (owned: closed at the end); read `results` after `join()`."""

    def __init__(
        self,
        client: WireClient,
        base: str,
        search: SideSearch,
        login_attrs: Sequence[str],
        *,
        now: float,
        keep: int,
        page_size: int,
    ) -> None:
        super().__init__(name="ldapcheck-side-search", daemon=True)
        self._client = client
        self._base = base
        self._search = search
        self._names = list(login_attrs)
        self._now = now
        self._keep = keep
        self._page_size = page_size
        self.results = [SideResult(Problem(kind), search.filter) for kind in search.kinds]

    def run(self) -> None:
        by_key = {r.problem.kind.key: r for r in self.results}
        done: list[CountResult] = []
        error = ""
        try:
            for dn, attrs in stream_entries(
                self._client,
                self._base,
                self._search.filter,
                self._search.attributes,
                page_size=self._page_size,
                on_done=done.append,
            ):
                name = who(dn, attrs, self._names)
                for kind in classify_side(attrs, self._names, self._now):
                    result = by_key.get(kind.key)
                    if result is not None:
                        result.problem.add(name, self._keep)
        except (AdapterError, OSError) as exc:
            error = str(exc) or type(exc).__name__
        finally:
            self._client.close()
        for result in self.results:
            result.result_code = done[0].result_code if done else -1
            result.error = error

    def stop(self) -> None:
        """Abort: closing the socket ends the thread's current read."""
        self._client.close()
