"""Render saslauthd.conf byte for byte as docker-jitsi-meet's prosody image does (jitsi/tpl v1.5.0).

Upstream renders with Go text/template (missingkey=default) plus sprout's `default` and tpl's `toBool`.
The Jinja2 templates in `templates/` are line-for-line translations; the filters below carry the
engine semantics that differ from Jinja's own:
- `default` treats unset and empty alike ("" is empty; " " and "0" are not);
- `toBool` strips every quote, accepts Go's ParseBool words, and reads any other non-empty text as TRUE
  (so `LDAP_USE_TLS=no` means yes);
- an unset variable printed directly renders the literal text `<no value>`.
"""

from __future__ import annotations

import enum
import functools
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ldapcheck.jitsi import modes
from ldapcheck.jitsi.tpl import to_bool as tpl_to_bool

if TYPE_CHECKING:
    import jinja2

NO_VALUE = "<no value>"

# The variables the template reads: the only ones `render` looks at.
TEMPLATE_VARIABLES = (
    "AUTH_TYPE",
    "PROSODY_AUTH_TYPE",
    "XMPP_DOMAIN",
    "LDAP_URL",
    "LDAP_BASE",
    "LDAP_BINDDN",
    "LDAP_BINDPW",
    "LDAP_FILTER",
    "LDAP_VERSION",
    "LDAP_AUTH_METHOD",
    "LDAP_USE_TLS",
    "LDAP_TLS_CHECK_PEER",
    "LDAP_TLS_CACERT_FILE",
    "LDAP_TLS_CACERT_DIR",
    "LDAP_TLS_CIPHERS",
    "LDAP_START_TLS",
)


class Generation(enum.StrEnum):
    """Template generations of docker-jitsi-meet's saslauthd.conf."""

    CURRENT = "current"  # stable-11146 on: certs under /run/prosody/config/certs, file at /run/saslauthd.conf
    LEGACY = "legacy"  # stable-8922 … stable-11031: certs under /config/certs, file at /etc/saslauthd.conf


def to_bool(value: object) -> bool:
    """tpl's `toBool` as a template filter (a Jinja undefined is an unset variable)."""
    return False if _is_undefined(value) else tpl_to_bool(value)


def is_empty(value: object) -> bool:
    """sprout's Empty for environment values: unset or ""."""
    return value is None or _is_undefined(value) or value == ""


def _default(value: object, fallback: object) -> object:
    return fallback if is_empty(value) else value


def _nonempty(value: object) -> bool:
    return not is_empty(value)


def _is_undefined(value: object) -> bool:
    # Only a template makes Undefined values, so a value cannot be one before jinja2 is imported: `count` and
    # `validate` read the .env through here without paying for jinja2 (15 ms).
    jinja2 = sys.modules.get("jinja2")
    return jinja2 is not None and isinstance(value, jinja2.Undefined)


def _template_source(name: str) -> str:
    from importlib.resources import files

    return files("ldapcheck.templates").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    class NoValue(jinja2.Undefined):
        """Go's missingkey=default: printing a missing key writes `<no value>`."""

        def __str__(self) -> str:
            return NO_VALUE

    env = jinja2.Environment(
        # templates/ at the repository root, shipped in the wheel as the package `ldapcheck.templates`.
        loader=jinja2.FunctionLoader(_template_source),
        undefined=NoValue,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
        autoescape=False,  # noqa: S701 - the output is a config file, not HTML
    )
    env.filters["default"] = _default
    env.filters["toBool"] = to_bool
    env.filters["nonempty"] = _nonempty
    return env


def load_engine() -> None:
    """Import Jinja2 and build the environment now (~30 ms), e.g. ahead of a timed first render."""
    _environment()


def render(environ: Mapping[str, str], generation: Generation | str = Generation.CURRENT) -> str:
    """Render saslauthd.conf from a process environment (unset keys are simply absent)."""
    gen = Generation(generation)
    template = _environment().get_template(f"saslauthd.{gen.value}.j2")
    env: dict[str, Any] = {k: environ[k] for k in TEMPLATE_VARIABLES if k in environ}
    return template.render(Env=env)


def rendered_gate(environ: Mapping[str, str]) -> bool:
    """Whether the container writes the file at all: the bash gate is `[[ "$AUTH_TYPE" == "ldap" ]]`."""
    return modes.started(environ, "ldap")
