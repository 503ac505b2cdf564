"""Lab fixtures only the tests use (not shipped in the wheel)."""
