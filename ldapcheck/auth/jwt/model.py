"""What the token verifier reads and answers: the configuration Util.new sees, rule results, verdicts.

All result types are frozen, keyword-only dataclasses. Decoded header and claims stay out of `repr` (they can
hold personal data and 1000 levels of nesting); the app secret too.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Scalar = str | int | float | bool
SUPPORTED_ALGS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512")  # what luajwtjitsi can verify
FetchKey = Callable[[str], tuple[int | None, str]]
"""``url -> (HTTP status or None on timeout, body)``; a key server answers 200 or 204 for a key."""


class RuleStatus(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the Lua code raised while making this check
    NOT_RUN = "not-run"


@dataclass(frozen=True, kw_only=True)
class RuleResult:
    id: str
    title: str
    status: RuleStatus
    reason: str | None = None  # prosody's text for a failure, or the Lua error
    detail: str | None = None  # which part of the token or configuration is at fault
    fix: str = ""


@dataclass(frozen=True, kw_only=True)
class Verification:
    ok: bool
    stage: str  # "config": Util.new refused the settings, the token module is off; "verify": the login
    error: str | None  # "not-allowed", "lua-error", "util-new-nil", or "'room' claim is missing" (sic)
    reason: str | None
    returned: tuple[object, ...] | None  # process_and_verify_token's return values; None when it raised
    rules: tuple[RuleResult, ...]
    failed_rule: str | None = None
    detail: str | None = None
    # Decoded JSON (never the signature). Out of repr: it can hold personal data and 1000 levels of nesting.
    header: object = field(default=None, repr=False)
    claims: object = field(default=None, repr=False)
    session: Mapping[str, object] = field(default_factory=dict, repr=False)  # what prosody binds to the session
    anonymous: bool = False  # accepted without a token (allow_empty_token)
    log: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class JoinResult:
    ok: bool
    error: str | None  # verify_room's err (e.g. "room-mismatch"), "lua-error", or None
    reason: str | None
    returned: tuple[object, ...] | None
    rule: str | None  # the JOIN_RULES id that decided a refusal
    client_text: str | None = None  # the <text/> of the presence error the client gets
    detail: str | None = None
    fix: str = ""


@dataclass(frozen=True, kw_only=True)
class TokenConfig:
    """The options Util.new reads, after prosody's get_option_* conversions (None = option not set)."""

    app_id: str | None = None
    app_secret: str | None = field(default=None, repr=False)
    asap_key_server: str | None = None
    cache_keys_url: str | None = None
    signature_algorithm: str | None = None  # unset: RS256 with a key server, else HS256
    accepted_issuers: tuple[Scalar, ...] | None = None  # unset: (app_id,)
    accepted_audiences: tuple[Scalar, ...] | None = None  # unset: ("*",)
    allow_empty_token: bool = False
    enable_domain_verification: bool = True
    require_room_claim: bool = True
    muc_mapper_domain_base: str | None = None
    muc_mapper_domain_prefix: str = "conference"
    muc_mapper_domain: str | None = None

    @property
    def algorithm(self) -> str | None:
        if self.signature_algorithm is not None:
            return self.signature_algorithm
        if self.asap_key_server is not None or self.cache_keys_url is not None:
            return "RS256"
        return "HS256" if self.app_secret is not None else None

    @property
    def issuers(self) -> tuple[Scalar, ...]:
        if self.accepted_issuers is not None:
            return self.accepted_issuers
        return () if self.app_id is None else (self.app_id,)

    @property
    def audiences(self) -> tuple[Scalar, ...]:
        return ("*",) if self.accepted_audiences is None else self.accepted_audiences

    @property
    def muc_domain(self) -> str | None:
        if self.muc_mapper_domain_base is None:
            return None
        if self.muc_mapper_domain is not None:
            return self.muc_mapper_domain
        return f"{self.muc_mapper_domain_prefix}.{self.muc_mapper_domain_base}"

    @classmethod
    def from_prosody_options(cls, options: Mapping[str, object]) -> TokenConfig:
        """From the host's prosody options (a null value is an option that is not set)."""
        from ldapcheck.auth.jwt import _lua as lua

        def scalar(name: str) -> object:
            value = options.get(name)
            return (value[0] if value else None) if isinstance(value, list | tuple) else value

        def string(name: str) -> str | None:  # get_option_string: tostring of the first item
            value = scalar(name)
            return None if value is None else lua.tostring(value)

        def boolean(name: str, default: bool | None = None) -> bool:  # get_option_boolean; unreadable = nil
            value = scalar(name)
            if value is None:
                return bool(default)
            return value is True or value == "true" or (lua.lua_type(value) == "number" and value == 1)

        def array(name: str) -> tuple[Scalar, ...] | None:
            value = options.get(name)
            if value is None:
                return None
            items = value if isinstance(value, list | tuple) else [value]
            return tuple(item for item in items if isinstance(item, str | int | float | bool))

        return cls(
            app_id=string("app_id"),
            app_secret=string("app_secret"),
            asap_key_server=string("asap_key_server"),
            cache_keys_url=string("cache_keys_url"),
            signature_algorithm=string("signature_algorithm"),
            accepted_issuers=array("asap_accepted_issuers"),
            accepted_audiences=array("asap_accepted_audiences"),
            allow_empty_token=boolean("allow_empty_token"),
            enable_domain_verification=boolean("enable_domain_verification", True),
            require_room_claim=boolean("asap_require_room_claim", True),
            muc_mapper_domain_base=string("muc_mapper_domain_base"),
            muc_mapper_domain_prefix=prefix
            if (prefix := string("muc_mapper_domain_prefix")) is not None
            else "conference",
            muc_mapper_domain=string("muc_mapper_domain"),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TokenConfig:
        """As docker-jitsi-meet's prosody template renders the main VirtualHost from a ``.env`` (or a container's
        environment). ValueError when it does not turn tokens on or holds what the Lua config cannot; its message
        never holds a character of JWT_APP_SECRET."""
        from ldapcheck.auth.jwt._env import render_options

        try:
            options = render_options(env)
        except ValueError as exc:
            if str(exc).startswith("JWT_APP_SECRET"):
                raise ValueError(
                    "JWT_APP_SECRET holds a character prosody's Lua config cannot hold ('\"', '\\', a line break)"
                ) from None
            raise
        return cls.from_prosody_options(options)


def check_config(config: TokenConfig) -> str | None:
    """Util.new's refusal, as prosody logs it; the token module is then not active at all."""
    if config.app_id is None:
        return "'app_id' must not be empty"
    if config.app_secret is None and config.asap_key_server is None and config.cache_keys_url is None:
        return "'app_secret', 'asap_key_server or 'cacheKeysUrl' must be specified"
    return None
