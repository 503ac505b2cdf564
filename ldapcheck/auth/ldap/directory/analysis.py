"""Directory-wide analysis as a single streaming pass over (dn, attributes) entries; no I/O, bounded memory."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ldapcheck.adapters.ldap.stream import content, decode_entry
from ldapcheck.auth.ldap import account
from ldapcheck.auth.ldap.directory.filter import LoginFilter
from ldapcheck.auth.ldap.directory.problems import (
    AD_DISABLED,
    AD_EXPIRED,
    AD_LOCKED,
    AD_MUST_CHANGE,
    ALL_KINDS,
    DUPLICATE,
    LOGIN_UNREACHABLE,
    NO_LOGIN_ATTR,
    PPOLICY_LOCKED,
    PPOLICY_RESET,
    SUSPECT,
    CompactHashSet,
    ProblemKind,
    Reservoir,
    account_problems,
    filetime,
    login_problems,
    match_key,
)

# Full lists (JSON) keep at most this many examples per problem; counts are always exact.
DEFAULT_KEEP = 10_000


@dataclass
class Problem:
    """Count and examples (login values or DNs) of one kind of problem."""

    kind: ProblemKind
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str, keep: int) -> None:
        """Count one occurrence, keeping its example while there is room."""
        self.count += 1
        if len(self.examples) < keep:
            self.examples.append(example)

    @property
    def complete(self) -> bool:
        """Whether `examples` lists every occurrence."""
        return len(self.examples) == self.count


@dataclass
class Duplicate:
    """A login value that selects more than one entry: how many, and what the first duplicate looked like."""

    login: str
    entries: int


@dataclass
class Findings:
    """What one scan saw."""

    entries: int = 0
    selected: int = 0
    login_values: int = 0
    problems: dict[str, Problem] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    duplicate_logins: int = 0
    duplicate_entries: int = 0
    sample: list[str] = field(default_factory=list)
    dedup_bytes: int = 0

    def problem(self, kind: ProblemKind) -> Problem:
        """The tally of `kind` (zero if never seen)."""
        return self.problems.get(kind.key) or Problem(kind)


def scan_attributes(login: LoginFilter) -> list[str]:
    """The login attributes: what the scan requests from Active Directory (see `scan_plan`)."""
    return list(login.attr_names)


def side_filters(login: LoginFilter, *, active_directory: bool, now: float) -> list[tuple[ProblemKind, str]]:
    """Searches that return only the entries with a problem the scan's attributes don't show."""
    p = login.presence
    out: list[tuple[ProblemKind, str]] = []
    if login.lacking is not None:
        out.append((NO_LOGIN_ATTR, login.lacking))
    if active_directory:
        out += [
            (AD_DISABLED, f"(&{p}(userAccountControl:1.2.840.113556.1.4.803:=2))"),
            (AD_LOCKED, f"(&{p}(lockoutTime>=1))"),
            # accountExpires 0 and 2**63-1 mean "never"; both fall outside 1..now.
            (AD_EXPIRED, f"(&{p}(accountExpires>=1)(accountExpires<={filetime(now)}))"),
            (AD_MUST_CHANGE, f"(&{p}(pwdLastSet=0))"),
        ]
    else:
        out += [(PPOLICY_LOCKED, f"(&{p}(pwdAccountLockedTime=*))"), (PPOLICY_RESET, f"(&{p}(pwdReset=TRUE))")]
    return out


@dataclass(frozen=True)
class SideSearch:
    """The side searches OR-ed into one (one server pass), the attributes that classify its entries, and the kinds."""

    filter: str
    attributes: tuple[str, ...]
    kinds: tuple[ProblemKind, ...]


def side_search(login: LoginFilter, *, active_directory: bool, now: float) -> SideSearch:
    """One search for every entry with a problem the scan's attributes don't show (see `classify_side`)."""
    parts = side_filters(login, active_directory=active_directory, now=now)
    states = account.AD_ATTRS if active_directory else account.PPOLICY_ATTRS
    return SideSearch(
        filter="(|" + "".join(flt for _, flt in parts) + ")",
        attributes=(*login.attr_names, *states),
        kinds=tuple(kind for kind, _ in parts),
    )


@dataclass(frozen=True)
class ScanPlan:
    """The scan's search, and whether the side search runs beside it or is answered by the scan's own entries."""

    filter: str
    attributes: tuple[str, ...]
    side: SideSearch
    one_pass: bool


def scan_plan(login: LoginFilter, *, active_directory: bool, now: float) -> ScanPlan:
    """One search for OpenLDAP-like servers, the scan and a side search for Active Directory.

    ppolicy's state attributes (pwdAccountLockedTime, pwdReset) exist only on the entries in that state: asking
    every entry for them costs slapd nothing measurable (1M users: 1.48 s of CPU with them, 1.38-1.47 s without),
    while the side search, a filter slapd evaluates on every entry, cost it 0.85 s more. So the scan asks for them
    and also selects the entries without a login attribute (`lacking`): one pass over the directory. On Active
    Directory every user carries userAccountControl, accountExpires and pwdLastSet: four more attributes on every
    entry of the scan, so there the states still come from the side search.
    """
    side = side_search(login, active_directory=active_directory, now=now)
    if active_directory:
        return ScanPlan(login.scan, tuple(login.attr_names), side, one_pass=False)
    selected = f"(|{login.scan}{login.lacking})" if login.lacking is not None else login.scan
    return ScanPlan(selected, side.attributes, side, one_pass=True)


def classify_side(attrs: Mapping[str, Sequence[bytes]], login_names: Sequence[str], now: float) -> list[ProblemKind]:
    """Why a side-search entry was returned: no login attribute, or its account states."""
    low = {k.lower(): v for k, v in attrs.items()}
    if not any(low.get(n.lower()) for n in login_names):
        return [NO_LOGIN_ATTR]
    return account_problems(low, filetime(now))


def who(dn: str, attrs: Mapping[str, Sequence[bytes]], names: Sequence[str]) -> str:
    """How an entry is named in examples: its first login value, else its DN."""
    wanted = {n.lower() for n in names}
    for key, values in attrs.items():
        if key.lower() in wanted and values:
            return values[0].decode("utf-8", "replace")
    return dn


class DirectoryScan:
    """Feed every entry the scan filter returns; read `findings()` at the end.

    Per-login state is one compact hash (see CompactHashSet); everything else is counters, capped example lists
    and a fixed-size sample, so memory does not grow with the directory beyond ~7 bytes per login value.
    """

    def __init__(
        self,
        login: LoginFilter,
        *,
        keep: int = DEFAULT_KEEP,
        sample_size: int = 20,
        now: float | None = None,
        seed: int = 0,
    ) -> None:
        self.login = login
        self._attrs = [(a.name.lower(), a) for a in login.login_attrs]
        self._plain = all(not a.prefix and not a.suffix for a in login.login_attrs)
        # Fast path of `feed`: one plain login attribute (lower-cased name; `_exact` as written in the filter).
        self._fast = self._attrs[0][0] if self._plain and len(self._attrs) == 1 else ""
        self._exact = login.login_attrs[0].name if self._fast else ""
        self._keep = keep
        self._now = filetime(time.time() if now is None else now)
        self._seen = CompactHashSet()
        self._dup_seen: CompactHashSet | None = None  # made at the first duplicate: most directories have none
        self._dups: dict[bytes, Duplicate] = {}
        self._sample = Reservoir(sample_size, seed)
        self.findings_ = Findings(problems={k.key: Problem(k) for k in ALL_KINDS})

    def feed_all(self, entries: Iterable[tuple[str, Mapping[str, Sequence[bytes]]]]) -> Findings:
        """Feed a whole stream and return the findings."""
        for dn, attrs in entries:
            self.feed(dn, attrs)
        return self.findings()

    def feed(self, dn: str, attrs: Mapping[str, Sequence[bytes]]) -> None:
        """Account for one entry (attribute names in any case; values as the server sent them)."""
        f = self.findings_
        f.entries += 1
        if self._fast and len(attrs) == 1:
            # The common entry: only the login attribute came back, with one value.
            for name, vals in attrs.items():
                if len(vals) == 1 and (name == self._exact or name.lower() == self._fast):
                    raw = vals[0]
                    f.selected += 1
                    f.login_values += 1
                    if self._sample.wants():
                        self._sample.offer(raw.decode("utf-8", "replace"))
                    key = raw.lower() if SUSPECT.search(raw) is None else self._key(raw)
                    if self._seen.add(key):
                        self._duplicate(key, raw)
                    return
        low = {k.lower(): v for k, v in attrs.items()}
        values = self._login_values(low)
        if not values:
            unreachable = self._unreachable(low)
            if unreachable is None:
                f.problems[NO_LOGIN_ATTR.key].add(dn, self._keep)
            else:
                f.problems[LOGIN_UNREACHABLE.key].add(unreachable, self._keep)
        else:
            f.selected += 1
            if self._sample.wants():
                self._sample.offer(values[0].decode("utf-8", "replace"))
            if len(values) == 1:
                f.login_values += 1
                key = self._key(values[0])
                if self._seen.add(key):
                    self._duplicate(key, values[0])
            else:
                self._many(values)
        if len(self._attrs) > 1 or len(low) > (1 if values else 0):
            states = account_problems(low, self._now)
            if states:
                who = values[0].decode("utf-8", "replace") if values else dn
                for kind in states:
                    f.problems[kind.key].add(who, self._keep)

    def feed_page(self, data: bytes, offsets: Sequence[int]) -> None:
        """Account for a page of SearchResultEntry ops (`offsets`: where each op starts in `data`).

        The common entry (only the login attribute, one value, nothing saslauthd treats specially) is read straight
        from the BER and counted here, without building its DN, dict and lists: at 1M entries decoding every entry
        and `feed` cost ~3.7 s of CPU, this ~1.5 s. Any other entry goes through `feed`.
        """
        if not self._fast:
            for op in offsets:
                self.feed(*decode_entry(data, op))
            return
        names = {self._exact.encode(), self._fast.encode()}
        seen_add = self._seen.add
        sample = self._sample
        suspect = SUSPECT.search
        fast = 0
        for op in offsets:
            # SearchResultEntry: [op] dn OCTET STRING, attributes SEQUENCE OF SEQUENCE {type, SET OF value}; lengths
            # below 128 (short form) are read inline, the others by `content`.
            n = data[op + 1]
            pos = op + 2 + (n & 0x7F if n & 0x80 else 0)
            n = data[pos + 1]
            pos = pos + 2 + n if n < 0x80 else content(data, pos)[1]
            n = data[pos + 1]
            start, seq_end = (pos + 2, pos + 2 + n) if n < 0x80 else content(data, pos)
            if start < seq_end:
                n = data[start + 1]
                body, attr_end = (start + 2, start + 2 + n) if n < 0x80 else content(data, start)
                n = data[body + 1]
                name_end = body + 2 + n
                if attr_end == seq_end and n < 0x80 and data[body + 2 : name_end] in names:
                    n = data[name_end + 1]
                    vpos, set_end = (name_end + 2, name_end + 2 + n) if n < 0x80 else content(data, name_end)
                    n = data[vpos + 1] if vpos < set_end else 0x80
                    if n < 0x80 and vpos + 2 + n == set_end:
                        raw = data[vpos + 2 : set_end]
                        fast += 1
                        if sample.wants():
                            sample.offer(raw.decode("utf-8", "replace"))
                        key = raw.lower() if raw.isalnum() or suspect(raw) is None else self._key(raw)
                        if seen_add(key):
                            self._duplicate(key, raw)
                        continue
            self.feed(*decode_entry(data, op))
        f = self.findings_
        f.entries += fast
        f.selected += fast
        f.login_values += fast

    def _many(self, values: list[bytes]) -> None:
        """An entry with several login values: each distinct one is a login; repeats within it are not duplicates."""
        mine: set[bytes] = set()
        for raw in values:
            key = self._key(raw)
            if key in mine:
                continue
            mine.add(key)
            self.findings_.login_values += 1
            if self._seen.add(key):
                self._duplicate(key, raw)

    def _unreachable(self, low: Mapping[str, Sequence[bytes]]) -> str | None:
        """A login attribute value no typed login can produce (`(mail=%U@%d)`: %d is empty through prosody)."""
        if self._plain:
            return None
        for name, _ in self._attrs:
            for raw in low.get(name) or ():
                return raw.decode("utf-8", "replace")
        return None

    def _login_values(self, low: Mapping[str, Sequence[bytes]]) -> list[bytes]:
        if self._plain:
            if len(self._attrs) == 1:
                return list(low.get(self._attrs[0][0]) or ())
            return [v for name, _ in self._attrs for v in low.get(name) or ()]
        out: list[bytes] = []
        for name, attr in self._attrs:
            for raw in low.get(name) or ():
                login = attr.login_of(raw.decode("utf-8", "replace"))
                if login is not None:
                    out.append(login.encode("utf-8", "surrogatepass"))
        return out

    def _key(self, raw: bytes) -> bytes:
        if SUSPECT.search(raw) is None:
            return raw.lower()
        text = raw.decode("utf-8", "replace")
        for kind in login_problems(text):
            self.findings_.problems[kind.key].add(text, self._keep)
        return match_key(text)

    def _duplicate(self, key: bytes, raw: bytes) -> None:
        f = self.findings_
        f.duplicate_entries += 1
        known = self._dups.get(key)
        if known is not None:
            known.entries += 1
            return
        if self._dup_seen is None:
            self._dup_seen = CompactHashSet()
        if not self._dup_seen.add(key):
            f.duplicate_logins += 1
            f.duplicate_entries += 1  # the first entry with this value, seen before we knew
            if len(self._dups) < self._keep:
                self._dups[key] = Duplicate(raw.decode("utf-8", "replace"), 2)

    def merge(self, problem: Problem) -> None:
        """Add a tally made elsewhere (a side search) to the findings."""
        mine = self.findings_.problems[problem.kind.key]
        mine.count += problem.count
        mine.examples.extend(problem.examples[: max(0, self._keep - len(mine.examples))])

    def findings(self) -> Findings:
        """The findings so far (final after the last `feed`)."""
        f = self.findings_
        f.duplicates = sorted(self._dups.values(), key=lambda d: (-d.entries, d.login))
        dup = f.problems[DUPLICATE.key]
        dup.count = f.duplicate_logins
        dup.examples = [d.login for d in f.duplicates]
        f.sample = list(self._sample.items)
        f.dedup_bytes = self._seen.nbytes() + (self._dup_seen.nbytes() if self._dup_seen else 0)
        return f
