"""Placeholder, replaced by the full catalogue in the next commit."""

LDAPCHECK_INTERNAL = "LDAPCHECK-INTERNAL"
