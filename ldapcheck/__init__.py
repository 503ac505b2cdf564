"""ldapcheck: explain why a docker-jitsi-meet LDAP login fails."""

__version__ = "0.1.0"
