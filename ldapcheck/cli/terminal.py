"""What the CLI does with the terminal: colour or not, a progress line on stderr (typer-free: `fastcount` uses it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def use_color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR or TERM=dumb."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


@contextmanager
def progress_line(what: str) -> Iterator[Callable[[int], None] | None]:
    """A `counting… N entries` line on a terminal's stderr while long work runs, cleared afterwards."""
    if not sys.stderr.isatty():
        yield None
        return

    def show(count: int) -> None:
        sys.stderr.write(f"\r  {what}… {count:,} entries")
        sys.stderr.flush()

    try:
        yield show
    finally:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
