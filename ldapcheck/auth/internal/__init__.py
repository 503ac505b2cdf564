"""Internal accounts (`AUTH_TYPE=internal`, prosody's `internal_hashed`): where the account is stored, which config
and data path the running prosody uses, and the verdict (auth-modes.md §3)."""
