#!/bin/bash
# ldapcheck lab slapd: build cn=config and the database from the environment, bulk-load /seed/*.ldif, run slapd.
#
# Environment (defaults in brackets):
#   LDAP_SUFFIX [dc=example,dc=org]            LDAP_ORGANISATION [Example Org]
#   LDAP_ADMIN_DN [cn=admin,$LDAP_SUFFIX]      LDAP_ADMIN_PASSWORD (required; also cn=admin,cn=config's password)
#   LDAP_SERVICE_DN [cn=saslauthd,ou=services,$LDAP_SUFFIX]  LDAP_SERVICE_PASSWORD (empty: no service account)
#   LDAP_SERVICE_SIZELIMIT [] (empty keeps slapd's default 500; a number or "unlimited")
#   LDAP_PORT [3389] (ldap + StartTLS)          LDAPS_PORT [3636] (ldaps; 0 = no ldaps listener)
#   LDAP_BIND_ADDRESS [127.0.0.1]              LDAP_TLS [1] (0 = no TLS at all: no StartTLS, no ldaps)
#   LDAP_ANON_READ [0] (1 = anonymous may read entries, never passwords)
#   LDAP_PPOLICY [1] (ppolicy overlay; manual locks via pwdAccountLockedTime, failures never lock)
#   LDAP_LOG_LEVEL [stats]
#   Generated server certificate: LDAP_TLS_CN [127.0.0.1], LDAP_TLS_SAN [IP:127.0.0.1,DNS:localhost],
#   LDAP_TLS_DAYS [825] (negative: already expired) — for wrong-name and expired-certificate cases.
#   (olcDbMaxSize is 16 GiB of address space, so a million users fit; the file grows only as needed)
# Files: /certs/{server.crt,server.key,ca.crt} used when present (else generated: SAN IP:127.0.0.1, DNS:localhost);
#        the CA in use is copied to /export/ca.crt, an unrelated CA to /export/other-ca.crt;
#        /seed/*.ldif are loaded in name order with `slapadd -q`.
set -euo pipefail

SUFFIX="${LDAP_SUFFIX:-dc=example,dc=org}"
ORG="${LDAP_ORGANISATION:-Example Org}"
ADMIN_DN="${LDAP_ADMIN_DN:-cn=admin,$SUFFIX}"
SERVICE_DN="${LDAP_SERVICE_DN:-cn=saslauthd,ou=services,$SUFFIX}"
LDAP_PORT="${LDAP_PORT:-3389}"
LDAPS_PORT="${LDAPS_PORT:-3636}"
ADDR="${LDAP_BIND_ADDRESS:-127.0.0.1}"
TLS="${LDAP_TLS:-1}"
ANON_READ="${LDAP_ANON_READ:-0}"
PPOLICY="${LDAP_PPOLICY:-1}"
LOG_LEVEL="${LDAP_LOG_LEVEL:-stats}"
CONF_DIR=/etc/ldap/slapd.d
DATA_DIR=/var/lib/ldap
CERT_DIR=/run/slapd/certs

log() { echo "ldapcheck-slapd: $*" >&2; }
die() { log "$*"; exit 1; }
is_true() { case "${1,,}" in 1|y|yes|on|true|t) return 0 ;; *) return 1 ;; esac; }
# Hash a secret without putting it on any command line (slappasswd reads it from a file descriptor).
ssha() { slappasswd -h '{SSHA}' -T <(printf '%s' "$1"); }

make_certs() {
  mkdir -p "$CERT_DIR"
  if [[ -s /certs/server.crt && -s /certs/server.key ]]; then
    log "using mounted certificates from /certs"
    cp /certs/server.crt /certs/server.key "$CERT_DIR/"
    if [[ -s /certs/ca.crt ]]; then cp /certs/ca.crt "$CERT_DIR/ca.crt"; else cp /certs/server.crt "$CERT_DIR/ca.crt"; fi
  else
    local cn=${LDAP_TLS_CN:-127.0.0.1} san=${LDAP_TLS_SAN:-IP:127.0.0.1,DNS:localhost} days=${LDAP_TLS_DAYS:-825}
    log "generating a CA and a server certificate (CN $cn, SAN $san, $days days)"
    local ext
    ext=$(mktemp)
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' "subjectAltName=$san" >"$ext"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=ldapcheck lab CA" -keyout "$CERT_DIR/ca.key" -out "$CERT_DIR/ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" \
      -keyout "$CERT_DIR/server.key" -out "$CERT_DIR/server.csr" 2>/dev/null
    openssl x509 -req -in "$CERT_DIR/server.csr" -CA "$CERT_DIR/ca.crt" -CAkey "$CERT_DIR/ca.key" \
      -CAcreateserial -days "$days" -extfile "$ext" -out "$CERT_DIR/server.crt" 2>/dev/null
    rm -f "$ext" "$CERT_DIR/server.csr" "$CERT_DIR/ca.key" "$CERT_DIR/ca.srl"
  fi
  chmod 0600 "$CERT_DIR/server.key"
  if [[ -d /export ]]; then cp "$CERT_DIR/ca.crt" /export/ca.crt && chmod 0644 /export/ca.crt; fi
}

# An unrelated CA next to the real one, for "wrong CA" cases.
make_other_ca() {
  [[ -d /export && ! -s /export/other-ca.crt ]] || return 0
  local key
  key=$(mktemp)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=Unrelated CA" -keyout "$key" -out /export/other-ca.crt 2>/dev/null
  rm -f "$key"
  chmod 0644 /export/other-ca.crt
}

config_ldif() {
  local admin_hash=$1
  cat <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: /run/slapd/slapd.pid
olcArgsFile: /run/slapd/slapd.args
olcLogLevel: $LOG_LEVEL
EOF
  if is_true "$TLS"; then
    cat <<EOF
olcTLSCACertificateFile: $CERT_DIR/ca.crt
olcTLSCertificateFile: $CERT_DIR/server.crt
olcTLSCertificateKeyFile: $CERT_DIR/server.key
EOF
  fi
  cat <<EOF

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
EOF
  is_true "$PPOLICY" && echo "olcModuleLoad: ppolicy"
  cat <<EOF

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcAccess: {0}to dn.base="" by * read
olcAccess: {1}to dn.base="cn=Subschema" by * read

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: $admin_hash
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $DATA_DIR
olcSuffix: $SUFFIX
olcRootDN: $ADMIN_DN
olcRootPW: $admin_hash
olcDbMaxSize: 17179869184
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: cn,sn eq,sub
olcDbIndex: uidNumber,gidNumber eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
EOF
  if is_true "$ANON_READ"; then
    echo "olcAccess: {1}to * by users read by anonymous read by * none"
  else
    echo "olcAccess: {1}to * by users read by * none"
  fi
  if [[ -n "${LDAP_SERVICE_SIZELIMIT:-}" ]]; then
    echo "olcLimits: {0}dn.exact=\"$SERVICE_DN\" size=${LDAP_SERVICE_SIZELIMIT}"
  fi
  if is_true "$PPOLICY"; then
    cat <<EOF

dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyDefault: cn=default,ou=policies,$SUFFIX
olcPPolicyUseLockout: FALSE
EOF
  fi
}

base_ldif() {
  local first=${SUFFIX%%,*}
  local attr=${first%%=*} value=${first#*=}
  echo "dn: $SUFFIX"
  if [[ "${attr,,}" == "dc" ]]; then
    printf 'objectClass: dcObject\nobjectClass: organization\ndc: %s\no: %s\n' "$value" "$ORG"
  else
    printf 'objectClass: organization\no: %s\n' "$value"
  fi
  for ou in users services; do
    printf '\ndn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n' "$ou" "$SUFFIX" "$ou"
  done
  if [[ -n "${LDAP_SERVICE_PASSWORD:-}" ]]; then
    local rdn=${SERVICE_DN%%,*}
    printf '\ndn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: %s\n' \
      "$SERVICE_DN" "${rdn#*=}"
    printf 'description: read-only service account (saslauthd ldap_bind_dn)\nuserPassword: %s\n' \
      "$(ssha "$LDAP_SERVICE_PASSWORD")"
  fi
  if is_true "$PPOLICY"; then
    # pwdMaxFailure 0: wrong passwords never lock anyone; only an explicit pwdAccountLockedTime does.
    printf '\ndn: ou=policies,%s\nobjectClass: organizationalUnit\nou: policies\n' "$SUFFIX"
    printf '\ndn: cn=default,ou=policies,%s\nobjectClass: pwdPolicy\nobjectClass: device\ncn: default\n' "$SUFFIX"
    printf 'pwdAttribute: userPassword\npwdLockout: TRUE\npwdMaxFailure: 0\n'
  fi
  echo
}

setup() {
  [[ -n "${LDAP_ADMIN_PASSWORD:-}" ]] || die "LDAP_ADMIN_PASSWORD is required"
  mkdir -p "$CONF_DIR" "$DATA_DIR" /run/slapd
  rm -rf "${CONF_DIR:?}"/* "${DATA_DIR:?}"/*
  if is_true "$TLS"; then make_certs; fi
  make_other_ca
  config_ldif "$(ssha "$LDAP_ADMIN_PASSWORD")" | slapadd -n0 -F "$CONF_DIR" >/dev/null
  local start=$SECONDS
  {
    base_ldif
    shopt -s nullglob
    for f in /seed/*.ldif; do cat "$f"; echo; done
  } | slapadd -q -n1 -F "$CONF_DIR"
  log "directory loaded in $((SECONDS - start)) s"
  touch "$DATA_DIR/.ldapcheck-configured"
}

# A restarted container keeps its database; only a new container is configured from the environment.
[[ -f "$DATA_DIR/.ldapcheck-configured" ]] || setup
mkdir -p /run/slapd

urls="ldap://$ADDR:$LDAP_PORT/ ldapi:///"
if is_true "$TLS" && [[ "$LDAPS_PORT" != "0" ]]; then urls="$urls ldaps://$ADDR:$LDAPS_PORT/"; fi
log "listening on $urls"
exec /usr/sbin/slapd -h "$urls" -F "$CONF_DIR" -d "$LOG_LEVEL"
