#!/bin/bash
# ldapcheck lab prosody: mirrors docker-jitsi-meet's rootless prosody start-up (stable-11146+), as uid 1000 (`s6`)
# on a read-only root with a tmpfs /run:
#   1. upstream's config script: `if [[ "$AUTH_TYPE" == "ldap" ]]`: without a mounted /etc/saslauthd.conf render
#      the template from the environment to /run/saslauthd.conf (upstream: `tpl`; here ldapcheck's renderer,
#      render-saslauthd), with a mounted one `cp` it to /run/ (the escape hatch); then `mkdir -pm777 /var/run/saslauthd`;
#   2. upstream's saslauthd longrun: if /run/saslauthd.conf exists, `saslauthd -a ldap -O /run/saslauthd.conf -c
#      -m /var/run/saslauthd -n 5 -d`, restarted when it exits as s6-supervise does (at most one start a second),
#      unless marked down (`lab-svc -d|-O saslauthd`, the lab's s6-svc);
#   3. the prosody config (ENABLE_AUTH / PROSODY_AUTH_TYPE gate of jitsi-meet.cfg.lua), prosody in the foreground.
# Environment: ENABLE_AUTH [0], AUTH_TYPE [internal], PROSODY_AUTH_TYPE [$AUTH_TYPE], XMPP_DOMAIN [meet.jitsi],
#   ENABLE_GUESTS [0], XMPP_GUEST_DOMAIN [guest.meet.jitsi], PROSODY_GUEST_AUTH_TYPE [anonymous],
#   XMPP_AUTH_DOMAIN [auth.meet.jitsi], C2S_PORT [5222], C2S_ADDRESS [127.0.0.1], HTTP_PORT [none: no BOSH/WebSocket],
#   LOG_LEVEL [info], LDAP_* (the saslauthd.conf template's), JWT_APP_ID, JWT_APP_SECRET, JWT_ALLOW_EMPTY,
#   JWT_AUTH_TYPE [token], JWT_SIGN_TYPE, JWT_ASAP_KEYSERVER, JWT_ENABLE_DOMAIN_VERIFICATION (AUTH_TYPE=jwt).
set -uo pipefail

log() { echo "ldapcheck-prosody: $*" >&2; }

# tpl's toBool on an environment string: quotes stripped, Go ParseBool words, any other non-empty text is true.
to_bool() {
  local v=${1//\"/}
  v=${v//\'/}
  case "$v" in
    1 | t | T | TRUE | true | True) return 0 ;;
    0 | f | F | FALSE | false | False | "") return 1 ;;
    *) return 0 ;;
  esac
}

# --- 1. config (upstream: /etc/s6-overlay/scripts/config) -------------------------------------------------------
if [[ "${AUTH_TYPE:-}" == "ldap" ]]; then
  if [[ ! -f /etc/saslauthd.conf ]]; then
    # as upstream's `tpl … > /run/saslauthd.conf` under the default umask: mode 0644, bind password included
    render-saslauthd >/run/saslauthd.conf || log "rendering /run/saslauthd.conf failed"
  else
    cp /etc/saslauthd.conf /run/ || log "cannot copy the mounted /etc/saslauthd.conf (readable by uid $(id -u)?)"
  fi
  mkdir -pm777 /var/run/saslauthd
fi

# --- 2. saslauthd (upstream: s6-rc longrun 20-saslauthd → /etc/s6-overlay/scripts/saslauthd) ---------------------
# s6-supervise's part: start it, wait for it, start it again when it exits — no sooner than one second after the
# previous start — unless /run/service/saslauthd/down says it was stopped on purpose (lab-svc, the lab's s6-svc).
supervise_saslauthd() {
  local dir=/run/service/saslauthd started now status
  while :; do
    if [[ -e "$dir/down" ]]; then
      sleep 0.2
      continue
    fi
    started=${EPOCHREALTIME/./}
    # its own session: saslauthd's master signals its whole process group when it exits
    setsid saslauthd -a ldap -O /run/saslauthd.conf -c -m /var/run/saslauthd -n 5 -d </dev/null &
    echo $! >"$dir/pid"
    log "saslauthd started (pid $!)"
    wait $!
    status=$?
    log "saslauthd (pid $(cat "$dir/pid")) exited with status $status"
    : >"$dir/pid"
    now=${EPOCHREALTIME/./}
    if ((now - started < 1000000)); then
      sleep "0.$(printf '%06d' $((1000000 - (now - started))))"
    fi
  done
}
if [[ -f /run/saslauthd.conf ]]; then
  mkdir -p /run/service/saslauthd
  supervise_saslauthd &
fi

# --- 3. prosody config (upstream: defaults/prosody.cfg.lua + conf.d/jitsi-meet.cfg.lua, reduced to c2s) -----------
XMPP_DOMAIN="${XMPP_DOMAIN:-meet.jitsi}"
AUTH_TYPE_EFFECTIVE="${AUTH_TYPE:-}"
[[ -n "$AUTH_TYPE_EFFECTIVE" ]] || AUTH_TYPE_EFFECTIVE=internal
PROSODY_AUTH_TYPE="${PROSODY_AUTH_TYPE:-}"
[[ -n "$PROSODY_AUTH_TYPE" ]] || PROSODY_AUTH_TYPE="$AUTH_TYPE_EFFECTIVE"
C2S_PORT="${C2S_PORT:-5222}"
C2S_ADDRESS="${C2S_ADDRESS:-127.0.0.1}"
LOG_LEVEL="${LOG_LEVEL:-info}"

# Upstream: ldap → cyrus; internal → internal_hashed (DIGEST-MD5/OAUTHBEARER disabled); a type no branch matches
# (e.g. "LDAP") leaves prosody's default (internal_hashed); no ENABLE_AUTH → anonymous (jitsi-anonymous upstream,
# a Jitsi plugin Debian does not ship); jwt → token with app_id/app_secret as upstream renders them (Debian has no
# mod_auth_token, so prosody logs that it cannot load it: what a missing token module looks like). matrix is not
# emulated.
host_auth='    authentication = "anonymous"'
host_modules=''
guest_host=''
if to_bool "${ENABLE_AUTH:-0}"; then
  host_auth='    authentication = "internal_hashed"'
  if [[ "$PROSODY_AUTH_TYPE" == "ldap" ]]; then
    host_auth='    authentication = "cyrus"
    cyrus_application_name = "xmpp"
    allow_unencrypted_plain_auth = true'
    host_modules='        "auth_cyrus";'
  elif [[ "$PROSODY_AUTH_TYPE" == "jwt" ]]; then
    # Upstream jitsi-meet.cfg.lua: JWT_APP_SECRET passes through toBool (a secret like "false" renders nothing).
    host_auth="${JWT_SIGN_TYPE:+    signature_algorithm = \"$JWT_SIGN_TYPE\"
}    authentication = \"${JWT_AUTH_TYPE:-token}\"
    app_id = \"${JWT_APP_ID-<no value>}\""
    if to_bool "${JWT_APP_SECRET:-false}"; then
      host_auth="$host_auth
    app_secret = \"$JWT_APP_SECRET\""
    fi
    allow_empty=false
    to_bool "${JWT_ALLOW_EMPTY:-0}" && allow_empty=true
    verification=false
    to_bool "${JWT_ENABLE_DOMAIN_VERIFICATION:-false}" && verification=true
    host_auth="$host_auth
    allow_empty_token = $allow_empty${JWT_ASAP_KEYSERVER:+
    asap_key_server = \"$JWT_ASAP_KEYSERVER\"}
    enable_domain_verification = $verification"
  elif [[ "$PROSODY_AUTH_TYPE" == "internal" ]]; then
    host_auth='    authentication = "internal_hashed"
    disable_sasl_mechanisms = { "DIGEST-MD5", "OAUTHBEARER" }'
  fi
  # Upstream: the guest host exists only when ENABLE_AUTH and ENABLE_GUESTS are both true.
  if to_bool "${ENABLE_GUESTS:-0}"; then
    guest_host="VirtualHost \"${XMPP_GUEST_DOMAIN:-guest.meet.jitsi}\"
    authentication = \"${PROSODY_GUEST_AUTH_TYPE:-anonymous}\"
    c2s_require_encryption = false"
  fi
fi
XMPP_AUTH_DOMAIN="${XMPP_AUTH_DOMAIN:-auth.meet.jitsi}"

# BOSH and WebSocket (upstream: on the main host, HTTP on 5280 behind the web container's nginx).
HTTP_PORT="${HTTP_PORT:-}"
http_ports=''
if [[ -n "$HTTP_PORT" ]]; then
  http_ports="$HTTP_PORT"
  host_modules="$host_modules
        \"bosh\";
        \"websocket\";"
fi

mkdir -p /run/prosody/config /run/prosody/certs
cat >/run/prosody/config/prosody.cfg.lua <<EOF
-- rendered by ldapcheck-prosody at container start
pidfile = "/run/prosody/prosody.pid"
data_path = "/var/lib/prosody"
certificates = "/run/prosody/certs"
log = { { levels = { min = "$LOG_LEVEL" }, to = "console" } }
interfaces = { "$C2S_ADDRESS" }
local_interfaces = { "$C2S_ADDRESS" }
c2s_ports = { $C2S_PORT }
c2s_interfaces = { "$C2S_ADDRESS" }
c2s_direct_tls_ports = { }
s2s_ports = { }
http_ports = { $http_ports }
http_interfaces = { "$C2S_ADDRESS" }
https_ports = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix" }
modules_disabled = { "s2s"; "offline"; "c2s_direct_tls" }
c2s_require_encryption = false
s2s_require_encryption = false
-- Jitsi's clients arrive over BOSH/websocket, which upstream marks secure (consider_*_secure = true); this lab's
-- plaintext c2s stands in for them, so PLAIN is offered without TLS (upstream sets this for the ldap host too).
allow_unencrypted_plain_auth = true
-- upstream: nginx terminates TLS, so BOSH and WebSocket sessions count as secure (PLAIN is offered on them)
consider_bosh_secure = true
consider_websocket_secure = true

VirtualHost "$XMPP_DOMAIN"
$host_auth
    modules_enabled = {
$host_modules
    }

$guest_host

VirtualHost "$XMPP_AUTH_DOMAIN"
    authentication = "internal_hashed"
EOF
log "prosody: VirtualHost $XMPP_DOMAIN, c2s on $C2S_ADDRESS:$C2S_PORT, $(grep -m1 authentication /run/prosody/config/prosody.cfg.lua | xargs)${HTTP_PORT:+, BOSH/WebSocket on $C2S_ADDRESS:$HTTP_PORT}${guest_host:+, guests on ${XMPP_GUEST_DOMAIN:-guest.meet.jitsi}}"

# Already uid 1000 (the image's USER): prosody stays this user, as upstream's s6 runs it.
exec prosody -F --config /run/prosody/config/prosody.cfg.lua
