"""Checks: the steps of each command, as plain functions over a context (no I/O here except through adapters)."""
