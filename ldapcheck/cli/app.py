"""The typer application: every command, `--help`, and the single place that maps errors to exit codes.

Each command group lives in its own module and registers itself on `app`. Heavy libraries
(ldap3, docker, jinja2) are imported inside the commands so that `--help` starts fast.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from ldapcheck import __version__
from ldapcheck.cli import bench, container, diagnose, envcmd, exits, explain, lab, lint, render, token, validate
from ldapcheck.core.model import ExitCode
from ldapcheck.core.secrets import mask_debug


def _new_app() -> typer.Typer:
    return typer.Typer(
        name="ldapcheck",
        help="Explain why a docker-jitsi-meet LDAP login fails, validate a directory, write the .env LDAP block.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )


app = _new_app()


def _version(value: bool) -> None:
    if value:
        print(f"ldapcheck {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", envvar="LDAPCHECK_DEBUG", help="Log details and show tracebacks."),
) -> None:
    if debug:
        os.environ["LDAPCHECK_DEBUG"] = "1"
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        for handler in logging.getLogger().handlers:
            handler.setFormatter(_MaskingFormatter("%(name)s: %(message)s"))


class _MaskingFormatter(logging.Formatter):
    """Debug records (their tracebacks included) with the secrets this process holds masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_debug(super().format(record))


app.callback()(_root)
for _module in (lab, render, lint, envcmd, diagnose, container, validate, token, explain, bench):
    _module.register(app)


def app_for(argv: list[str]) -> typer.Typer:
    """The app to run for `argv`: when it names a command, an app holding only that command.

    typer turns every registered command into a click command on each run by inspecting its signature (~25 ms
    for all of them); `ldapcheck count` on a small directory took longer to start than to count.
    Help, a bare `ldapcheck` and unknown names get the whole app.
    """
    name = next((a for a in argv if not a.startswith("-")), None)
    if name is None:
        return app
    lean = _new_app()
    lean.callback()(_root)
    lean.registered_commands = [c for c in app.registered_commands if c.name == name]
    lean.registered_groups = [g for g in app.registered_groups if g.name == name]
    return lean if lean.registered_commands or lean.registered_groups else app


def main() -> None:
    """Console-script entry point: typer's own exits here, every other error in `exits.exit_for`."""
    try:
        rc = app_for(sys.argv[1:])(standalone_mode=False)
        if isinstance(rc, int) and rc:  # without standalone mode, typer *returns* typer.Exit's code
            sys.exit(rc)
    except typer.Exit as exc:  # deliberate exits (Exit subclasses RuntimeError: catch it first)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("ldapcheck: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:
        exits.exit_for(exc)
    except KeyboardInterrupt:
        exits.exit_for(KeyboardInterrupt())
