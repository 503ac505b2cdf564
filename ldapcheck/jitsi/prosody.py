"""Read prosody's rendered config the way prosody does, as far as logins go: its VirtualHosts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_VHOST = re.compile(r'^\s*VirtualHost\s*[("\']+([^"\']+)["\')]*', re.MULTILINE)
_COMPONENT = re.compile(r"^\s*Component\s*[(\"']", re.MULTILINE)
_SETTING = re.compile(r'^\s*([a-z_]+)\s*=\s*"([^"]*)"', re.MULTILINE)


@dataclass(frozen=True)
class ProsodyHost:
    """The settings of one VirtualHost section that matter for logins."""

    name: str
    authentication: str
    settings: Mapping[str, str]


def parse_prosody_hosts(text: str) -> tuple[dict[str, str], dict[str, ProsodyHost]]:
    """Global string settings and each VirtualHost's, from a rendered prosody.cfg.lua (`--` comments removed)."""
    clean = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    marks = [(m.start(), m.group(1)) for m in _VHOST.finditer(clean)]
    marks += [(m.start(), "") for m in _COMPONENT.finditer(clean)]
    marks.sort()
    first = marks[0][0] if marks else len(clean)
    global_settings = dict(_SETTING.findall(clean[:first]))
    hosts: dict[str, ProsodyHost] = {}
    for index, (start, name) in enumerate(marks):
        if not name:
            continue
        end = marks[index + 1][0] if index + 1 < len(marks) else len(clean)
        settings = dict(_SETTING.findall(clean[start:end]))
        auth = settings.get("authentication") or global_settings.get("authentication", "internal_hashed")
        hosts[name] = ProsodyHost(name=name, authentication=auth, settings=settings)
    return global_settings, hosts
