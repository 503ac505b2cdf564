"""A Jitsi installed from Debian packages, read from its files: where the packages and the guides put things.

Everything here reads under `root` (`/` on a real host; a temporary tree in unit tests) with bounded reads, and
runs nothing: the commands (systemctl, journalctl, the facts script) are `ldapcheck.jitsi.deploy.local`'s.

The layout (Debian's prosody, jitsi-meet's packages, the "secure domain" and LDAP guides):
- `/etc/prosody/prosody.cfg.lua` with `Include "conf.d/*.cfg.lua"`; a site's VirtualHosts in
  `/etc/prosody/conf.avail/<host>.cfg.lua`, enabled by a symlink in `/etc/prosody/conf.d/`;
- `/etc/jitsi/jicofo/jicofo.conf` (HOCON: `jicofo { authentication: { enabled, type, login-url } }`);
- `/etc/jitsi/meet/<host>-config.js` (`hosts.domain`, `hosts.anonymousdomain`, `bosh`);
- `/etc/default/saslauthd` (`START`, `MECHANISMS`, `OPTIONS`) and `/etc/saslauthd.conf`;
- accounts in `/var/lib/prosody/<host %-encoded>/accounts/<user>.dat`.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ldapcheck.jitsi.configjs import parse_config_js
from ldapcheck.jitsi.prosody import ProsodyHost, parse_prosody_hosts

PROSODY_DIR = "/etc/prosody"
PROSODY_CFG = "/etc/prosody/prosody.cfg.lua"
CONF_AVAIL = "/etc/prosody/conf.avail"
CONF_D = "/etc/prosody/conf.d"
JICOFO_CONF = "/etc/jitsi/jicofo/jicofo.conf"
JICOFO_LEGACY = "/etc/jitsi/jicofo/sip-communicator.properties"  # org.jitsi.jicofo.auth.URL=XMPP:<host>
MEET_DIR = "/etc/jitsi/meet"
SASLAUTHD_DEFAULTS = "/etc/default/saslauthd"
SASLAUTHD_CONF = "/etc/saslauthd.conf"
DATA_PATH = "/var/lib/prosody"
PROSODY_LOGS = ("/var/log/prosody/prosody.err", "/var/log/prosody/prosody.log")
PROSODY_BINARIES = ("/usr/bin/prosody", "/usr/local/bin/prosody")
# Where prosody's own modules are (Debian's package, prosody.im's, source builds); others (prosody-modules in
# /usr/share/prosody-modules, jitsi-meet's plugins) count only when the config's plugin_paths names them.
MODULE_DIRS = ("/usr/lib/prosody/modules", "/usr/local/lib/prosody/modules")
# Where Lua looks for modules of version V (Debian's package.path/cpath, then luarocks' /usr/local).
LUA_DIRS = (
    "/usr/share/lua/{v}",
    "/usr/local/share/lua/{v}",
    "/usr/lib/x86_64-linux-gnu/lua/{v}",
    "/usr/lib/aarch64-linux-gnu/lua/{v}",
    "/usr/local/lib/lua/{v}",
    "/usr/lib/lua/{v}",
)
READ_LIMIT = 1 << 20  # a config file is a few KiB
TAIL_LIMIT = 64 * 1024  # the end of a log file, never the whole of it

_INCLUDE = re.compile(r'^\s*Include\s*\(?\s*["\']([^"\']+)["\']', re.MULTILINE)
_SHELL_VAR = re.compile(r'^\s*([A-Z_][A-Z0-9_]*)=(?:"([^"]*)"|\'([^\']*)\'|(\S*))', re.MULTILINE)
_LUA_SHEBANG = re.compile(r"lua(5\.[1-4]|jit)?\b")
_LUA_VERSION = re.compile(r"lua(5\.[1-4])")
# A setting named like a secret, in any of the host's config syntaxes: Lua (`app_secret = "…"`, inside tables
# too: `{ type = "turn", secret = "…" }`), HOCON (`password: "…"`), properties (`…FOCUS_USER_PASSWORD=…`) and
# saslauthd.conf (`ldap_bind_pw: …`).
_SECRET_SETTING = re.compile(
    r"""(?<![\w.-])([\w.-]*(?:secret|password|passwd)[\w.-]*|[\w.-]*_pw)\s*[=:]\s*"""
    r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s,;}"']+))""",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"^\s*(?:--|#|//|!)")
_NOT_SECRET = frozenset({"true", "false", "nil", "yes", "no", "on", "off", "null", "none"})


@dataclass(frozen=True)
class ProsodyFiles:
    """prosody.cfg.lua and the files its Include lines pull in, as prosody reads them (symlinks followed)."""

    path: str
    includes: tuple[str, ...]  # the Include patterns, as written
    included: tuple[str, ...]  # the files they match, in prosody's order
    texts: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join(self.texts[p] for p in (self.path, *self.included) if p in self.texts)

    def parsed(self) -> tuple[dict[str, str], dict[str, ProsodyHost]]:
        return parse_prosody_hosts(self.text())


@dataclass(frozen=True)
class ConfLink:
    """A file of conf.avail and whether conf.d enables it."""

    name: str
    hosts: tuple[str, ...]  # the VirtualHosts it declares
    linked: bool


@dataclass(frozen=True)
class WebConfig:
    """The jitsi-meet web package's `/etc/jitsi/meet/<host>-config.js`: the auth-relevant settings."""

    path: str
    domain: str = ""
    anonymousdomain: str = ""
    authdomain: str = ""
    bosh: str = ""
    websocket: str = ""
    token_auth_url: str = ""  # config.tokenAuthUrl: where tokenless users are sent for a token
    text: str = ""


@dataclass(frozen=True)
class HostLayout:
    """The Debian-package layout under `root`."""

    root: Path = Path("/")

    # --- bounded reads ------------------------------------------------------------------------
    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def read(self, absolute: str, *, limit: int = READ_LIMIT) -> str | None:
        """A regular file's text (symlinks followed), at most `limit` bytes; None when missing or unreadable."""
        data = _read_head(self.path(absolute), limit)
        return None if data is None else data.decode("utf-8", "replace")

    def tail(self, absolute: str, *, lines: int = 20) -> list[str] | None:
        """The last `lines` lines of a (log) file, reading at most its last 64 KiB; None when unreadable."""
        try:
            with open(self.path(absolute), "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    return None
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - TAIL_LIMIT))
                data = fh.read(TAIL_LIMIT)
        except OSError:
            return None
        text = data.decode("utf-8", "replace").splitlines()
        return text[-lines:] if lines else []

    def exists(self, absolute: str) -> bool:
        return os.path.lexists(self.path(absolute))

    def listdir(self, absolute: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(absolute)))
        except OSError:
            return []

    def readable(self, absolute: str) -> bool:
        return os.access(self.path(absolute), os.R_OK)

    # --- prosody -----------------------------------------------------------------------------
    def is_debian_prosody(self) -> bool:
        """The marks of a package install: prosody.cfg.lua in /etc/prosody beside conf.d or conf.avail."""
        return self.path(PROSODY_CFG).is_file() and (self.path(CONF_D).is_dir() or self.path(CONF_AVAIL).is_dir())

    def prosody_files(self) -> ProsodyFiles | None:
        """prosody.cfg.lua and its Includes (relative patterns are relative to /etc/prosody, as prosody does)."""
        main = self.read(PROSODY_CFG)
        if main is None:
            return None
        clean = "\n".join(line.split("--", 1)[0] for line in main.splitlines())
        patterns = tuple(_INCLUDE.findall(clean))
        texts = {PROSODY_CFG: main}
        included: list[str] = []
        for pattern in patterns:
            absolute = pattern if pattern.startswith("/") else f"{PROSODY_DIR}/{pattern}"
            folder, _, glob = absolute.rpartition("/")
            for name in self.listdir(folder):
                candidate = f"{folder}/{name}"
                if fnmatch.fnmatchcase(name, glob) and candidate not in texts:
                    text = self.read(candidate)
                    if text is not None:  # a dangling symlink: prosody skips it too
                        texts[candidate] = text
                        included.append(candidate)
        return ProsodyFiles(path=PROSODY_CFG, includes=patterns, included=tuple(included), texts=texts)

    def conf_links(self) -> list[ConfLink]:
        """Every host file of conf.avail, with whether a conf.d entry points at it (or is a copy of it)."""
        enabled: set[str] = set()
        for name in self.listdir(CONF_D):
            target = self.path(f"{CONF_D}/{name}")
            try:
                resolved = target.resolve(strict=True)
            except OSError:
                continue
            enabled.add(resolved.name if resolved.parent == self.path(CONF_AVAIL).resolve() else f"copy:{name}")
        links: list[ConfLink] = []
        for name in self.listdir(CONF_AVAIL):
            if not name.endswith(".cfg.lua"):
                continue
            text = self.read(f"{CONF_AVAIL}/{name}") or ""
            _glob, hosts = parse_prosody_hosts(text)
            linked = name in enabled or f"copy:{name}" in enabled
            links.append(ConfLink(name=name, hosts=tuple(hosts), linked=linked))
        return links

    def data_path(self, settings: dict[str, str]) -> str:
        return settings.get("data_path") or DATA_PATH

    def lua_version(self) -> tuple[str, str]:
        """(Lua version like "5.4", the evidence) of the prosody binary: its shebang, else the newest installed."""
        for binary in PROSODY_BINARIES:
            head = _read_head(self.path(binary), 256)
            if head is None:
                continue
            first = head.split(b"\n", 1)[0].decode("ascii", "replace")
            if first.startswith("#!"):
                found = _LUA_VERSION.search(first)
                if found:
                    return found.group(1), f"{binary}: {first}"
        for version in ("5.4", "5.3", "5.2", "5.1"):
            if self.exists(f"/usr/bin/lua{version}"):
                return version, f"/usr/bin/lua{version} (no prosody shebang found)"
        return "", "no prosody binary and no /usr/bin/lua5.x"

    def module_dirs(self, settings: dict[str, str], plugin_paths: list[str]) -> list[str]:
        """prosody's module directories: the package's, then plugin_paths of its config."""
        dirs = [*MODULE_DIRS, *plugin_paths]
        return [d for d in dict.fromkeys(dirs) if self.path(d).is_dir()]

    def find_module(self, name: str, dirs: list[str]) -> str | None:
        """Where prosody finds `mod_<name>` (a file mod_<name>.lua or a dir mod_<name>/mod_<name>.lua)."""
        for d in dirs:
            for candidate in (f"{d}/mod_{name}.lua", f"{d}/mod_{name}/mod_{name}.lua"):
                if self.path(candidate).is_file():
                    return candidate
        return None

    def find_lua_lib(self, name: str, version: str, extra_dirs: list[str] = ()) -> str | None:  # type: ignore[assignment]
        """Where `require "<name>"` finds the library for Lua `version` (a .lua or a .so), or a prosody
        plugin dir's `<name>.lib.lua` (jitsi-meet-tokens ships luajwtjitsi that way)."""
        for template in LUA_DIRS:
            d = template.format(v=version)
            for candidate in (f"{d}/{name}.lua", f"{d}/{name}.so", f"{d}/{name}/init.lua"):
                if self.path(candidate).is_file():
                    return candidate
        for d in extra_dirs:
            candidate = f"{d}/{name}.lib.lua"
            if self.path(candidate).is_file():
                return candidate
        return None

    def account(self, data_path: str, host: str, user: str) -> str:
        """Where `user@host`'s account file is expected (%-encoded like prosody's datamanager)."""
        return f"{data_path.rstrip('/')}/{encode(host)}/accounts/{encode(user.lower())}.dat"

    def account_hosts(self, data_path: str, user: str) -> list[str]:
        """The hosts (decoded) under `data_path` that hold an account file for `user` (presence only)."""
        found: list[str] = []
        for entry in self.listdir(data_path):
            if self.path(f"{data_path}/{entry}/accounts/{encode(user.lower())}.dat").is_file():
                found.append(decode(entry))
        return found

    # --- jicofo and the web config -------------------------------------------------------------
    def jicofo(self) -> tuple[str, str] | None:
        """(path, text) of jicofo's config: jicofo.conf, else the older sip-communicator.properties."""
        for path in (JICOFO_CONF, JICOFO_LEGACY):
            text = self.read(path)
            if text is not None:
                return path, text
        return None

    def web_configs(self) -> list[WebConfig]:
        """Every /etc/jitsi/meet/<host>-config.js, parsed."""
        found: list[WebConfig] = []
        for name in self.listdir(MEET_DIR):
            if not name.endswith("-config.js"):
                continue
            path = f"{MEET_DIR}/{name}"
            text = self.read(path)
            if text is not None:
                found.append(parse_web_config(path, text))
        return found

    def web_config(self, prefer: str = "") -> WebConfig | None:
        """The config.js of the site: the one named after `prefer` (a domain), else the only one."""
        configs = self.web_configs()
        for conf in configs:
            if prefer and conf.path.endswith(f"/{prefer}-config.js"):
                return conf
        return configs[0] if len(configs) == 1 else None

    # --- saslauthd -----------------------------------------------------------------------------
    def saslauthd_defaults(self) -> dict[str, str] | None:
        """/etc/default/saslauthd as the init script sources it (the last assignment wins)."""
        text = self.read(SASLAUTHD_DEFAULTS)
        if text is None:
            return None
        clean = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        return {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in _SHELL_VAR.finditer(clean)}

    # --- users and groups ----------------------------------------------------------------------
    def groups_of(self, user: str) -> tuple[str, ...] | None:
        """The groups of `user` from /etc/passwd and /etc/group (None when the user does not exist)."""
        passwd = self.read("/etc/passwd") or ""
        gid = None
        for line in passwd.splitlines():
            parts = line.split(":")
            if len(parts) >= 4 and parts[0] == user:
                gid = parts[3]
                break
        if gid is None:
            return None
        groups: list[str] = []
        for line in (self.read("/etc/group") or "").splitlines():
            parts = line.split(":")
            if len(parts) >= 4 and (parts[2] == gid or user in parts[3].split(",")):
                groups.append(parts[0])
        return tuple(groups)


def file_secrets(text: str) -> set[str]:
    """The values of settings named like secrets in a config file's text (comment lines skipped): the focus
    password of jicofo.conf, prosody's app_secret, turn and component secrets, saslauthd.conf's ldap_bind_pw.
    Booleans and numbers are settings, not secrets (allow_empty_token = false)."""
    found: set[str] = set()
    for line in text.splitlines():
        if _COMMENT.match(line):
            continue
        code = line.split(" --", 1)[0] if "--" in line else line
        for match in _SECRET_SETTING.finditer(code):
            value = next((g for g in match.groups()[1:] if g is not None), "")
            if value and value.lower() not in _NOT_SECRET and not value.isdigit():
                found.add(value)
    return found


def parse_web_config(path: str, text: str) -> WebConfig:
    """The auth settings of the package's config.js (`jitsi.configjs`, which reads docker's form too)."""
    conf = parse_config_js(text)
    return WebConfig(
        path=path,
        domain=conf.domain,
        anonymousdomain=conf.anonymousdomain,
        authdomain=conf.authdomain,
        bosh=conf.bosh,
        websocket=conf.websocket,
        token_auth_url=conf.token_auth_url,
        text=text,
    )


def encode(part: str) -> str:
    """prosody's datamanager encoding: every character outside [a-zA-Z0-9] as %xx (lowercase hex)."""
    return "".join(c if c.isascii() and c.isalnum() else "".join(f"%{b:02x}" for b in c.encode()) for c in part)


def decode(part: str) -> str:
    """The inverse of `encode`."""
    from urllib.parse import unquote

    return unquote(part)


def _read_head(path: Path, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            chunk = os.read(fd, min(1 << 16, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


# docker-jitsi-meet's variables → where a package install keeps the same setting ({d}: the site's domain).
_PLACES = {
    "AUTH_TYPE": 'authentication = "…" in the VirtualHost "{d}" of /etc/prosody/conf.avail/{d}.cfg.lua',
    "ENABLE_AUTH": 'authentication = "…" in the VirtualHost "{d}" of /etc/prosody/conf.avail/{d}.cfg.lua',
    "XMPP_DOMAIN": 'the VirtualHost "{d}" in /etc/prosody/conf.avail/{d}.cfg.lua (and hosts.domain in '
    "/etc/jitsi/meet/{d}-config.js)",
    "ENABLE_GUESTS": 'a VirtualHost "guest.{d}" with authentication = "anonymous" and hosts.anonymousdomain in '
    "/etc/jitsi/meet/{d}-config.js",
    "JWT_APP_ID": 'app_id in the VirtualHost "{d}" of /etc/prosody/conf.avail/{d}.cfg.lua',
    "JWT_APP_SECRET": 'app_secret in the VirtualHost "{d}" of /etc/prosody/conf.avail/{d}.cfg.lua',
    "JWT_ASAP_KEYSERVER": 'asap_key_server in the VirtualHost "{d}" of /etc/prosody/conf.avail/{d}.cfg.lua',
    "JWT_ALLOW_EMPTY": 'allow_empty_token in the VirtualHost "{d}" of /etc/prosody/conf.avail/{d}.cfg.lua',
}


def config_place(key: str, domain: str) -> str:
    """Where a package install sets what docker-jitsi-meet's `key` sets: LDAP_* in /etc/saslauthd.conf, the
    rest in prosody's VirtualHost file or config.js."""
    if key.startswith("LDAP_"):
        return f"the ldap_* line for {key} in {SASLAUTHD_CONF}"
    return _PLACES.get(key, f"the setting behind {key} in /etc/prosody/conf.avail/{{d}}.cfg.lua").format(d=domain)
