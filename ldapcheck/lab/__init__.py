"""The ldapcheck lab: OpenLDAP → saslauthd → prosody in containers on 127.0.0.1 (host networking only)."""
