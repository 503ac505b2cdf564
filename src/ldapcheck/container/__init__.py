"""Scripts ldapcheck runs inside the prosody container (package data), and the parsers for what they print."""
