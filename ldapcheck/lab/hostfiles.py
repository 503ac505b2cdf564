"""The files of a Debian-package Jitsi host, written for one lab as the packages and the guides leave them.

- `/etc/prosody/prosody.cfg.lua`: Debian's own file (it ends with `Include "conf.d/*.cfg.lua"`), with this lab's
  listeners inserted in its global section (127.0.0.1, per-lab ports, no s2s);
- `/etc/prosody/conf.avail/<host>.cfg.lua` (jitsi-meet-prosody's template, then the "secure domain" guide's edits:
  `internal_hashed`, `cyrus` for LDAP or `token` for JWT on the main VirtualHost, a `guest.<host>` anonymous
  VirtualHost), linked into `conf.d` as jitsi-meet-prosody's postinst does;
- `/etc/jitsi/meet/<host>-config.js` (jitsi-meet-web-config: `hosts`, `bosh`, `websocket`; the guide uncomments
  `anonymousdomain`), `/etc/nginx/sites-available/<host>.conf` linked into `sites-enabled` (BOSH and WebSocket proxied
  to prosody), `/etc/jitsi/jicofo/jicofo.conf` (jicofo's postinst HOCON plus the guide's `authentication` block);
- LDAP: `/etc/default/saslauthd` (`START=yes`, `MECHANISMS="ldap"`), `/etc/saslauthd.conf`, `/etc/sasl/xmpp.conf`.

Jitsi's own prosody plugins, jicofo and the web app are not in Debian: the host file leaves out the modules and
components only they provide (prosody would log each as missing), and nothing reads jicofo.conf or config.js but
nginx (which serves config.js) and ldapcheck.
"""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import dataclass

from ldapcheck.lab.spec import JWT_APP_ID, LabSpec

PROSODY_MAIN = "/etc/prosody/prosody.cfg.lua"
SASL_GROUP_SETUP = "adduser --quiet prosody sasl\n"  # the LDAP guides' step: prosody may use saslauthd's socket
# The token module's Lua libraries for prosody's Lua (5.4 on bookworm), where `luarocks install` puts them: Debian's
# lua-basexx (5.1/5.2) and lua-inspect (5.1-5.3) do not cover 5.4 (lua-cjson and lua-luaossl do), and luajwtjitsi is
# not in Debian at all (the image's stand-in: compose/debian-host/luajwtjitsi-standin.lua).
LUA_ROCKS_DIR = "/usr/local/share/lua/5.4"
TOKEN_LUA_SETUP = f"""install -d {LUA_ROCKS_DIR}
install -m 0644 /usr/share/lua/5.2/basexx.lua {LUA_ROCKS_DIR}/basexx.lua
install -m 0644 /usr/share/lua/5.3/inspect.lua {LUA_ROCKS_DIR}/inspect.lua
install -m 0644 /usr/local/share/ldapcheck-lab/luajwtjitsi-standin.lua {LUA_ROCKS_DIR}/luajwtjitsi.lua
lua5.4 -e 'require "basexx"; require "inspect"; require "cjson"; require "luajwtjitsi"'
"""


@dataclass(frozen=True)
class HostFile:
    """One file or symlink to put on the host (owner and group by name: the image's ids are not known here)."""

    path: str
    text: str = ""
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"
    link_to: str = ""  # a symlink to this target instead of a file


def host_cfg_path(spec: LabSpec) -> str:
    return f"/etc/prosody/conf.avail/{spec.xmpp_domain}.cfg.lua"


def listeners_block(spec: LabSpec) -> str:
    """Global prosody options for this lab's listeners (inserted before Debian's first VirtualHost)."""
    return f"""
-- ldapcheck lab: this host listens on 127.0.0.1 only, on ports chosen for this lab (the machine's network is shared:
-- another Jitsi may hold 5222/5269/5280/5281), and federates with nobody.
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {spec.c2s_port} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ }}
s2s_direct_tls_ports = {{ }}
http_ports = {{ {spec.http_port} }}
http_interfaces = {{ "127.0.0.1" }}
https_ports = {{ }}
component_ports = {{ }}
-- Browsers reach this host by its name, which nginx passes on (Host: $http_host); the lab's clients use 127.0.0.1.
http_default_host = "{spec.xmpp_domain}"
"""


def with_listeners(debian_main: str, spec: LabSpec) -> str:
    """Debian's prosody.cfg.lua with `listeners_block` inserted where its VirtualHost section begins."""
    lines = debian_main.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("VirtualHost "):
            return "".join([*lines[:index], listeners_block(spec), "\n", *lines[index:]])
    return debian_main + listeners_block(spec)


def _auth_lines(spec: LabSpec) -> str:
    if spec.auth == "ldap":
        return (
            '    authentication = "cyrus"\n'
            '    cyrus_application_name = "xmpp"\n'
            "    allow_unencrypted_plain_auth = true\n"
        )
    if spec.auth == "jwt":
        # jitsi-meet-tokens' postinst: authentication switched to "token", app_id/app_secret uncommented.
        return (
            '    authentication = "token"\n'
            f'    app_id = "{JWT_APP_ID}"\n'
            f'    app_secret = "{spec.jwt_secret}"\n'
            "    allow_empty_token = false\n"
            "    allow_unencrypted_plain_auth = true\n"
        )
    return '    authentication = "internal_hashed"\n    allow_unencrypted_plain_auth = true\n'


def host_cfg_lua(spec: LabSpec) -> str:
    """`/etc/prosody/conf.avail/<host>.cfg.lua` after the guide's edits."""
    host = spec.xmpp_domain
    guest = (
        f"""
VirtualHost "{spec.guest_domain}"
    authentication = "anonymous"
    c2s_require_encryption = false
"""
        if spec.guests
        else ""
    )
    return f"""plugin_paths = {{ "/usr/share/jitsi-meet/prosody-plugins/" }}

-- domain mapper options, must at least have domain base set to use the mapper
muc_mapper_domain_base = "{host}";

cross_domain_bosh = false;
consider_bosh_secure = true;
consider_websocket_secure = true;

-- ldapcheck lab: jitsi-meet-prosody's template, without what only Jitsi's own prosody plugins provide (not in
-- Debian: speakerstats, conference_duration, muc_lobby_rooms, client_proxy …) and without TLS certificates (c2s is
-- plaintext on 127.0.0.1, hence allow_unencrypted_plain_auth on the main host).

VirtualHost "{host}"
{_auth_lines(spec)}    -- we need bosh
    modules_enabled = {{
        "bosh";
        "websocket";
        "ping"; -- Enable mod_ping
    }}
    c2s_require_encryption = false
{guest}
Component "conference.{host}" "muc"
    restrict_room_creation = true
    storage = "memory"
    admins = {{ "focus@auth.{host}" }}
    muc_room_locking = false
    muc_room_default_public_jids = true

-- internal muc component
Component "internal.auth.{host}" "muc"
    storage = "memory"
    modules_enabled = {{
        "ping";
    }}
    admins = {{ "focus@auth.{host}", "jvb@auth.{host}" }}
    muc_room_locking = false
    muc_room_default_public_jids = true

VirtualHost "auth.{host}"
    authentication = "internal_hashed"
"""


def config_js(spec: LabSpec) -> str:
    """`/etc/jitsi/meet/<host>-config.js`: the top of jitsi-meet's config.js as jitsi-meet-web-config writes it."""
    host = spec.xmpp_domain
    ws = spec.public_url.replace("http://", "ws://", 1)
    anonymous = (
        f"        anonymousdomain: '{spec.guest_domain}',\n"
        if spec.guests
        else "        // anonymousdomain: 'guest.example.com',\n"
    )
    return f"""/* eslint-disable comma-dangle, no-unused-vars, no-var, prefer-template, vars-on-top */

/*
 * NOTE: If you add a new option please remember to document it here:
 * https://jitsi.github.io/handbook/docs/dev-guide/dev-guide-configuration
 */

var subdir = '<!--# echo var="subdir" default="" -->';
var subdomain = '<!--# echo var="subdomain" default="" -->';

if (subdir.startsWith('<!--')) {{
    subdir = '';
}}
if (subdomain) {{
    subdomain = subdomain.substring(0, subdomain.length - 1).split('.')
        .join('_')
        .toLowerCase() + '.';
}}

// In case of no ssi provided by the webserver, use empty strings
if (subdomain.startsWith('<!--')) {{
    subdomain = '';
}}

var enableJaaS = false;

var config = {{
    // Connection
    //

    hosts: {{
        // XMPP domain.
        domain: '{host}',

        // When using authentication, domain for guest users.
{anonymous}
        // Domain for authenticated users. Defaults to <domain>.
        // authdomain: '{host}',

        // Focus component domain. Defaults to focus.<domain>.
        // focus: 'focus.{host}',

        // XMPP MUC domain. FIXME: use XEP-0030 to discover it.
        muc: 'conference.' + subdomain + '{host}',
    }},

    // BOSH URL. FIXME: use XEP-0156 to discover it.
    bosh: '{spec.public_url}/' + subdir + 'http-bind',

    // Websocket URL (XMPP)
    websocket: '{ws}/' + subdir + 'xmpp-websocket',

    // ldapcheck lab: the rest of jitsi-meet's config.js (UI and media options) is left out.
}};

/* eslint-enable no-unused-vars, no-var */
"""


def nginx_site(spec: LabSpec) -> str:
    """`/etc/nginx/sites-available/<host>.conf`: jitsi-meet-web-config's site, plain HTTP on this lab's port."""
    host = spec.xmpp_domain
    bosh = f"http://127.0.0.1:{spec.http_port}"
    return f"""server_names_hash_bucket_size 64;

# ldapcheck lab: jitsi-meet-web-config's site on plain HTTP at 127.0.0.1:{spec.web_port} (the package listens on 80
# and 443 with a certificate); /usr/share/jitsi-meet (jitsi-meet-web, not in Debian) is absent.
server {{
    listen 127.0.0.1:{spec.web_port};
    server_name {host};

    root /usr/share/jitsi-meet;

    # ssi on with javascript for multidomain variables in config.js
    ssi on;
    ssi_types application/x-javascript application/javascript;

    index index.html index.htm;
    set $prefix "";

    location = /config.js {{
        alias /etc/jitsi/meet/{host}-config.js;
    }}

    # BOSH
    location = /http-bind {{
        proxy_pass {bosh}/http-bind?prefix=$prefix&$args;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header Host $http_host;
    }}

    # xmpp websockets
    location = /xmpp-websocket {{
        proxy_pass {bosh}/xmpp-websocket?prefix=$prefix&$args;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host $http_host;
        tcp_nodelay on;
    }}
}}
"""


def jicofo_conf(spec: LabSpec) -> str:
    """`/etc/jitsi/jicofo/jicofo.conf`: jicofo's postinst HOCON, then the guide's `authentication` block."""
    host = spec.xmpp_domain
    kind = "JWT" if spec.auth == "jwt" else "XMPP"
    return f"""# Jicofo HOCON configuration. See reference.conf in /usr/share/jicofo/jicofo.jar for
#available options, syntax, and default values.
jicofo {{
  xmpp: {{
    client: {{
      client-proxy: "focus.{host}"
      xmpp-domain: "{host}"
      domain: "auth.{host}"
      username: "focus"
      password: "{spec.focus_password}"
    }}
    trusted-domains: [ "recorder.{host}" ]
  }}
  bridge: {{
    brewery-jid: "JvbBrewery@internal.auth.{host}"
  }}
  authentication: {{
    enabled: true
    type: {kind}
    login-url: {host}
  }}
}}
"""


def saslauthd_default() -> str:
    """`/etc/default/saslauthd` as the LDAP guides leave it (Debian's file with START=yes and MECHANISMS="ldap")."""
    return """#
# Settings for saslauthd daemon
# Please read /usr/share/doc/sasl2-bin/README.Debian for details.
#

# Should saslauthd run automatically on startup? (default: no)
START=yes

# Description of this saslauthd instance. Recommended.
# (suggestion: SASL Authentication Daemon)
DESC="SASL Authentication Daemon"

# Short name of this saslauthd instance. Strongly recommended.
# (suggestion: saslauthd)
NAME="saslauthd"

# Which authentication mechanisms should saslauthd use? (default: pam)
MECHANISMS="ldap"

# Additional options for this mechanism. (default: none)
MECH_OPTIONS=""

# How many saslauthd processes should we run? (default: 5)
THREADS=5

# Other options (default: -c -m /var/run/saslauthd)
OPTIONS="-c -m /var/run/saslauthd"
"""


XMPP_SASL_CONF = "pwcheck_method: saslauthd\nmech_list: PLAIN\n"


def host_files(spec: LabSpec, debian_main: str, saslauthd_conf: str) -> list[HostFile]:
    """Every file and link this lab puts on the host (`saslauthd_conf`: the rendered /etc/saslauthd.conf)."""
    host = spec.xmpp_domain
    files = [
        HostFile(PROSODY_MAIN, with_listeners(debian_main, spec), 0o640, "root", "prosody"),
        HostFile(host_cfg_path(spec), host_cfg_lua(spec), 0o640, "root", "prosody"),
        HostFile(f"/etc/prosody/conf.d/{host}.cfg.lua", link_to=host_cfg_path(spec)),
        HostFile(f"/etc/jitsi/meet/{host}-config.js", config_js(spec)),
        HostFile(f"/etc/nginx/sites-available/{host}.conf", nginx_site(spec)),
        HostFile(f"/etc/nginx/sites-enabled/{host}.conf", link_to=f"/etc/nginx/sites-available/{host}.conf"),
        HostFile("/etc/jitsi/jicofo/jicofo.conf", jicofo_conf(spec), 0o640, "root", "jicofo"),
    ]
    if spec.uses_ldap:
        files += [
            HostFile("/etc/default/saslauthd", saslauthd_default()),
            HostFile("/etc/saslauthd.conf", saslauthd_conf, 0o600),
            HostFile("/etc/sasl/xmpp.conf", XMPP_SASL_CONF),
        ]
    return files


def setup_script(spec: LabSpec) -> str:
    """Commands the host runs once after unpacking the files (what the guides do beyond editing files)."""
    steps = SASL_GROUP_SETUP if spec.uses_ldap else TOKEN_LUA_SETUP if spec.auth == "jwt" else ""
    return "#!/bin/sh\nset -e\n" + steps


def stage_tar(files: list[HostFile]) -> bytes:
    """The files as a tar with owners by name (GNU tar maps them to the image's ids when it unpacks as root).

    No directory entries: unpacking one would reset an existing directory's owner and mode (Debian's conf.avail is
    root:prosody 0754); tar creates the missing ones (/etc/jitsi/…) root-owned.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        now = int(time.time())
        for item in files:
            info = tarfile.TarInfo(item.path.lstrip("/"))
            info.uname, info.gname, info.mode, info.mtime = item.owner, item.group, item.mode, now
            if item.link_to:
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, item.link_to, 0o777
                tar.addfile(info)
                continue
            data = item.text.encode("utf-8")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
