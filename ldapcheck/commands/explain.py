"""`ldapcheck explain ID`: one entry of the failure catalogue, or the whole list."""

from __future__ import annotations

from ldapcheck.core import catalogue
from ldapcheck.core.errors import ConfigError


def explain(failure_id: str) -> catalogue.Entry:
    """The catalogue entry for `failure_id` (any case); ConfigError (exit 2) for an unknown id."""
    entry = catalogue.lookup(failure_id.strip())
    if entry is None:
        raise ConfigError(f"unknown failure id {failure_id!r}: `ldapcheck explain` lists every id")
    return entry


def format_entry(entry: catalogue.Entry) -> str:
    """The entry as text: id and title, then what it means and the fix."""
    family = catalogue.FAMILIES.get(entry.family, entry.family)
    return f"{entry.id}: {entry.title}\n  family: {family}\n  meaning: {entry.meaning}\n  fix: {entry.fix}\n"


def format_list() -> str:
    """Every static id with its title, grouped by family in the order of the login chain."""
    lines: list[str] = []
    family = ""
    for fid in catalogue.all_ids():
        entry = catalogue.ENTRIES[fid]
        if entry.family != family:
            family = entry.family
            lines.append(f"{family}: {catalogue.FAMILIES.get(family, family)}")
        lines.append(f"  {fid:<24} {entry.title}")
    lines.append("RC-<n> answers for any LDAP result code, AD-<hex> for Active Directory bind sub-codes.")
    return "\n".join(lines) + "\n"
