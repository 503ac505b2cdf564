"""The console script: signals first, then the CLI.

Importing the CLI takes ~100 ms (typer, click). A Ctrl-C in that time must end the run as quietly as one later
(exit 130, no traceback), and SIGTERM must unwind like Ctrl-C (open files closed, temporary files removed)
and exit 143. A plain `ldapcheck count` runs without typer (`ldapcheck.cli.fastcount`): it is start-up bound.
"""

from __future__ import annotations

import signal
import sys

from ldapcheck.core.model import ExitCode


def _terminated(_signum: int, _frame: object) -> None:
    raise SystemExit(ExitCode.TERMINATED)


def main() -> None:
    """Run ldapcheck's CLI with exit codes 130/143 for SIGINT/SIGTERM at any moment."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        from ldapcheck.cli import fastcount

        count_args = fastcount.parse(sys.argv[1:])
        if count_args is not None:
            fastcount.run(count_args)
        from ldapcheck.cli.app import main as cli_main
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    cli_main()
