"""Tokens on a Debian-package Jitsi: the Lua libraries jitsi-meet-tokens' module needs, for prosody's Lua.

The token module (`mod_auth_token`, from jitsi-meet-prosody/jitsi-meet-tokens) requires `basexx`, `cjson`,
`inspect` and `luajwtjitsi`. The guides install them with apt or luarocks; luarocks builds for its own Lua
(often 5.1 or 5.3) while Debian's prosody runs 5.4, and prosody then logs "module 'basexx' not found" and the
host has no authentication at all. Which Lua prosody runs is read from its binary's shebang.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi.container.steps import FIND
from ldapcheck.jitsi.deploy import host as layoutmod
from ldapcheck.jitsi.deploy.local import host_session
from ldapcheck.jitsi.deploy.site import Site

LUA_LIBS = "host.lua_libs"
LIBRARIES = ("basexx", "cjson", "inspect")
JWT_LIBRARY = "luajwtjitsi"  # jitsi-meet-prosody ships it as a plugin library (luajwtjitsi.lib.lua); older: a rock
LOG_LINES = 200
_PLUGIN_PATHS = re.compile(r"plugin_paths\s*=\s*\{([^}]*)\}")
# The host's token settings → docker-jitsi-meet's variables (the secret is masked like JWT_APP_SECRET).
_ENV_OF = {"app_id": "JWT_APP_ID", "app_secret": "JWT_APP_SECRET", "allow_empty_token": "JWT_ALLOW_EMPTY"}


def env_from_host(layout: layoutmod.HostLayout, site: Site) -> Mapping[str, str]:
    """app_id/app_secret/allow_empty_token of the main VirtualHost, in docker-jitsi-meet's names."""
    main = site.main
    if main is None or main.authentication != "token":
        return {}
    return {var: main.settings[key] for key, var in _ENV_OF.items() if main.settings.get(key)}


def lua_libs(ctx: Any) -> Outcome:
    """Each library the token module requires, for the Lua version prosody runs; prosody's own errors if not."""
    session = host_session(ctx)
    site = session.site()
    if site.main is None or site.main.authentication != "token":
        raise StepSkipped('the main VirtualHost does not use authentication = "token"')
    layout = session.layout
    version, evidence = layout.lua_version()
    if not version:
        raise StepSkipped(f"not checked: prosody's Lua version is unknown ({evidence})")
    text = site.prosody.text() if site.prosody is not None else ""
    plugin_dirs = [p.strip().strip("\"'") for m in _PLUGIN_PATHS.finditer(text) for p in m.group(1).split(",")]
    plugin_dirs = [p for p in plugin_dirs if p and layout.path(p).is_dir()]
    found: dict[str, str] = {}
    missing: list[str] = []
    for name in LIBRARIES:
        where = layout.find_lua_lib(name, version)
        if where is None:
            missing.append(name)
        else:
            found[name] = where
    detail: dict[str, object] = {"prosody's Lua": f"{version} ({evidence})", **found}
    token_plugin = layout.find_module("auth_token", plugin_dirs)
    if token_plugin is None:
        detail["not checked"] = [
            f"{JWT_LIBRARY} and the token module itself: jitsi-meet's prosody plugins (mod_auth_token) are not in "
            "prosody's plugin_paths here"
        ]
    else:
        where = layout.find_lua_lib(JWT_LIBRARY, version, plugin_dirs)
        if where is None:
            missing.append(JWT_LIBRARY)
        else:
            found[JWT_LIBRARY] = detail[JWT_LIBRARY] = where
    if missing:
        errors = _prosody_errors(layout, missing)
        detail["missing"] = missing
        detail["prosody's log"] = errors or ["(no line about them)"]
        dirs = ", ".join(t.format(v=version) for t in layoutmod.LUA_DIRS[:3])
        raise CheckFailed(
            ids.HOST_LUA_LIB,
            f"the token module needs {', '.join(missing)} for Lua {version} (prosody's), and it is not in {dirs}: "
            "prosody cannot load the token authentication",
            hint=f"`sudo apt install {' '.join('lua-' + m for m in missing if m != JWT_LIBRARY)}` (Debian builds "
            f"them for Lua {version}; a luarocks install for another Lua does not count), then "
            "`sudo systemctl restart prosody`.",
            detail=detail,
            reproduce=f"lua{version} -e 'require \"{missing[0]}\"'; tail -n 20 /var/log/prosody/prosody.err",
            facts={fact.LINK: "prosody", "jwt.missing": missing},
        )
    return Outcome(summary=f"{', '.join(found)} found for Lua {version}", detail=detail)


def _prosody_errors(layout: layoutmod.HostLayout, names: list[str]) -> list[str]:
    """prosody's own log lines naming a missing library (bounded tails of its log files)."""
    lines: list[str] = []
    for path in layoutmod.PROSODY_LOGS:
        for line in layout.tail(path, lines=LOG_LINES) or []:
            if any(f"'{n}'" in line or f'"{n}"' in line for n in names) and "not found" in line:
                lines.append(f"{path}: {line.strip()[:300]}")
    return lines[-5:]


def steps() -> list[Step[Any]]:
    """The token module's Lua libraries (the host's own check)."""
    return [Step(id=LUA_LIBS, title="Token module's Lua libraries", run=lua_libs, requires=frozenset({FIND}))]
