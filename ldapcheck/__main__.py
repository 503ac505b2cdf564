"""`python -m ldapcheck` entry point."""

from ldapcheck.entry import main

main()  # pragma: no cover
