"""Use cases: one module per command, `(typed options) -> Report`. The CLI maps flags to options and prints."""
