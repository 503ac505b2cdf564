"""`python -m ldapcheck` entry point."""

from ldapcheck.cli import main

main()  # pragma: no cover
