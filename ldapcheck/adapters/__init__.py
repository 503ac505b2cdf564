"""Adapters: thin wrappers around ldap3, the docker SDK and sockets that raise domain errors."""
