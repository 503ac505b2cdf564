"""config.js's auth settings, in either form it is written in: the one parser for the docker and the package kind.

docker-jitsi-meet's web image renders assignments (`config.hosts.domain = 'meet.jitsi';`); the jitsi-meet-web
package writes an object literal (`var config = { hosts: { domain: 'meet.example.com', … }, bosh: '…' }`).
Comment lines (`//`) are skipped and, as in the browser, the last assignment of a key wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `config.key = '…'`, `config.hosts.key = '…'` or, inside the literal, `key: '…'`; a string ends at its own quote
# (the package's config.js puts `<!--# echo var="subdir" -->` inside single-quoted values).
_SETTING = re.compile(r"""^\s*(?:config\.)?(hosts\.[A-Za-z]+|[A-Za-z]+)\s*[:=]\s*(?:'([^']*)'|"([^"]*)")""")
_HOSTS_OPEN = re.compile(r"^\s*hosts\s*:\s*\{")
_CLOSE = re.compile(r"^\s*\}")


@dataclass(frozen=True)
class ConfigJs:
    """The auth-relevant settings of a config.js ("" when absent)."""

    domain: str = ""
    anonymousdomain: str = ""
    authdomain: str = ""
    bosh: str = ""
    websocket: str = ""
    token_auth_url: str = ""  # config.tokenAuthUrl (TOKEN_AUTH_URL): where tokenless users are sent for a token


def parse_config_js(text: str) -> ConfigJs:
    """The settings of `text` in either form (see the module docstring)."""
    found: dict[str, str] = {}
    in_hosts = False
    for line in text.splitlines():
        if line.lstrip().startswith("//"):
            continue
        if _HOSTS_OPEN.match(line):
            in_hosts = True
            continue
        if in_hosts and _CLOSE.match(line):
            in_hosts = False
        match = _SETTING.match(line)
        if match is not None:
            key, single, double = match.groups()
            value = single if single is not None else double
            found[f"hosts.{key}" if in_hosts and not key.startswith("hosts.") else key] = value
    return ConfigJs(
        domain=found.get("hosts.domain", ""),
        anonymousdomain=found.get("hosts.anonymousdomain", ""),
        authdomain=found.get("hosts.authdomain", ""),
        bosh=found.get("bosh", ""),
        websocket=found.get("websocket", ""),
        token_auth_url=found.get("tokenAuthUrl", ""),
    )
