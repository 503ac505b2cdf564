#!/bin/bash
# ldapcheck lab web: mirrors docker-jitsi-meet's web start-up for the parts a login needs.
#   1. config.js rendered on every start from the environment (upstream: defaults/system-config.js → /run/web/config/config.js);
#   2. nginx with upstream's meet.conf locations: `= /config.js`, `= /http-bind`, `= /xmpp-websocket` (Host: XMPP_DOMAIN,
#      ?prefix=$prefix&$args), listening on plain HTTP on WEB_ADDRESS:WEB_HTTP_PORT (upstream: 80/443 with TLS).
# Environment: XMPP_DOMAIN [meet.jitsi], XMPP_GUEST_DOMAIN [guest.meet.jitsi], XMPP_MUC_DOMAIN [muc.meet.jitsi],
#   ENABLE_AUTH [false], ENABLE_GUESTS [false], ENABLE_AUTH_DOMAIN [true], ENABLE_XMPP_WEBSOCKET [1],
#   PUBLIC_URL [http://127.0.0.1:$WEB_HTTP_PORT], XMPP_BOSH_URL_BASE [http://127.0.0.1:5280],
#   WEB_ADDRESS [127.0.0.1], WEB_HTTP_PORT [8000], TOKEN_AUTH_URL [none: no config.tokenAuthUrl].
set -euo pipefail

log() { echo "ldapcheck-web: $*" >&2; }

# tpl's toBool (see compose/prosody/entrypoint.sh).
to_bool() {
  local v=${1//\"/}
  v=${v//\'/}
  case "$v" in
    1 | t | T | TRUE | true | True) return 0 ;;
    0 | f | F | FALSE | false | False | "") return 1 ;;
    *) return 0 ;;
  esac
}

XMPP_DOMAIN="${XMPP_DOMAIN:-meet.jitsi}"
XMPP_GUEST_DOMAIN="${XMPP_GUEST_DOMAIN:-guest.meet.jitsi}"
XMPP_MUC_DOMAIN="${XMPP_MUC_DOMAIN:-muc.meet.jitsi}"
WEB_ADDRESS="${WEB_ADDRESS:-127.0.0.1}"
WEB_HTTP_PORT="${WEB_HTTP_PORT:-8000}"
PUBLIC_URL="${PUBLIC_URL:-http://$WEB_ADDRESS:$WEB_HTTP_PORT}"
PUBLIC_URL="${PUBLIC_URL%/}"
XMPP_BOSH_URL_BASE="${XMPP_BOSH_URL_BASE:-http://127.0.0.1:5280}"

# --- 1. config.js (upstream system-config.js; BOSH_RELATIVE=false, ENABLE_SUBDOMAINS=false) -----------------------
# Upstream writes 'https://<PUBLIC_URL host>/http-bind' and 'wss://…'; the lab serves plain HTTP, so it keeps
# PUBLIC_URL's own scheme (http → ws).
ws_base="${PUBLIC_URL/#https:/wss:}"
ws_base="${ws_base/#http:/ws:}"
mkdir -p /run/web/config
{
  echo "// Jitsi Meet configuration (rendered by ldapcheck-web at container start)."
  echo "var config = {};"
  echo ""
  echo "config.hosts = {};"
  echo "config.hosts.domain = '$XMPP_DOMAIN';"
  echo "config.hosts.muc = '$XMPP_MUC_DOMAIN';"
  if to_bool "${ENABLE_AUTH:-false}"; then
    if to_bool "${ENABLE_GUESTS:-false}"; then
      echo "// When using authentication, domain for guest users."
      echo "config.hosts.anonymousdomain = '$XMPP_GUEST_DOMAIN';"
    fi
    if to_bool "${ENABLE_AUTH_DOMAIN:-true}"; then
      echo "// Domain for authenticated users. Defaults to <domain>."
      echo "config.hosts.authdomain = '$XMPP_DOMAIN';"
    fi
  fi
  echo "config.bosh = '$PUBLIC_URL/http-bind';"
  if to_bool "${ENABLE_XMPP_WEBSOCKET:-1}"; then
    echo "config.websocket = '$ws_base/xmpp-websocket';"
  fi
  # Upstream settings-config.js: where a user without a token is sent to get one (jwt).
  if [[ -n "${TOKEN_AUTH_URL:-}" ]]; then
    echo "config.tokenAuthUrl = '$TOKEN_AUTH_URL';"
  fi
} >/run/web/config/config.js
chmod 0644 /run/web/config/config.js

# --- 2. nginx (upstream nginx.conf + meet.conf, reduced to what a login needs) ------------------------------------
websocket_location=''
if to_bool "${ENABLE_XMPP_WEBSOCKET:-1}"; then
  websocket_location="
        location = /xmpp-websocket {
            tcp_nodelay on;
            proxy_http_version 1.1;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Host $XMPP_DOMAIN;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_pass $XMPP_BOSH_URL_BASE/xmpp-websocket?prefix=\$prefix&\$args;
        }"
fi
cat >/run/web/nginx.conf <<CONF
# rendered by ldapcheck-web at container start
user www-data;
worker_processes 1;
pid /run/web/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
    access_log /dev/stdout;
    default_type application/octet-stream;
    types { application/javascript js; }
    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        '' close;
    }
    server {
        listen $WEB_ADDRESS:$WEB_HTTP_PORT;
        server_name _;
        set \$prefix "";

        location = /config.js {
            alias /run/web/config/config.js;
        }

        # BOSH
        location = /http-bind {
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header Host $XMPP_DOMAIN;
            proxy_pass $XMPP_BOSH_URL_BASE/http-bind?prefix=\$prefix&\$args;
        }
$websocket_location
    }
}
CONF
nginx -t -c /run/web/nginx.conf -q
log "nginx on $WEB_ADDRESS:$WEB_HTTP_PORT → $XMPP_BOSH_URL_BASE (domain $XMPP_DOMAIN$(grep -q anonymousdomain /run/web/config/config.js && echo ", guests on $XMPP_GUEST_DOMAIN"))"
exec nginx -c /run/web/nginx.conf -g 'daemon off;'
