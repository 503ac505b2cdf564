"""How an error ends a run: its message on stderr and its exit code (shared by the typer app and `fastcount`).

Typer-free, so that `ldapcheck count`'s fast path maps errors exactly as the full CLI does without importing it.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from ldapcheck.core.errors import ConfigError, DockerUnavailable, LdapCheckError
from ldapcheck.core.model import ExitCode
from ldapcheck.core.secrets import mask_debug


def debugging() -> bool:
    """--debug anywhere on the command line, or LDAPCHECK_DEBUG set."""
    return bool(os.environ.get("LDAPCHECK_DEBUG")) or "--debug" in sys.argv


def exit_for(exc: BaseException) -> NoReturn:
    """Exit for an error that reached the top: usage problems 2, failures 1, anything unexpected 3 (no traceback
    unless --debug, and then with the secrets this process holds masked)."""
    if isinstance(exc, KeyboardInterrupt):
        print("ldapcheck: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    if isinstance(exc, DockerUnavailable | ConfigError):
        print(f"ldapcheck: {exc}", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    if isinstance(exc, LdapCheckError):
        print(f"ldapcheck: {exc}", file=sys.stderr)
        sys.exit(ExitCode.FAILED)
    # Usage errors from the (vendored) click layer: they know how to show themselves.
    show = getattr(exc, "show", None)
    if callable(show) and hasattr(exc, "exit_code"):
        show()
        sys.exit(ExitCode.USAGE)
    if debugging():
        import traceback

        # The traceback, with the secrets this process holds masked (an exception's text may quote one).
        sys.stderr.write(mask_debug("".join(traceback.format_exception(exc))))
        sys.exit(ExitCode.INTERNAL)
    print(f"ldapcheck: internal error ({type(exc).__name__}); rerun with --debug and report it", file=sys.stderr)
    sys.exit(ExitCode.INTERNAL)
