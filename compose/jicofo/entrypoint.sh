#!/bin/bash
# ldapcheck lab jicofo (rendered only): upstream's jicofo.conf `authentication` block, from the same variables:
#   JICOFO_ENABLE_AUTH [ENABLE_AUTH, default 0] (toBool), JICOFO_AUTH_TYPE [AUTH_TYPE, default internal],
#   XMPP_DOMAIN [meet.jitsi], ENABLE_AUTO_LOGIN [1] (toBool), JICOFO_AUTH_LIFETIME [24 hours].
# Then idles until stopped (no Java, no jicofo process).
set -euo pipefail

to_bool() {
  local v=${1//\"/}
  v=${v//\'/}
  case "$v" in
    1 | t | T | TRUE | true | True) return 0 ;;
    0 | f | F | FALSE | false | False | "") return 1 ;;
    *) return 0 ;;
  esac
}
go_bool() { if to_bool "$1"; then echo true; else echo false; fi; }

ENABLE_AUTH="${ENABLE_AUTH:-0}"
JICOFO_ENABLE_AUTH="${JICOFO_ENABLE_AUTH:-$ENABLE_AUTH}"
AUTH_TYPE="${AUTH_TYPE:-internal}"
JICOFO_AUTH_TYPE="${JICOFO_AUTH_TYPE:-$AUTH_TYPE}"
XMPP_DOMAIN="${XMPP_DOMAIN:-meet.jitsi}"
JICOFO_AUTH_LIFETIME="${JICOFO_AUTH_LIFETIME:-24 hours}"

mkdir -p /run/jicofo
{
  echo "// rendered by ldapcheck-jicofo at container start: only the authentication block of upstream's jicofo.conf"
  echo "jicofo {"
  if to_bool "$JICOFO_ENABLE_AUTH"; then
    echo "    authentication {"
    echo "      enabled = true"
    echo "      // The type of authentication. Supported values are XMPP or JWT."
    if [[ "$JICOFO_AUTH_TYPE" == "jwt" ]]; then echo "      type = JWT"; else echo "      type = XMPP"; fi
    echo "      login-url = \"$XMPP_DOMAIN\""
    echo "      enable-auto-login = $(go_bool "${ENABLE_AUTO_LOGIN:-1}")"
    echo "      authentication-lifetime = $JICOFO_AUTH_LIFETIME"
    echo "    }"
  fi
  echo "}"
} >/run/jicofo/jicofo.conf
echo "ldapcheck-jicofo: rendered /run/jicofo/jicofo.conf (no jicofo runs in this lab)" >&2
trap 'exit 0' TERM INT
sleep infinity &
wait
