"""Which auth mode a docker-jitsi-meet environment turns on: the one place that reads the switches.

docker-jitsi-meet (auth-modes.md §1.1): `ENABLE_AUTH` (default off) gates everything; `AUTH_TYPE` (default
`internal`) names the mode; `PROSODY_AUTH_TYPE` (default `$AUTH_TYPE`) overrides it for prosody's templates;
`ENABLE_GUESTS` (default off) adds the anonymous guest host, but only when `ENABLE_AUTH` is on too. The
prosody image's shell scripts (saslauthd for ldap) test `AUTH_TYPE` itself, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping

from ldapcheck.core.record import record
from ldapcheck.jitsi.tpl import to_bool

__all__ = ["MODES", "AuthModes", "auth_modes", "gate", "started", "to_bool"]

MODES = ("internal", "jwt", "ldap", "matrix", "hybrid_matrix_token")
DEFAULT_AUTH_TYPE = "internal"
NONE = "none"  # ENABLE_AUTH off: prosody's main host is `jitsi-anonymous`


@record
class AuthModes:
    """The auth switches of one environment, as the image reads them."""

    enabled: bool  # ENABLE_AUTH
    auth_type: str | None  # AUTH_TYPE as written (None when unset)
    prosody_auth_type: str  # what prosody's templates use: PROSODY_AUTH_TYPE or AUTH_TYPE or "internal"
    guests: bool  # the guest VirtualHost is rendered (ENABLE_GUESTS and ENABLE_AUTH)

    @property
    def main(self) -> str:
        """The mode of prosody's main VirtualHost: one of MODES (or what is written), or "none"."""
        return self.prosody_auth_type if self.enabled else NONE

    def active(self) -> tuple[str, ...]:
        """The main mode, plus "guest" when anonymous guests are let in beside it."""
        return (self.main, "guest") if self.guests else (self.main,)

    def requested(self, mode: str) -> bool:
        """Whether the file means `mode` (AUTH_TYPE or PROSODY_AUTH_TYPE, ignoring case and spaces)."""
        return any(v.strip().lower() == mode for v in (self.auth_type or "", self.prosody_auth_type))


def _loose(value: str) -> str:
    return value.strip().strip("\"'").lower()


def auth_modes(env: Mapping[str, str]) -> AuthModes:
    """The switches of `env` (a .env or a container's environment) with docker-jitsi-meet's defaults."""
    enabled = to_bool(env.get("ENABLE_AUTH") or "0")
    auth_type = env.get("AUTH_TYPE")
    return AuthModes(
        enabled=enabled,
        auth_type=auth_type,
        prosody_auth_type=env.get("PROSODY_AUTH_TYPE") or auth_type or DEFAULT_AUTH_TYPE,
        guests=enabled and to_bool(env.get("ENABLE_GUESTS") or "0"),
    )


def started(env: Mapping[str, str], mode: str) -> bool:
    """Whether the image's own scripts set `mode` up: their gate is `[[ "$AUTH_TYPE" == "<mode>" ]]`."""
    return env.get("AUTH_TYPE") == mode


def gate(env: Mapping[str, str], mode: str, *, what: str) -> str | None:
    """Why the image does not set `mode` up from this env (None when it does); `what` names what it skips."""
    value = env.get("AUTH_TYPE", "")
    if started(env, mode):
        return None
    if _loose(value) == mode:
        return f"AUTH_TYPE={value} is not exactly `{mode}`: the image's gate is case- and quote-sensitive"
    return f"AUTH_TYPE={value or '(unset)'}: the image {what} only for AUTH_TYPE={mode}"
