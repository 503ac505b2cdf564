"""CLI: `ldapcheck explain [ID]` — what a failure id means and how to fix it."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ldapcheck.core.record import asdict


def explain(
    failure_id: Annotated[
        str | None, typer.Argument(help="A failure id from a report (e.g. RC-49, SA-TOKENS); none lists them all.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="The entry (or every entry) as JSON.")] = False,
) -> None:
    """Explain a failure id from the catalogue. Exit 2 for an unknown id."""
    from ldapcheck.commands.explain import explain as entry_of
    from ldapcheck.commands.explain import format_entry, format_list
    from ldapcheck.core import catalogue

    if failure_id is None:
        if json_out:
            entries = [asdict(catalogue.ENTRIES[i]) for i in catalogue.all_ids()]
            sys.stdout.write(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(format_list())
        return
    entry = entry_of(failure_id)
    sys.stdout.write(json.dumps(asdict(entry), indent=2) + "\n" if json_out else format_entry(entry))


def register(app: typer.Typer) -> None:
    """Add `explain` to `app`."""
    app.command("explain")(explain)
