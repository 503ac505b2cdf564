"""Domain errors: every message tells the operator what happened and what to do."""

from __future__ import annotations


class LdapCheckError(Exception):
    """Base of every error ldapcheck raises on purpose (never a bug)."""


class ConfigError(LdapCheckError):
    """The settings given (options, `.env`) cannot be used; exit code 2."""


class EnvFileError(ConfigError):
    """A `.env` file is unreadable or cannot be parsed unambiguously."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class DockerUnavailable(LdapCheckError):
    """No Docker engine answered."""
