"""Command-line interface: options in, a report out, an exit code.

The typer application is `ldapcheck.cli.app`; `ldapcheck.cli.fastcount` runs `ldapcheck count` without it. This
package's own module stays empty so that importing a light CLI module does not import typer.
"""
