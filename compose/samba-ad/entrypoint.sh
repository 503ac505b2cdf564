#!/bin/bash
# Provision a fresh AD domain at start (DNS backend NONE, loopback only), seed the account-state users, run samba.
set -euo pipefail

REALM="${SAMBA_REALM:-AD.LDAPCHECK.TEST}"
DOMAIN="${SAMBA_DOMAIN:-ADLAB}"
: "${SAMBA_ADMIN_PASSWORD:?SAMBA_ADMIN_PASSWORD is required}"
: "${SAMBA_SERVICE_PASSWORD:?SAMBA_SERVICE_PASSWORD is required}"
: "${SAMBA_USER_PASSWORD:?SAMBA_USER_PASSWORD is required}"
STRONG_AUTH="${SAMBA_REQUIRE_STRONG_AUTH:-no}"

rm -f /etc/samba/smb.conf
samba-tool domain provision --realm="$REALM" --domain="$DOMAIN" --server-role=dc --dns-backend=NONE \
    --adminpass="$SAMBA_ADMIN_PASSWORD" \
    --option="interfaces = lo" --option="bind interfaces only = yes" \
    --option="server services = ldap" --option="vfs objects = dfs_samba4 acl_xattr xattr_tdb" >/tmp/provision.log 2>&1 || { cat /tmp/provision.log; exit 1; }
# provision drops this option from the smb.conf it writes; Samba's default (yes) refuses simple binds without TLS.
sed -i "/^\[global\]/a\\\tldap server require strong auth = $STRONG_AUTH" /etc/samba/smb.conf

SAM=/var/lib/samba/private/sam.ldb
BASE=$(ldbsearch -H "$SAM" -s base -b '' defaultNamingContext | sed -n 's/^defaultNamingContext: //p')
samba-tool ou create "OU=Services,$BASE" >/dev/null
samba-tool ou create "OU=Jitsi,$BASE" >/dev/null

new_user() { # login ou [extra samba-tool args]
    local login=$1 ou=$2; shift 2
    samba-tool user create "$login" "$SAMBA_USER_PASSWORD" --userou="$ou" --given-name="$login" "$@" >/dev/null
}
samba-tool user create svc-jitsi "$SAMBA_SERVICE_PASSWORD" --userou="OU=Services" >/dev/null
samba-tool user setexpiry svc-jitsi --noexpiry >/dev/null
for login in alice bob "o.brien-x_1"; do new_user "$login" OU=Jitsi; done
new_user disabled OU=Jitsi
samba-tool user disable disabled >/dev/null
new_user mustchange OU=Jitsi --must-change-at-next-login
new_user expired OU=Jitsi
new_user locked OU=Jitsi

# accountExpires 2020-01-01 (FILETIME); lockoutTime now (the domain lockout duration is 30 min by default)
NOW_FT=$(( ($(date +%s) + 11644473600) * 10000000 ))
ldbmodify -H "$SAM" >/dev/null <<LDIF
dn: CN=expired,OU=Jitsi,$BASE
changetype: modify
replace: accountExpires
accountExpires: 132223104000000000
-

dn: CN=locked,OU=Jitsi,$BASE
changetype: modify
replace: lockoutTime
lockoutTime: $NOW_FT
-
LDIF
samba-tool domain passwordsettings set --account-lockout-threshold=50 >/dev/null

echo "SAMBA-AD PROVISIONED $BASE"
exec samba -i --debug-stdout -d "${SAMBA_LOG_LEVEL:-1}"
