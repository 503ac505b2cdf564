"""The failure catalogue: every failure id ldapcheck prints, what it means and how to fix it.

Ids are stable: reports, JSON output and `ldapcheck explain ID` use them. `ENTRIES` holds the static ids.
`lookup` also answers the open-ended ones: `RC-<n>` for any registered LDAP result code, and `AD-<hex>` for
the well-known Active Directory `data <hex>` bind sub-codes, written in any case (`AD-52e` is `AD-52E`).

This module is plain data and is imported on every run. It uses only the standard library, imports nothing
from ldapcheck and compiles no regular expressions.
"""

from __future__ import annotations

from ldapcheck.core.record import record


@record
class Entry:
    """One failure id: its family, a short title, what it means in the login chain, and the fix."""

    id: str
    family: str
    title: str
    meaning: str
    fix: str


# Families in the order of the login chain; `all_ids` lists them in this order.
FAMILIES: dict[str, str] = {
    "NET": "network and transport to the directory",
    "TLS": "TLS to the directory",
    "RC": "LDAP result codes (RFC 4511)",
    "AD": "Active Directory bind sub-codes and specifics",
    "OL": "OpenLDAP specifics",
    "SA": "saslauthd",
    "JM": "docker-jitsi-meet wiring",
    "DOCKER": "inspecting the prosody container",
    "DIR": "validate: the directory",
    "LOGIN": "validate: login values Jitsi users cannot type",
    "SEC": "validate: security findings",
    "LINT": ".env lint findings without another id",
    "CL": "errors the LDAP client raises before sending",
    "ENV": "settings shared by the Jitsi containers",
    "XMPP": "XMPP domains and the SASL exchange with prosody",
    "WEB": "the web container's XMPP endpoints",
    "JICOFO": "jicofo's authentication",
    "INT": "prosody's internal accounts",
    "GUEST": "guests",
    "JWT": "token (JWT) authentication",
    "HOST": "Debian package installs",
    "LDAPCHECK": "ldapcheck itself",
}

# ---------------------------------------------------------------------------------------------------------------
# Ids. Each constant is its id with '-' replaced by '_'.

NET_DNS = "NET-DNS"
NET_REFUSED = "NET-REFUSED"
NET_TIMEOUT = "NET-TIMEOUT"
NET_CONTAINER = "NET-CONTAINER"
NET_PROTO_MISMATCH = "NET-PROTO-MISMATCH"
NET_NO_FAILOVER = "NET-NO-FAILOVER"
LDAP_SERVER_DOWN = "LDAP-SERVER-DOWN"

TLS_SELF_SIGNED = "TLS-SELF-SIGNED"
TLS_CHAIN = "TLS-CHAIN"
TLS_HOSTNAME = "TLS-HOSTNAME"
TLS_EXPIRED = "TLS-EXPIRED"
TLS_STARTTLS_UNSUPPORTED = "TLS-STARTTLS-UNSUPPORTED"
TLS_STARTTLS_ON_LDAPS = "TLS-STARTTLS-ON-LDAPS"
TLS_USE_TLS_SCHEME = "TLS-USE-TLS-SCHEME"
TLS_PEER_UNCHECKED = "TLS-PEER-UNCHECKED"
TLS_CIPHERS = "TLS-CIPHERS"
TLS_CA_PATH = "TLS-CA-PATH"
TLS_HANDSHAKE = "TLS-HANDSHAKE"

RC_2 = "RC-2"
RC_3 = "RC-3"
RC_4 = "RC-4"
RC_8 = "RC-8"
RC_10 = "RC-10"
RC_13 = "RC-13"
RC_32 = "RC-32"
RC_34 = "RC-34"
RC_48 = "RC-48"
RC_49 = "RC-49"
RC_50 = "RC-50"
RC_53 = "RC-53"

AD_525 = "AD-525"
AD_52E = "AD-52E"
AD_52F = "AD-52F"
AD_530 = "AD-530"
AD_531 = "AD-531"
AD_532 = "AD-532"
AD_533 = "AD-533"
AD_568 = "AD-568"
AD_701 = "AD-701"
AD_773 = "AD-773"
AD_775 = "AD-775"
AD_FILTER_UID = "AD-FILTER-UID"

OL_PPOLICY = "OL-PPOLICY"
OL_ANON_ACL = "OL-ANON-ACL"
OL_UNAUTH_BIND = "OL-UNAUTH-BIND"
OL_SIZELIMIT = "OL-SIZELIMIT"

SA_SOCKET = "SA-SOCKET"
SA_OPAQUE_NO = "SA-OPAQUE-NO"
SA_ENTRY_COUNT = "SA-ENTRY-COUNT"
SA_TOKENS = "SA-TOKENS"
SA_CONF_INVALID = "SA-CONF-INVALID"
SA_CONF_EMPTY = "SA-CONF-EMPTY"
SA_CONF_PERMS = "SA-CONF-PERMS"
SA_CONF_DEFAULTS = "SA-CONF-DEFAULTS"
SA_CACHE = "SA-CACHE"
SA_QUOTES = "SA-QUOTES"
SA_DISAGREE = "SA-DISAGREE"
SA_BINDPW_UNWRITTEN = "SA-BINDPW-UNWRITTEN"

JM_AUTH_TYPE = "JM-AUTH-TYPE"
JM_RECREATE = "JM-RECREATE"
JM_STALE_CONFIG = "JM-STALE-CONFIG"
JM_CUSTOM_CONF = "JM-CUSTOM-CONF"
JM_ENV_ESCAPE = "JM-ENV-ESCAPE"
JM_SASL_APP_CONF = "JM-SASL-APP-CONF"
JM_IMAGE = "JM-IMAGE"

DOCKER_UNAVAILABLE = "DOCKER-UNAVAILABLE"
DOCKER_NO_CONTAINER = "DOCKER-NO-CONTAINER"
DOCKER_AMBIGUOUS = "DOCKER-AMBIGUOUS"
DOCKER_STOPPED = "DOCKER-STOPPED"
DOCKER_EXEC = "DOCKER-EXEC"
DOCKER_NOT_PROSODY = "DOCKER-NOT-PROSODY"

DIR_NO_LOGIN_ATTR = "DIR-NO-LOGIN-ATTR"
DIR_NOT_CHECKED = "DIR-NOT-CHECKED"

LOGIN_AT = "LOGIN-AT"
LOGIN_SPACE = "LOGIN-SPACE"
LOGIN_ESCAPED = "LOGIN-ESCAPED"
LOGIN_NONASCII = "LOGIN-NONASCII"

SEC_PLAINTEXT = "SEC-PLAINTEXT"
SEC_ANON_READ = "SEC-ANON-READ"
SEC_PASSWORD_READABLE = "SEC-PASSWORD-READABLE"

LINT_LDAP_OFF = "LINT-LDAP-OFF"
LINT_ENABLE_AUTH = "LINT-ENABLE-AUTH"
LINT_URL_MISSING = "LINT-URL-MISSING"
LINT_BASE_MISSING = "LINT-BASE-MISSING"
LINT_BINDPW_MISSING = "LINT-BINDPW-MISSING"
LINT_URL_SCHEME = "LINT-URL-SCHEME"
LINT_TLS_IGNORED = "LINT-TLS-IGNORED"
LINT_BOOL_WORD = "LINT-BOOL-WORD"
LINT_FILTER_TOKEN = "LINT-FILTER-TOKEN"
LINT_AUTH_METHOD = "LINT-AUTH-METHOD"
LINT_LINE_BREAK = "LINT-LINE-BREAK"
LINT_LEADING_SPACE = "LINT-LEADING-SPACE"
LINT_TRAILING_SPACE = "LINT-TRAILING-SPACE"
LINT_DUPLICATE_KEY = "LINT-DUPLICATE-KEY"
LINT_SHELL_OVERRIDE = "LINT-SHELL-OVERRIDE"

CL_FILTER = "CL-FILTER"
CL_DN_SYNTAX = "CL-DN-SYNTAX"
CL_SASLPREP = "CL-SASLPREP"

ENV_SPLIT = "ENV-SPLIT"

XMPP_DOMAIN_CUSTOM = "XMPP-DOMAIN-CUSTOM"
XMPP_SASL = "XMPP-SASL"
XMPP_NOMECH = "XMPP-NOMECH"

WEB_BOSH = "WEB-BOSH"
WEB_WS = "WEB-WS"

JICOFO_AUTH_OFF = "JICOFO-AUTH-OFF"
JICOFO_LOGINURL = "JICOFO-LOGINURL"
JICOFO_AUTOLOGIN = "JICOFO-AUTOLOGIN"

INT_NOUSER = "INT-NOUSER"
INT_BADPASS = "INT-BADPASS"
INT_DISABLED = "INT-DISABLED"
INT_DOMAIN = "INT-DOMAIN"
INT_CFGPATH = "INT-CFGPATH"
INT_JID_TYPED = "INT-JID-TYPED"
INT_MODE_STILL_TOKEN = "INT-MODE-STILL-TOKEN"

GUEST_NOHOST = "GUEST-NOHOST"
GUEST_OFF_PROMPT = "GUEST-OFF-PROMPT"
GUEST_WAITING = "GUEST-WAITING"
GUEST_LOGIN_LOOP = "GUEST-LOGIN-LOOP"

JWT_EMPTY = "JWT-EMPTY"
JWT_FORMAT = "JWT-FORMAT"
JWT_SIG = "JWT-SIG"
JWT_ALG = "JWT-ALG"
JWT_TYP = "JWT-TYP"
JWT_ISS = "JWT-ISS"
JWT_AUD = "JWT-AUD"
JWT_EXP = "JWT-EXP"
JWT_NBF = "JWT-NBF"
JWT_CLOCK = "JWT-CLOCK"
JWT_ROOMCLAIM = "JWT-ROOMCLAIM"
JWT_ROOM = "JWT-ROOM"
JWT_SUB = "JWT-SUB"
JWT_KID = "JWT-KID"
JWT_KEYSERVER = "JWT-KEYSERVER"
JWT_CONFIG = "JWT-CONFIG"
JWT_SECRET_TOBOOL = "JWT-SECRET-TOBOOL"
JWT_MODULE = "JWT-MODULE"
JWT_GUESTS_MIX = "JWT-GUESTS-MIX"
JWT_ALL_MODERATOR = "JWT-ALL-MODERATOR"
JWT_EMPTY_CREATES = "JWT-EMPTY-CREATES"
JWT_ASAP_HEADER = "JWT-ASAP-HEADER"
JWT_KID_ALG = "JWT-KID-ALG"
JWT_KEY = "JWT-KEY"
JWT_SIGNTYPE = "JWT-SIGNTYPE"
JWT_NUMERIC = "JWT-NUMERIC"
JWT_CONTEXT = "JWT-CONTEXT"
JWT_JOIN = "JWT-JOIN"
JWT_TENANT = "JWT-TENANT"

HOST_SASL_GROUP = "HOST-SASL-GROUP"
HOST_SASLAUTHD_OFF = "HOST-SASLAUTHD-OFF"
HOST_MECH = "HOST-MECH"
HOST_CONF_UNLINKED = "HOST-CONF-UNLINKED"
HOST_LUA_LIB = "HOST-LUA-LIB"
HOST_SERVICE = "HOST-SERVICE"
HOST_NO_PROSODY = "HOST-NO-PROSODY"
HOST_NO_CYRUS = "HOST-NO-CYRUS"

LDAPCHECK_INTERNAL = "LDAPCHECK-INTERNAL"

# ---------------------------------------------------------------------------------------------------------------
# Entries: (id, title, meaning, fix) per family.

_Row = tuple[str, str, str, str]

_NET: tuple[_Row, ...] = (
    (
        NET_DNS,
        "host name does not resolve",
        "The host in LDAP_URL has no address for the resolver asked. Often it resolves on the host but not inside "
        "the prosody container, which uses Docker's DNS; saslauthd then never reaches the directory.",
        "Use a name the container resolves (`docker exec <prosody> getent hosts <host>`) or an IP in LDAP_URL, or "
        "add the name with extra_hosts in docker-compose.override.yml; then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        NET_REFUSED,
        "connection refused",
        "The host answered, but nothing listens on that port: a wrong port in LDAP_URL, or the LDAP server is down. "
        "saslauthd cannot connect and answers NO.",
        "Check the port in LDAP_URL (389 for ldap:// with StartTLS, 636 for ldaps://, 3268/3269 for the AD Global "
        "Catalog) and that the server runs.",
    ),
    (
        NET_TIMEOUT,
        "no answer in time",
        "Packets to the server are dropped (firewall, wrong network), or the server accepts the connection and "
        "then hangs. saslauthd gives up after ldap_timeout (5 s, about 10 s with its retry) and answers NO; prosody "
        "waits with it.",
        "Open the path from the prosody container to the server (firewall, security group, compose network); if "
        "the server accepts TCP but hangs, check its health and load.",
    ),
    (
        NET_CONTAINER,
        "reachable from the host, not from prosody",
        "ldapcheck reached the directory from where it runs, but the same check failed inside the prosody "
        "container: its DNS, networks or routes differ (Docker networks, extra_hosts, a VPN only on the host).",
        "Make the server reachable from the container: attach prosody to a network that routes to it, or use a name "
        "or IP the container resolves; test with `docker exec <prosody> getent hosts <host>`.",
    ),
    (
        NET_PROTO_MISMATCH,
        "URL scheme does not match the port",
        "ldaps:// was used on a plain LDAP port (TLS 'wrong version number'), or ldap:// or StartTLS on a port that "
        "expects TLS from the first byte. The connection fails before any bind.",
        "Use ldap://host:389 (with LDAP_START_TLS=1 for encryption) or ldaps://host:636 in LDAP_URL.",
    ),
    (
        NET_NO_FAILOVER,
        "first server hangs, saslauthd does not fail over",
        "LDAP_URL lists several servers and the first accepts TCP but never answers. saslauthd waits about 10 s, "
        "answers NO and does not try the next URL: it fails over only when the connection itself fails.",
        "Repair the hanging server or remove it from LDAP_URL (or put a healthy server first), then "
        "`docker compose up -d --force-recreate prosody`; ldapcheck's per-server steps show which one hangs.",
    ),
    (
        LDAP_SERVER_DOWN,
        "cannot talk LDAP to the server",
        "The connection to the directory failed for a reason other than DNS, refusal, timeout or a scheme/port "
        "mismatch: no route, a reset or closed connection, or something that is not an LDAP server answers on the "
        'port. libldap calls this "Can\'t contact LDAP server".',
        "Check the host, port and scheme in LDAP_URL and the route from the prosody container; the step's detail "
        "shows the underlying error.",
    ),
)

_TLS: tuple[_Row, ...] = (
    (
        TLS_SELF_SIGNED,
        "server certificate not trusted",
        "The certificate is self-signed or issued by a CA the checking side does not trust. With "
        "LDAP_TLS_CHECK_PEER=1 saslauthd refuses the connection; without it nothing is verified (TLS-PEER-UNCHECKED).",
        "Pass the CA to ldapcheck with --ca-file; mount it into prosody and set LDAP_TLS_CACERT_FILE to its path "
        "inside the container, then `docker compose up -d --force-recreate prosody`.",
    ),
    (
        TLS_CHAIN,
        "incomplete certificate chain",
        "The server does not send its intermediate CA certificate, so the chain cannot be built up to a trusted root.",
        "Configure the server to send the full chain, or add the intermediate to the file named by "
        "LDAP_TLS_CACERT_FILE.",
    ),
    (
        TLS_HOSTNAME,
        "certificate name does not match LDAP_URL",
        "The host name in LDAP_URL is not among the certificate's names (subjectAltName). libldap also replaces "
        "`localhost` by the peer's reverse DNS name before checking.",
        "Use a name the certificate lists in LDAP_URL, or reissue the certificate with this name in its "
        "subjectAltName.",
    ),
    (
        TLS_EXPIRED,
        "certificate expired or not yet valid",
        "The server certificate is outside its validity period (a warning when it expires soon), or the clock of the "
        "server or of the prosody container is wrong.",
        "Renew the server certificate; if it looks valid, compare `date -u` on the server with "
        "`docker exec <prosody> date -u`.",
    ),
    (
        TLS_STARTTLS_UNSUPPORTED,
        "server does not offer StartTLS",
        "LDAP_START_TLS=1 asks for StartTLS, but the server has no TLS configured or refuses the extended operation "
        "(often protocolError, 2). saslauthd cannot secure the connection and answers NO.",
        "Configure TLS on the server, or use ldaps:// on port 636 in LDAP_URL with LDAP_START_TLS=0.",
    ),
    (
        TLS_STARTTLS_ON_LDAPS,
        "StartTLS on an ldaps:// URL",
        "LDAP_START_TLS=1 with an ldaps:// URL starts TLS inside TLS: the server answers 'TLS already started' and "
        "every login fails.",
        "Use either ldaps:// with LDAP_START_TLS=0, or ldap:// with LDAP_START_TLS=1.",
    ),
    (
        TLS_USE_TLS_SCHEME,
        "LDAP_USE_TLS=1 with ldap:// is not encryption",
        "The URL scheme decides TLS, not LDAP_USE_TLS, which only renders the TLS settings (CA, client certificate). "
        "With ldap:// and no StartTLS every password crosses the network in clear text.",
        "Use LDAP_URL=ldaps://host:636, or keep ldap:// and set LDAP_START_TLS=1.",
    ),
    (
        TLS_PEER_UNCHECKED,
        "server certificate is not verified",
        "docker-jitsi-meet writes ldap_tls_check_peer only with LDAP_USE_TLS=1 and LDAP_TLS_CHECK_PEER=1; otherwise "
        "libldap runs with TLS_REQCERT allow and accepts any certificate, so a machine in the middle can read the "
        "passwords.",
        "Set LDAP_USE_TLS=1, LDAP_TLS_CHECK_PEER=1 and LDAP_TLS_CACERT_FILE (a CA mounted into prosody), then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        TLS_CIPHERS,
        "LDAP_TLS_CIPHERS in the wrong syntax",
        "Current images (Debian trixie) build libldap with OpenSSL, which expects an OpenSSL cipher list; images up to "
        "stable-11031 (bookworm) use GnuTLS, which expects a priority string. A list in the other syntax breaks the "
        "TLS setup.",
        "Remove LDAP_TLS_CIPHERS (the library default is sane) or write it for your image: e.g. HIGH:!aNULL "
        "(OpenSSL) or SECURE256:SECURE128 (GnuTLS).",
    ),
    (
        TLS_CA_PATH,
        "CA file missing inside the container",
        "saslauthd.conf names a CA file or directory (LDAP_TLS_CACERT_FILE/DIR) that does not exist inside the "
        "prosody container: these are container paths, not host paths. TLS setup then fails for every login.",
        "Mount the CA into prosody (volumes: - ./ca.crt:/path/in/container:ro in docker-compose.override.yml), point "
        "LDAP_TLS_CACERT_FILE at that path, then `docker compose up -d --force-recreate prosody`.",
    ),
    (
        TLS_HANDSHAKE,
        "TLS handshake failed",
        "The TLS negotiation failed for a reason that is neither a scheme/port mismatch nor a certificate problem: "
        "no common protocol version or cipher, or the server dropped the handshake.",
        "Check the server's TLS versions and ciphers and LDAP_TLS_CIPHERS; `openssl s_client -connect host:636` "
        "shows what the server offers.",
    ),
)

_RC: tuple[_Row, ...] = (
    (
        RC_2,
        "protocol error",
        "protocolError (2): the server did not understand the request. Usually LDAP_VERSION is not 3 (StartTLS needs "
        "LDAPv3, most servers refuse v2), or StartTLS was sent to a server without it.",
        "Use LDAP_VERSION=3 (or remove it: 3 is the default); for StartTLS see TLS-STARTTLS-UNSUPPORTED.",
    ),
    (
        RC_3,
        "time limit exceeded",
        "timeLimitExceeded (3), or a search slower than saslauthd allows: saslauthd gives up after 5 s and answers "
        "NO. A search slower than about 2 s is a warning.",
        "Narrow LDAP_BASE, index the filter's attribute on the server, and avoid the nested-group rule "
        "1.2.840.113556.1.4.1941 on big trees.",
    ),
    (
        RC_4,
        "size limit exceeded",
        "sizeLimitExceeded (4): the server returns at most N entries per search (AD: MaxPageSize 1000), so "
        "ldapcheck's scan or count is incomplete. Logins are not affected: saslauthd expects exactly one entry.",
        "Lift the limit for the bind identity (AD: MaxPageSize or the account's query policy), or run validate with "
        "a .env whose LDAP_BINDDN has no limit.",
    ),
    (
        RC_8,
        "stronger authentication required",
        "strongerAuthRequired (8): the directory refuses simple binds on an unprotected connection, e.g. AD with LDAP "
        "signing enforced (the default on Windows Server 2025) or an OpenLDAP `security ssf=` rule.",
        "Use ldaps:// in LDAP_URL, or ldap:// with LDAP_START_TLS=1; then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        RC_10,
        "LDAP_BASE is held by another server",
        "referral (10): LDAP_BASE is outside this server's naming contexts, so it points elsewhere. saslauthd does "
        "not follow referrals and finds nobody.",
        "Fix LDAP_BASE (compare its dc= parts with the server's namingContexts), or point LDAP_URL at the server "
        "that holds it (for a whole AD forest, the Global Catalog on port 3268).",
    ),
    (
        RC_13,
        "confidentiality required",
        "confidentialityRequired (13): the server requires TLS for this operation and refuses it on a plain "
        "connection.",
        "Use ldaps:// in LDAP_URL, or ldap:// with LDAP_START_TLS=1; then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        RC_32,
        "no such object",
        "noSuchObject (32): a DN the server was asked about does not exist, usually LDAP_BASE (a typo in the dc= "
        "parts) or the bind DN. saslauthd treats a missing base like an unknown user and answers NO.",
        "Correct LDAP_BASE or LDAP_BINDDN, starting from the deepest existing part (matchedDN) that ldapcheck shows.",
    ),
    (
        RC_34,
        "invalid DN syntax",
        "invalidDNSyntax (34): the server rejected a DN as not being one, e.g. LDAP_BINDDN is a bare user name or "
        "kept quotes from .env.",
        "Write LDAP_BINDDN as a full DN such as cn=jitsi,ou=services,dc=example,dc=org (AD also accepts "
        "user@domain), without surrounding quotes.",
    ),
    (
        RC_48,
        "anonymous bind refused",
        "inappropriateAuthentication (48): the server forbids anonymous binds (OpenLDAP: 'anonymous bind "
        "disallowed'). With LDAP_BINDDN empty, saslauthd cannot search for users.",
        "Set LDAP_BINDDN and LDAP_BINDPW to a read-only service account, then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        RC_49,
        "invalid credentials",
        "invalidCredentials (49): the directory rejected a DN and password. For the service bind, LDAP_BINDDN or "
        "LDAP_BINDPW is wrong (often a `$` that Compose replaced); for a user, the password is wrong or the entry has "
        "none. On AD the `data` sub-code (AD-*) says more.",
        "Service bind: check LDAP_BINDDN and LDAP_BINDPW (single-quote it in .env), then "
        "`docker compose up -d --force-recreate prosody`. User bind: the user must type the right password.",
    ),
    (
        RC_50,
        "insufficient access rights",
        "insufficientAccessRights (50), or fewer entries than another identity sees: an ACL keeps the bind identity "
        "from searching or reading users. Users saslauthd cannot see cannot log in.",
        "Grant the service account (LDAP_BINDDN) search and read on the users under LDAP_BASE and on the attributes "
        "in LDAP_FILTER.",
    ),
    (
        RC_53,
        "unwilling to perform (empty password)",
        "unwillingToPerform (53) is what servers answer to a bind with a DN and an empty password, an "
        "unauthenticated bind (RFC 4513 5.1.2): LDAP_BINDPW is empty while LDAP_BINDDN is set, or the user typed no "
        "password. Other server policies can also refuse with 53.",
        "Set LDAP_BINDPW (an empty ldap_bind_pw line also makes saslauthd reject its whole config), then "
        "`docker compose up -d --force-recreate prosody`; users must type their password.",
    ),
)

_AD: tuple[_Row, ...] = (
    (
        AD_525,
        "user not found",
        "AD found no account for the bind name (data 525). saslauthd binds users by the DN it found, so this "
        "usually means LDAP_BINDDN names no account.",
        "Check LDAP_BINDDN (a full DN, or user@domain); for users, check LDAP_FILTER's attribute "
        "(sAMAccountName, not uid).",
    ),
    (
        AD_52E,
        "wrong password",
        "AD rejected the password (data 52e, logon failure); it gives the same code for an unknown user. Every try "
        "counts toward the account's lockout threshold.",
        "Service bind: fix LDAP_BINDPW (single-quoted in .env), then `docker compose up -d --force-recreate prosody`. "
        "User: the user must type the right password; ldapcheck does not retry.",
    ),
    (
        AD_52F,
        "account restriction",
        "AD refused the logon because of an account restriction (data 52f), e.g. empty passwords not allowed or a "
        "Protected Users rule.",
        "Check the account's restrictions in AD (Active Directory Users and Computers, Account tab).",
    ),
    (
        AD_530,
        "logon not permitted at this time",
        "The account's logonHours forbid logging on now (data 530).",
        "Widen the user's logon hours in AD, or log in within them.",
    ),
    (
        AD_531,
        "logon not permitted from this workstation",
        "The account may log on only from the workstations listed in userWorkstations (data 531); the LDAP bind does "
        "not come from one of them.",
        "Clear or extend the user's 'Log On To' list (userWorkstations) in AD.",
    ),
    (
        AD_532,
        "password expired",
        "The user's password has expired (data 532); Jitsi cannot change passwords.",
        "The user sets a new password in Windows or the password portal, or an admin resets it.",
    ),
    (
        AD_533,
        "account disabled",
        "The account is disabled (data 533, userAccountControl bit 2): expected for people who left.",
        "Enable the account in AD, or exclude disabled accounts: "
        "LDAP_FILTER=(&(sAMAccountName=%u)(!(userAccountControl:1.2.840.113556.1.4.803:=2))).",
    ),
    (
        AD_568,
        "too many security IDs",
        "The user is in too many groups: the logon token exceeds AD's SID limit (data 568).",
        "Reduce the user's (nested) group memberships.",
    ),
    (
        AD_701,
        "account expired",
        "The account's accountExpires date has passed (data 701).",
        "Extend accountExpires for the user in AD, or leave the user out of LDAP_FILTER.",
    ),
    (
        AD_773,
        "user must change the password",
        "The password must be changed at next logon (data 773, pwdLastSet = 0); AD refuses binds until then and "
        "Jitsi cannot change passwords.",
        "The user logs in once to Windows or the password portal to set a new password.",
    ),
    (
        AD_775,
        "account locked out",
        "Too many wrong passwords locked the account (data 775, lockoutTime > 0); AD refuses even the right password "
        "until the lockout ends.",
        "Wait for the domain's lockout duration or unlock the account in AD; ldapcheck does not retry.",
    ),
    (
        AD_FILTER_UID,
        "uid filter on Active Directory",
        "LDAP_FILTER matches on uid, but the base looks like Active Directory, whose users have no uid attribute: "
        "saslauthd finds nobody.",
        "Use LDAP_FILTER=(sAMAccountName=%u), then `docker compose up -d --force-recreate prosody`.",
    ),
)

_OL: tuple[_Row, ...] = (
    (
        OL_PPOLICY,
        "password policy refuses or warns",
        "OpenLDAP's ppolicy overlay refused the bind or warned: account locked (pwdAccountLockedTime), password "
        "expired, must change after a reset (pwdReset), expiring soon or grace logins in use. Jitsi cannot change "
        "passwords.",
        "Locked: delete pwdAccountLockedTime with ldapmodify. Expired or reset: set a new password for the user "
        "(e.g. with ldappasswd).",
    ),
    (
        OL_ANON_ACL,
        "anonymous clients cannot see the users",
        "Anonymous binds work, but the ACL (e.g. `by anonymous auth`) hides the users or LDAP_BASE from anonymous "
        "clients, so saslauthd without LDAP_BINDDN finds nobody.",
        "Set LDAP_BINDDN and LDAP_BINDPW to a read-only service account, then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        OL_UNAUTH_BIND,
        "empty password accepted as anonymous bind",
        "The server accepted a DN with an empty password as an unauthenticated (anonymous) bind. That is not a "
        "login, and any client that trusts a successful bind would let such users in.",
        "Make the server refuse unauthenticated binds, OpenLDAP's default (RFC 4513 6.3.1): remove "
        "`olcAllows: bind_anon_dn` (slapd.conf: `allow bind_anon_dn`).",
    ),
    (
        OL_SIZELIMIT,
        "OpenLDAP size limit reached",
        "OpenLDAP's size limit (olcSizeLimit, 500 by default) stopped the directory scan, so duplicates and login "
        "checks cover only part of the users. Logins are not affected.",
        'Lift the limit for the scanning identity (olcLimits: dn.exact="<bind DN>" size.prtotal=unlimited), or '
        "run validate with a .env whose LDAP_BINDDN has no limit.",
    ),
)

_SA: tuple[_Row, ...] = (
    (
        SA_SOCKET,
        "saslauthd unreachable",
        "prosody cannot reach saslauthd: it is not running, its socket (/var/run/saslauthd/mux) is missing, prosody's "
        "user may not connect to it, or it runs with another mechanism than ldap. Every login fails with 'generic "
        "failure' and saslauthd logs nothing.",
        "Read saslauthd's errors in `docker logs <prosody>`, fix the socket directory's mode (the image creates it "
        "0777), then `docker compose restart prosody`; if AUTH_TYPE is not exactly ldap, see JM-AUTH-TYPE.",
    ),
    (
        SA_OPAQUE_NO,
        "saslauthd said NO without a reason",
        "saslauthd answered NO ('authentication failed') and never says why; the reason lies in the LDAP chain it "
        "runs (service bind, search, user bind).",
        "Read the first failing LDAP step in ldapcheck's report: it names the cause saslauthd hides.",
    ),
    (
        SA_ENTRY_COUNT,
        "filter matches no entry or several",
        "saslauthd needs exactly one entry for LDAP_FILTER under LDAP_BASE. With none the user is unknown; with "
        "several it refuses ('Entry not found or more than one entries found').",
        "None: fix LDAP_BASE or the filter's attribute (AD: sAMAccountName, not uid). Several: narrow LDAP_BASE or "
        "add an objectClass or group condition to LDAP_FILTER, or remove the duplicate entry.",
    ),
    (
        SA_TOKENS,
        "filter tokens cannot match typed logins",
        "Through prosody, saslauthd gets the login without '@...' (so %u equals %U) and XMPP_DOMAIN as realm (%r); "
        "%d is empty. A filter built on %d, or on values the typed login cannot produce, never matches.",
        "Use %u for the login, or match the local part with a constant, e.g. LDAP_FILTER=(mail=%u@example.org); "
        "`ldapcheck user LOGIN` shows the expansion.",
    ),
    (
        SA_CONF_INVALID,
        "saslauthd rejects its config file",
        "A line of saslauthd.conf is not `key: value` or has an empty value. saslauthd then rejects its whole "
        "configuration: every login answers NO, with nothing in the log.",
        "Set or remove the empty .env value (LDAP_URL=, LDAP_BASE=, LDAP_BINDPW=) or fix the mounted file, then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        SA_CONF_EMPTY,
        "empty value in saslauthd.conf",
        "A required .env value is empty (e.g. LDAP_BASE=), so saslauthd.conf gets a key without value "
        "(`ldap_search_base: `); saslauthd rejects its whole configuration and every login fails without a log line.",
        "Set the value in .env (e.g. LDAP_BASE=ou=users,dc=example,dc=org), then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        SA_CONF_PERMS,
        "saslauthd.conf is readable in the container",
        "Rootless images (stable-11146 and later) write /run/saslauthd.conf, which holds ldap_bind_pw, with mode "
        "0644: every process in the prosody container can read the service account's password.",
        "Logins are not affected. Give LDAP_BINDDN a dedicated read-only account that can only search users (never "
        "an administrator) and limit who may `docker exec` into prosody; to narrow the file, mount your own "
        "/etc/saslauthd.conf with mode 0600 owned by the user that reads it (uid 1000 on rootless images, root "
        "before them).",
    ),
    (
        SA_CONF_DEFAULTS,
        "mounted saslauthd.conf relies on defaults",
        "The mounted saslauthd.conf leaves keys out (e.g. ldap_version, ldap_auth_method), so saslauthd uses its own "
        "defaults (3, bind) where the image would render .env's values. Informational: usually harmless.",
        "Nothing to do if the defaults are what you want; otherwise write the keys into the mounted file and run "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        SA_CACHE,
        "saslauthd answers from its credential cache",
        "saslauthd runs with -c and reuses successful logins for up to 8 hours: an old password keeps working after "
        "a change, and directory fixes seem to have no effect.",
        "Flush the cache with `docker compose up -d --force-recreate prosody`; the directory itself is right.",
    ),
    (
        SA_QUOTES,
        "quotes reach saslauthd",
        "A value still has quotes after Compose read .env (nested quotes), or a mounted saslauthd.conf quotes its "
        "values; saslauthd takes them literally.",
        "Use one pair of single quotes in .env (KEY='value') and none in saslauthd.conf, then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        SA_DISAGREE,
        "two answers for the same login disagree",
        "testsaslauthd and ldapcheck's socket probe (or saslauthd and ldapcheck's own LDAP chain) gave different "
        "answers for the same login: a password change or cache expiry between the calls, or a bug.",
        "Rerun; if it persists, rerun with --debug and report the output.",
    ),
    (
        SA_BINDPW_UNWRITTEN,
        "LDAP_BINDPW set without LDAP_BINDDN",
        "Without LDAP_BINDDN the template writes no bind lines: the password is ignored and saslauthd binds "
        "anonymously.",
        "Set LDAP_BINDDN to the service account's full DN, or remove LDAP_BINDPW.",
    ),
)

_JM: tuple[_Row, ...] = (
    (
        JM_AUTH_TYPE,
        "auth settings do not select LDAP",
        "The image writes saslauthd.conf and starts saslauthd only when AUTH_TYPE is exactly `ldap` (case and quotes "
        "matter), prosody uses cyrus only when PROSODY_AUTH_TYPE (default AUTH_TYPE) is ldap, and with ENABLE_AUTH "
        "off prosody never asks for a password.",
        "Set ENABLE_AUTH=1 and AUTH_TYPE=ldap (lower case, no quotes) and leave PROSODY_AUTH_TYPE unset, then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JM_RECREATE,
        "container runs older .env values",
        "The container was created before .env last changed: `docker compose restart` keeps the old environment, so "
        "prosody (or jicofo, web) still runs with the former values.",
        "Run `docker compose up -d --force-recreate prosody` (plain `docker compose up -d` recreates every "
        "container whose settings changed).",
    ),
    (
        JM_STALE_CONFIG,
        "stale rendered config",
        "A config file in use was rendered from older values and no longer matches the container's environment: "
        "saslauthd.conf in a persisted volume, or on images before stable-5142 the prosody, jicofo and web configs "
        "under ${CONFIG}, rendered only once.",
        "Remove the stale file (old images: the ${CONFIG} directories of prosody, jicofo and web, or upgrade), then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JM_CUSTOM_CONF,
        "mounted saslauthd.conf overrides .env",
        "A file mounted at /etc/saslauthd.conf is used instead of the one rendered from the LDAP_* values of .env, "
        "so .env changes have no effect on logins.",
        "Edit the mounted file, or remove the mount to use .env; then `docker compose up -d --force-recreate prosody`.",
    ),
    (
        JM_ENV_ESCAPE,
        "Compose changes the .env value",
        "Compose substitutes `$name` in unquoted and double-quoted values and cuts unquoted values at ' #', and some "
        "Compose versions keep quotes: the container receives something else than was written, typically a wrong "
        "LDAP_BINDPW.",
        "Single-quote the value (KEY='value with $ and #') or write each literal $ as $$, then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JM_SASL_APP_CONF,
        "Cyrus SASL application config is wrong",
        "libsasl reads <cyrus_application_name>.conf (xmpp.conf) to know it must ask saslauthd. If it is missing, "
        "or lacks `pwcheck_method: saslauthd` and `mech_list: PLAIN`, Cyrus SASL never asks saslauthd and may offer "
        "every plugin, ANONYMOUS included.",
        "Restore the image's /etc/sasl/xmpp.conf (pwcheck_method: saslauthd, mech_list: PLAIN) and "
        'cyrus_application_name = "xmpp"; remove mounts that hide them.',
    ),
    (
        JM_IMAGE,
        "prosody image lacks a stock component",
        "The prosody image lacks something a stock docker-jitsi-meet image has: lua-ldap (used by ldapcheck's "
        "in-container probe) or, in 7210-1 images, mod_auth_cyrus ('No available SASL mechanisms'). It is a custom "
        "or outdated image.",
        "Use a current jitsi/prosody image (`docker compose pull prosody && docker compose up -d prosody`), or add "
        "the package to your own image.",
    ),
)

_DOCKER: tuple[_Row, ...] = (
    (
        DOCKER_UNAVAILABLE,
        "no Docker engine answered",
        "ldapcheck could not reach a Docker engine, so the steps inside the prosody container could not run.",
        "Run ldapcheck where `docker ps` works, pass --docker-host (e.g. ssh://admin@jitsi-host), or skip the "
        "container steps with --no-container.",
    ),
    (
        DOCKER_NO_CONTAINER,
        "no prosody container found",
        "No container has the name given with --container, and none is labelled as the compose service prosody.",
        "Start docker-jitsi-meet (`docker compose up -d`), or name the container with --container "
        "(see `docker ps -a`).",
    ),
    (
        DOCKER_AMBIGUOUS,
        "several prosody containers",
        "More than one prosody container matches, and none matches the .env alone.",
        "Choose one with --container NAME or --project PROJECT.",
    ),
    (
        DOCKER_STOPPED,
        "prosody container not running",
        "The prosody container exists but is stopped, so nobody can log in and it cannot be inspected.",
        "Start it with `docker compose up -d prosody`; if it stops again, read `docker logs <prosody>`.",
    ),
    (
        DOCKER_EXEC,
        "command inside the container failed",
        "ldapcheck could not run or finish a command in the container: the exec was refused, timed out or broke off, "
        "or the probe reported nothing.",
        "Check that the container runs and that this user may use the Docker engine; rerun, or run the step's "
        "reproduce command.",
    ),
    (
        DOCKER_NOT_PROSODY,
        "container is not a prosody container",
        "The container named with --container runs no prosody (e.g. the web or jicofo container), so there is no "
        "login to inspect.",
        "Pass the prosody container with --container (`docker ps --filter label=com.docker.compose.service=prosody`).",
    ),
)

_DIR: tuple[_Row, ...] = (
    (
        DIR_NO_LOGIN_ATTR,
        "entries without the login attribute",
        "Entries the filter's object part selects have no value for the login attribute, so no typed login can "
        "reach them. Expected for entries that are not people.",
        "Give these entries the login attribute, or narrow LDAP_FILTER's objectClass if they are not people.",
    ),
    (
        DIR_NOT_CHECKED,
        "check could not run",
        "A validate check could not run (its search failed, or the filter's login part cannot be separated), so its "
        "result is unknown, not clean.",
        "Fix what the step's summary names (often an ACL or a size limit) and rerun validate.",
    ),
)

_LOGIN: tuple[_Row, ...] = (
    (
        LOGIN_AT,
        "login values contain '@'",
        "Prosody cuts the login at the first '@', so saslauthd searches for the part before it and never finds "
        "users whose login value contains '@'.",
        "Filter on an attribute without '@' (uid, sAMAccountName), or match the local part, e.g. "
        "LDAP_FILTER=(mail=%u@example.org).",
    ),
    (
        LOGIN_SPACE,
        "login values with surrounding spaces",
        "XMPP clients and prosody do not send leading or trailing spaces, so these values never match what users type.",
        "Remove the spaces from the directory values.",
    ),
    (
        LOGIN_ESCAPED,
        "login values with * ( ) \\ or NUL",
        "saslauthd escapes these characters before searching (\\2a \\28 \\29 \\5c \\00), so they match only "
        "literally and users must type them exactly.",
        "Prefer plain login names; check a user with `ldapcheck user LOGIN`.",
    ),
    (
        LOGIN_NONASCII,
        "non-ASCII login values",
        "saslauthd passes on the bytes the client typed; whether they match depends on the client's Unicode "
        "normalisation and the server's matching rules.",
        "Test these users with `ldapcheck user LOGIN`, or use ASCII login names.",
    ),
)

_SEC: tuple[_Row, ...] = (
    (
        SEC_PLAINTEXT,
        "passwords cross the network in clear",
        "LDAP_URL is ldap:// without StartTLS: saslauthd sends every user's password to the directory unencrypted.",
        "Use LDAP_URL=ldaps://host:636, or ldap:// with LDAP_START_TLS=1; then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        SEC_ANON_READ,
        "anonymous clients can list the users",
        "An anonymous bind can search the users: anyone who reaches the server gets the user list.",
        "Give saslauthd a read-only service account (LDAP_BINDDN, LDAP_BINDPW) and drop anonymous read "
        "(OpenLDAP: `by anonymous auth` only).",
    ),
    (
        SEC_PASSWORD_READABLE,
        "bind identity can read password hashes",
        "The bind identity can read users' password attributes (userPassword). saslauthd's bind method never needs "
        "them, so a leaked LDAP_BINDPW exposes every hash.",
        "Restrict them (OpenLDAP: `olcAccess: to attrs=userPassword by self write by anonymous auth by * none`) and "
        "use a service account that is not an administrator.",
    ),
)

_LINT: tuple[_Row, ...] = (
    (
        LINT_LDAP_OFF,
        "no LDAP configuration",
        "AUTH_TYPE is not ldap and no LDAP_* key is set: the LDAP checks have nothing to check. Informational.",
        "Run `ldapcheck env generate --write .env` to add an LDAP block, or check the auth mode you use.",
    ),
    (
        LINT_ENABLE_AUTH,
        "ENABLE_AUTH is off",
        "Without ENABLE_AUTH=1 prosody keeps anonymous login and never asks for a password, whatever AUTH_TYPE says.",
        "Set ENABLE_AUTH=1, then `docker compose up -d` to recreate prosody, jicofo and web.",
    ),
    (
        LINT_URL_MISSING,
        "LDAP_URL is not set or empty",
        "Unset, saslauthd.conf gets `ldap_servers: <no value>`, which is no server; empty, the key has no value and "
        "saslauthd rejects its whole configuration.",
        "Set LDAP_URL, e.g. LDAP_URL=ldaps://ldap.example.org:636.",
    ),
    (
        LINT_BASE_MISSING,
        "LDAP_BASE is not set or empty",
        "Unset, the search base is the literal text `<no value>` and no user is ever found; empty, saslauthd rejects "
        "its whole configuration.",
        "Set LDAP_BASE to the DN above the users, e.g. LDAP_BASE=ou=users,dc=example,dc=org.",
    ),
    (
        LINT_BINDPW_MISSING,
        "LDAP_BINDDN without LDAP_BINDPW",
        "Unset, the service bind uses the literal text `<no value>` as its password; empty, `ldap_bind_pw:` has no "
        "value and saslauthd rejects its whole configuration.",
        "Set LDAP_BINDPW (single-quoted), or remove LDAP_BINDDN for an anonymous bind.",
    ),
    (
        LINT_URL_SCHEME,
        "LDAP_URL entry is not an LDAP URL",
        "An LDAP_URL entry is not an ldap://, ldaps:// or ldapi:// URL, or the servers are separated by commas; "
        "saslauthd expects space-separated URLs.",
        "Write LDAP_URL='ldaps://dc1.example.org ldaps://dc2.example.org' (single-quoted, space-separated).",
    ),
    (
        LINT_TLS_IGNORED,
        "TLS setting has no effect",
        "The template writes LDAP_TLS_CIPHERS and LDAP_TLS_CACERT_FILE/DIR only with LDAP_USE_TLS=1, and the CA only "
        "with LDAP_TLS_CHECK_PEER=1; otherwise they are silently dropped.",
        "Set LDAP_USE_TLS=1 and LDAP_TLS_CHECK_PEER=1, or remove the unused keys.",
    ),
    (
        LINT_BOOL_WORD,
        "boolean written as a word",
        "The image's toBool reads every non-empty word other than 0/f/false as true (LDAP_START_TLS=no turns "
        "StartTLS on); images stable-7001 to stable-9457 fail to render the whole file on unknown words.",
        "Write 1 or 0 (e.g. LDAP_START_TLS=0), or remove the key.",
    ),
    (
        LINT_FILTER_TOKEN,
        "LDAP_FILTER token problem",
        "LDAP_FILTER has no %u or %U, so the login never reaches the search, or it uses %d, which is always empty for "
        "prosody logins.",
        "Put %u where the login goes, e.g. LDAP_FILTER=(uid=%u); use %r (the XMPP domain) instead of %d.",
    ),
    (
        LINT_AUTH_METHOD,
        "unknown LDAP_AUTH_METHOD",
        "saslauthd knows only bind, fastbind and custom as ldap_auth_method.",
        "Use LDAP_AUTH_METHOD=bind (the default), or remove the key.",
    ),
    (
        LINT_LINE_BREAK,
        "value contains a line break",
        "saslauthd.conf is line based: the value is cut at the break and the rest becomes an invalid line that fails "
        "the whole configuration.",
        "Remove the line break from the value.",
    ),
    (
        LINT_LEADING_SPACE,
        "value starts with whitespace",
        "saslauthd skips the whitespace after the ':' in saslauthd.conf, so the value loses it; for LDAP_BINDPW the "
        "service bind then fails.",
        "Remove the leading whitespace (and change the account's password if it really starts with a space).",
    ),
    (
        LINT_TRAILING_SPACE,
        "value ends with whitespace",
        "Whitespace at the end of a quoted value is kept by saslauthd as part of the value.",
        "Remove it unless it really belongs to the value.",
    ),
    (
        LINT_DUPLICATE_KEY,
        "key defined twice",
        "The key is defined more than once in .env; Compose silently uses the last definition.",
        "Keep one definition.",
    ),
    (
        LINT_SHELL_OVERRIDE,
        "shell variable overrides .env",
        "The key is also set in the shell with another value; `docker compose` run from that shell passes the "
        "shell's value, not the file's.",
        "Run `unset KEY` in the shell before `docker compose up -d`.",
    ),
)

_CL: tuple[_Row, ...] = (
    (
        CL_FILTER,
        "invalid search filter",
        "LDAP_FILTER is not a valid filter (unbalanced parentheses, unescaped * ( ) \\, quotes from .env): the "
        "client refuses to send it ('Bad search filter') and saslauthd answers NO for everyone.",
        "Fix LDAP_FILTER's syntax, e.g. (&(objectClass=person)(uid=%u)), without surrounding quotes; then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        CL_DN_SYNTAX,
        "DN in the settings is not a valid DN",
        "LDAP_BINDDN or LDAP_BASE does not parse as a DN (RFC 4514): a bare name, a part without '=', or an "
        "unescaped special character. The client refuses it before anything is sent.",
        'Write a full DN such as cn=jitsi,ou=services,dc=example,dc=org and escape , + " \\ < > ; inside values with '
        "a backslash (AD also accepts user@domain as LDAP_BINDDN).",
    ),
    (
        CL_SASLPREP,
        "password cannot be prepared (SASLprep)",
        "The password contains characters that SASLprep (RFC 4013) prohibits, such as control characters; the usual "
        "case is a trailing CR from --password-stdin fed a Windows line end. The client refuses it before binding.",
        "Remove the control characters; feed --password-stdin without a line end: `read -rs PW` (it asks without "
        "echoing; nothing lands in the shell history), then "
        "`printf '%s' \"$PW\" | ldapcheck diagnose --user LOGIN --password-stdin`.",
    ),
)

_ENV: tuple[_Row, ...] = (
    (
        ENV_SPLIT,
        "auth settings differ between containers",
        "ENABLE_AUTH, ENABLE_GUESTS, AUTH_TYPE or the XMPP_* domains differ between prosody, jicofo and web (custom "
        "compose, Kubernetes): e.g. web offers a guest domain prosody does not serve, so guests loop on the "
        "password prompt, or jicofo lets everyone in.",
        "Give prosody, jicofo and web the same auth and XMPP_* variables, then `docker compose up -d`.",
    ),
)

_XMPP: tuple[_Row, ...] = (
    (
        XMPP_DOMAIN_CUSTOM,
        "XMPP domains are not under XMPP_DOMAIN",
        "XMPP_DOMAIN was changed (e.g. to the public host name) but the MUC, auth, guest or focus domains were not, so "
        "they are no longer its subdomains; joins fail with 'not-allowed: Communication with remote domains is not "
        "enabled'.",
        "Keep XMPP_DOMAIN=meet.jitsi (the public name belongs in PUBLIC_URL), or change every XMPP_*_DOMAIN with "
        "it; then `docker compose up -d`.",
    ),
    (
        XMPP_SASL,
        "prosody refused the SASL login",
        "prosody answered the login with a SASL <failure>, whose condition says why: not-authorized (wrong "
        "credentials or unknown user), account-disabled, not-allowed (token hosts: the text is the token's fault) "
        "or undefined-condition 'generic failure' (LDAP: saslauthd unreachable).",
        "Read the condition and text in the step's detail; the matching INT-, JWT- or SA- step names the cause.",
    ),
    (
        XMPP_NOMECH,
        "host does not offer the SASL mechanism",
        "The host's stream features lack the mechanism the login needs (PLAIN or SCRAM for passwords, ANONYMOUS for "
        "guests and tokens): the VirtualHost runs another auth module than expected, or in LDAP mode Cyrus SASL has "
        "no mechanism ('No available SASL mechanisms').",
        "Check ENABLE_AUTH, AUTH_TYPE and ENABLE_GUESTS, and that prosody was recreated after .env changed "
        "(`docker compose up -d --force-recreate prosody`).",
    ),
)

_WEB: tuple[_Row, ...] = (
    (
        WEB_BOSH,
        "BOSH /http-bind does not reach prosody",
        "The web container's /http-bind does not reach prosody's BOSH endpoint (HTTP error, wrong upstream, or "
        "'improper-addressing' for a host prosody does not serve), so the browser cannot connect.",
        "Check XMPP_BOSH_URL_BASE (default http://xmpp.meet.jitsi:5280) and that web and prosody share a network; "
        "a GET of <PUBLIC_URL>/http-bind should return prosody's BOSH page.",
    ),
    (
        WEB_WS,
        "/xmpp-websocket does not reach prosody",
        "The WebSocket upgrade at /xmpp-websocket fails (a proxy drops the Upgrade headers, the XMPP websocket is "
        "disabled, or prosody is unreachable), so clients configured for WebSocket cannot connect.",
        "Keep ENABLE_XMPP_WEBSOCKET=1 (the default) and make any reverse proxy in front of web pass the Upgrade and "
        "Connection headers for /xmpp-websocket.",
    ),
)

_JICOFO: tuple[_Row, ...] = (
    (
        JICOFO_AUTH_OFF,
        "jicofo does not require authentication",
        "prosody asks for logins, but jicofo's authentication is disabled: any guest can create a room and nobody "
        "waits for a host.",
        "Set ENABLE_AUTH=1 (or JICOFO_ENABLE_AUTH=1) for jicofo, then `docker compose up -d --force-recreate jicofo`.",
    ),
    (
        JICOFO_LOGINURL,
        "user's domain is not jicofo's login-url",
        "jicofo counts a user as authenticated only if the JID's domain equals its login-url (XMPP_DOMAIN); users "
        "logged in on another domain get 'not authorized user domain' and keep waiting for the host.",
        "Let users log in on XMPP_DOMAIN and keep the XMPP_* domains the same for prosody, jicofo and web; then "
        "`docker compose up -d`.",
    ),
    (
        JICOFO_AUTOLOGIN,
        "logins persist in the browser (auto-login)",
        "With ENABLE_AUTO_LOGIN=1 (the default) the browser keeps jicofo's session for JICOFO_AUTH_LIFETIME (24 "
        "hours): it is not asked again, and on a shared machine the next person inherits the login. Informational.",
        "Set ENABLE_AUTO_LOGIN=0 or a shorter JICOFO_AUTH_LIFETIME (e.g. '1 hour'), then "
        "`docker compose up -d --force-recreate jicofo`.",
    ),
)

_INT: tuple[_Row, ...] = (
    (
        INT_NOUSER,
        "no such internal account",
        "prosody has no account for this user on XMPP_DOMAIN (no accounts/<user>.dat in its data_path), so it "
        "answers not-authorized to any password.",
        "Create it; the command prompts for the password: `docker compose exec prosody prosodyctl --config "
        "/run/prosody/config/prosody.cfg.lua register USER <XMPP_DOMAIN>`.",
    ),
    (
        INT_BADPASS,
        "wrong password (internal account)",
        "The account exists on XMPP_DOMAIN, but the password does not match its stored SCRAM hash; prosody answers "
        "not-authorized.",
        "Type the right password, or set a new one (it prompts): `docker compose exec prosody prosodyctl --config "
        "/run/prosody/config/prosody.cfg.lua passwd USER@<XMPP_DOMAIN>`.",
    ),
    (
        INT_DISABLED,
        "internal account disabled",
        "The account is disabled (prosody 13: `disabled = true`, set by user:disable), so prosody answers "
        "account-disabled even to the right password.",
        "Enable it: `docker compose exec prosody prosodyctl --config /run/prosody/config/prosody.cfg.lua shell "
        "user enable USER@<XMPP_DOMAIN>`.",
    ),
    (
        INT_DOMAIN,
        "account on the wrong host",
        "The account exists, but on another host than XMPP_DOMAIN (e.g. auth.meet.jitsi, which is for service "
        "accounts, or the public host name); logins on XMPP_DOMAIN do not see it.",
        "Register the user on XMPP_DOMAIN (meet.jitsi by default) and remove the stray account with "
        "`prosodyctl --config /run/prosody/config/prosody.cfg.lua unregister USER <host>`.",
    ),
    (
        INT_CFGPATH,
        "prosodyctl used a stale config path",
        "From stable-11146 the live config is /run/prosody/config/prosody.cfg.lua. The old `--config "
        "/config/prosody.cfg.lua` fails, or uses a stale file whose data_path /config/data the server never reads, "
        "so the new account is invisible.",
        "Use `prosodyctl --config /run/prosody/config/prosody.cfg.lua ...`, and register again any account that "
        "went to /config/data.",
    ),
    (
        INT_JID_TYPED,
        "user typed a full JID",
        "A login containing '@' is used as the whole JID, so alice@company.example logs in on another domain and "
        "fails; only a bare user name is combined with XMPP_DOMAIN.",
        "Type the bare user name (alice) in the login dialog.",
    ),
    (
        INT_MODE_STILL_TOKEN,
        "main host still uses token auth",
        'After switching from JWT to internal, the main VirtualHost still has authentication = "token", which '
        "cannot create users: `register` prints 'Error: Creating user failed'.",
        "Set AUTH_TYPE=internal and ENABLE_AUTH=1, run `docker compose up -d --force-recreate prosody`, then "
        "register the user again.",
    ),
)

_GUEST: tuple[_Row, ...] = (
    (
        GUEST_NOHOST,
        "guest domain not served by prosody",
        "web's config.js names a guest domain (anonymousdomain) but prosody has no VirtualHost for it, so guest "
        "connections are refused (improper-addressing): everyone gets a password prompt or 'connection failed'.",
        "Set ENABLE_AUTH=1 and ENABLE_GUESTS=1 for prosody too, with the same XMPP_GUEST_DOMAIN everywhere; then "
        "`docker compose up -d`.",
    ),
    (
        GUEST_OFF_PROMPT,
        "login prompt at page load (guests off)",
        "With ENABLE_AUTH=1 and ENABLE_GUESTS=0 everybody must log in, so the prompt appears at page load; with "
        "guests on it appears only to whoever opens a new room ('I am the host'). By design.",
        "Set ENABLE_GUESTS=1 if only room creators should log in, then `docker compose up -d`.",
    ),
    (
        GUEST_WAITING,
        "guests wait for the host",
        "The room does not exist yet and the guest is not authenticated, so jicofo refuses to create it ('not "
        "authorized user domain') and the guest waits until an authenticated user joins.",
        "A registered user opens the room first (log in with 'I am the host' or ?login=true); if one did, see "
        "JICOFO-LOGINURL.",
    ),
    (
        GUEST_LOGIN_LOOP,
        "host login dialog reopens without a form",
        "After 'I am the host' the dialog closes and reappears without a login form: a web client regression of "
        "unstable builds from October 2022.",
        "Upgrade the web image: `docker compose pull web && docker compose up -d web`.",
    ),
)

_JWT: tuple[_Row, ...] = (
    (
        JWT_EMPTY,
        "no token sent",
        "The connection carried no token (no ?jwt= in the meeting URL, or a proxy dropped the query string of "
        "/http-bind or /xmpp-websocket) and JWT_ALLOW_EMPTY is off; prosody answers not-allowed 'token required'.",
        "Open the meeting with ?jwt=<token> and let proxies pass the query string; set JWT_ALLOW_EMPTY=1 only if "
        "tokenless users should get in.",
    ),
    (
        JWT_FORMAT,
        "token is malformed",
        "The token is not three base64url parts with a JSON header and body: prosody answers 'Invalid token', "
        "'Invalid header', 'Invalid body' or 'bad token format' (older versions raised a Lua error and left the user "
        "in an empty room).",
        "Pass the compact token exactly as the signer made it (header.payload.signature, no quotes, spaces or line "
        "breaks).",
    ),
    (
        JWT_SIG,
        "signature does not verify",
        "The token's signature does not match prosody's key ('Invalid signature'): JWT_APP_SECRET differs from the "
        "signer's secret, or the RS public key is not the signer's.",
        "Make JWT_APP_SECRET equal to the signer's secret (single-quoted in .env), then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_ALG,
        "token algorithm is not the configured one",
        "The header's alg must equal prosody's signature_algorithm exactly: HS256 with a secret, RS256 with a key "
        "server, unless JWT_SIGN_TYPE says otherwise. prosody answers 'Invalid or incorrect alg'; HS256/384/512 and "
        "RS256/384/512 are the only ones.",
        "Sign with the configured algorithm, or set JWT_SIGN_TYPE to the signer's and run "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_TYP,
        "token header lacks typ JWT",
        'prosody requires "typ": "JWT" in the token header and answers \'Invalid typ\' otherwise.',
        'Have the signer put "typ": "JWT" in the header.',
    ),
    (
        JWT_ISS,
        "issuer missing or not accepted",
        "The iss claim is missing or not accepted (\"invalid 'iss' claim\"): by default it must equal JWT_APP_ID, and "
        "JWT_ACCEPTED_ISSUERS replaces that default.",
        "Set iss to JWT_APP_ID, or list it in JWT_ACCEPTED_ISSUERS; then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_AUD,
        "audience missing or not accepted",
        "prosody requires an aud claim even when every audience is accepted (the default '*'); with "
        "JWT_ACCEPTED_AUDIENCES set, aud must be one of them, and an array aud matches only '*'.",
        "Add a single-valued aud to the token, or list it in JWT_ACCEPTED_AUDIENCES and run "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_EXP,
        "token expired",
        "The exp claim is in the past by prosody's clock, which allows no leeway, or is not a number ('exp must be "
        "number'); prosody answers 'Not acceptable by exp'.",
        "Issue a fresh token with a numeric exp in the future; if fresh tokens fail too, see JWT-CLOCK.",
    ),
    (
        JWT_NBF,
        "token not valid yet",
        "The nbf claim is in the future by prosody's clock, which allows no leeway, or is not a number; prosody "
        "answers 'Not acceptable by nbf'.",
        "Issue nbf as a number a little in the past (e.g. now minus 10 s); see JWT-CLOCK for clock drift.",
    ),
    (
        JWT_CLOCK,
        "prosody's clock differs from the signer's",
        "The clock prosody sees (the Docker host's) is off from the token signer's; as exp and nbf are checked "
        "without leeway, fresh tokens fail now and then.",
        "Sync the Docker host's clock with NTP (containers use it); compare `docker exec <prosody> date -u` with the "
        "signer's time.",
    ),
    (
        JWT_ROOMCLAIM,
        "token has no room claim",
        "prosody requires a room claim (asap_require_room_claim, on by default) and answers \"'room' "
        'claim is missing".',
        "Add room to the token: the room name, or * for any room.",
    ),
    (
        JWT_ROOM,
        "token does not allow this room",
        "The login worked but joining was refused ('Room and token mismatched'): the room claim differs from the "
        "room in the URL (compared in lower case), or the tenant prefix is wrong.",
        "Set room to the room name (not the full JID), or * for any room.",
    ),
    (
        JWT_SUB,
        "sub does not match the domain",
        "With domain verification on (JWT_ENABLE_DOMAIN_VERIFICATION=1, or the default outside docker), sub must be "
        "XMPP_DOMAIN (meet.jitsi, not the public host name), the tenant, or *.",
        "Set sub to XMPP_DOMAIN or *, or set JWT_ENABLE_DOMAIN_VERIFICATION=0 and run "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_KID,
        "kid missing or unusable",
        "With JWT_ASAP_KEYSERVER set, the header needs a kid and an RS algorithm: prosody answers \"'kid' claim is "
        'missing" or "\'kid\' claim only support with RS family".',
        "Put the key id in the header's kid and sign with RS256 (or the configured RS algorithm).",
    ),
    (
        JWT_KEYSERVER,
        "public key not fetched from the key server",
        "prosody fetches <JWT_ASAP_KEYSERVER>/<sha256 hex of kid>.pem; when that fails it answers 'could not obtain "
        "public key'.",
        "Serve the PEM under that hashed name and make the URL reachable from prosody "
        "(`docker exec <prosody> curl -sf <url>`).",
    ),
    (
        JWT_CONFIG,
        "token module rejects its configuration",
        "At load the token module refused its settings (\"'app_id' must not be empty\", or \"'app_secret' or "
        "'asap_key_server' must be specified\") and stays disabled, so every token login fails.",
        "Set JWT_APP_ID and JWT_APP_SECRET (or JWT_ASAP_KEYSERVER), then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_SECRET_TOBOOL,
        "JWT_APP_SECRET renders as nothing",
        "The template passes JWT_APP_SECRET through toBool to decide whether to write it: a secret such as false, f "
        "or 0 is not written at all, and the token module has no secret (JWT-CONFIG).",
        "Choose a secret that is not a boolean word, give it to the signer as well, then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_MODULE,
        "token module cannot load",
        "prosody fails to load the token modules (\"module 'basexx' not found\", or cjson.safe, luajwtjitsi, inspect), "
        "so token authentication is not active at all.",
        "docker: use a current jitsi/prosody image (`docker compose pull prosody && docker compose up -d prosody`); "
        "Debian: install the missing Lua library (HOST-LUA-LIB).",
    ),
    (
        JWT_GUESTS_MIX,
        "guests combined with tokens",
        "With ENABLE_GUESTS=1 and JWT, users without a token join as guests and wait for a token holder (or see a "
        "password dialog): that is how guests work with tokens. Informational.",
        "Keep guests on if tokenless users should wait for a token holder; for an optional token use "
        "JWT_ALLOW_EMPTY=1 with ENABLE_GUESTS=0, then `docker compose up -d`.",
    ),
    (
        JWT_ALL_MODERATOR,
        "every token user is moderator",
        "No core module reads moderator or affiliation from the token; jicofo's authentication (on for JWT in "
        "docker) makes every authenticated user an owner.",
        "Set JICOFO_ENABLE_AUTH=0 and add token_affiliation (or token_moderation) through XMPP_MUC_MODULES, then "
        "`docker compose up -d`.",
    ),
    (
        JWT_EMPTY_CREATES,
        "tokenless users can create rooms",
        "With JWT_ALLOW_EMPTY=1, sessions without a token sit on XMPP_DOMAIN, so jicofo treats them as authenticated "
        "and lets them create rooms.",
        "If creating a room must need a token, use ENABLE_GUESTS=1 with JWT_ALLOW_EMPTY=0, then "
        "`docker compose up -d`.",
    ),
    (
        JWT_ASAP_HEADER,
        "token header unreadable before the key lookup",
        "With JWT_ASAP_KEYSERVER set, prosody decodes the text before the first '.' to find the kid: no '.' gives "
        "'Invalid token', a header that is not base64url JSON gives 'bad token format' (or a Lua error for a "
        "'Bearer ' prefix or spaces).",
        "Send the compact token itself (header.payload.signature) with no 'Bearer ' prefix, quotes or spaces.",
    ),
    (
        JWT_KID_ALG,
        "key-server token without an RS algorithm",
        "With JWT_ASAP_KEYSERVER set, the header's alg must be RS256/384/512: prosody answers \"'alg' claim is "
        'missing" or "\'kid\' claim only support with RS family", also for HS tokens when JWT_APP_SECRET is set too.',
        "Sign RS256 (or the configured RS algorithm) with the kid's private key, or unset JWT_ASAP_KEYSERVER to use "
        "the app secret.",
    ),
    (
        JWT_KEY,
        "no key to verify the signature",
        "prosody found neither an app secret nor a key-server key ('signature verification key is missing'); with "
        "the settings docker renders this follows JWT-CONFIG.",
        "Set JWT_APP_SECRET (HS tokens) or JWT_ASAP_KEYSERVER (RS tokens), then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_SIGNTYPE,
        "configured algorithm not supported",
        "JWT_SIGN_TYPE names an algorithm the Lua library does not have (only HS256/384/512 and RS256/384/512): "
        "prosody answers 'Algorithm not supported' for every token.",
        "Set JWT_SIGN_TYPE to HS256, HS384, HS512, RS256, RS384 or RS512, or unset it; then "
        "`docker compose up -d --force-recreate prosody`.",
    ),
    (
        JWT_NUMERIC,
        "exp or nbf is not a number",
        "prosody requires exp and nbf, when present, to be JSON numbers and answers 'exp must be number' or 'nbf "
        'must be number\' (a quoted "1767225600" or null fails).',
        "Write exp and nbf as JSON numbers of seconds since the epoch, not as strings.",
    ),
    (
        JWT_CONTEXT,
        "token context is not an object",
        "The token verified, but its context claim is a number, boolean or null: prosody raises a Lua error while "
        "storing context.user/group/features on the session and the login fails.",
        'Make context a JSON object such as {"user": {"id": "...", "name": "..."}}, or leave it out.',
    ),
    (
        JWT_JOIN,
        "room address refused at join",
        "At the MUC join prosody refuses an invalid room address, a room that is not on the configured MUC domain, "
        "or a tokenless user in a room that requires authentication.",
        "Join <room>@<XMPP_MUC_DOMAIN>; keep XMPP_MUC_DOMAIN as <label>.<XMPP_DOMAIN>.",
    ),
    (
        JWT_TENANT,
        "token tenant differs from the URL tenant",
        "The token's context.tenant (lower-cased) differs from the tenant in the meeting URL; prosody refuses the "
        "join only for rooms that set allowUnauthenticatedAccess to false.",
        "Set context.tenant to the tenant in the URL path, or drop it from the token.",
    ),
)

_HOST: tuple[_Row, ...] = (
    (
        HOST_SASL_GROUP,
        "prosody is not in the sasl group",
        "Debian keeps /var/run/saslauthd as root:sasl 0710; without the sasl group the prosody user cannot reach "
        "saslauthd's socket and every login fails with 'generic failure'.",
        "Run `adduser prosody sasl`, then `systemctl restart prosody`.",
    ),
    (
        HOST_SASLAUTHD_OFF,
        "saslauthd is disabled in /etc/default",
        "/etc/default/saslauthd says START=no, so the init script does not start saslauthd and prosody cannot reach "
        "it.",
        "Set START=yes in /etc/default/saslauthd, then `systemctl enable --now saslauthd`.",
    ),
    (
        HOST_MECH,
        "saslauthd does not use ldap",
        "MECHANISMS in /etc/default/saslauthd is not ldap (Debian's default is pam), so saslauthd never reads "
        "/etc/saslauthd.conf.",
        'Set MECHANISMS="ldap" in /etc/default/saslauthd, then `systemctl restart saslauthd`.',
    ),
    (
        HOST_CONF_UNLINKED,
        "VirtualHost config not enabled",
        "The host's file is in /etc/prosody/conf.avail but not linked into /etc/prosody/conf.d, so prosody does not "
        "load it and the host keeps its old authentication.",
        "Run `ln -s /etc/prosody/conf.avail/<host>.cfg.lua /etc/prosody/conf.d/`, then `systemctl restart prosody`.",
    ),
    (
        HOST_LUA_LIB,
        "Lua library missing for prosody's Lua",
        "A library the token module needs (basexx, cjson, ...) is not installed for the Lua version prosody runs "
        "(5.4 for prosody 0.12 and 13), e.g. only for another version through luarocks.",
        "Install the Debian packages (`apt install lua-basexx lua-cjson`), remove rock-installed copies of "
        "luajwtjitsi, then `systemctl restart prosody`.",
    ),
    (
        HOST_SERVICE,
        "prosody or saslauthd service not running",
        "On a package install the prosody or saslauthd service is stopped or failed: nothing connects (prosody) or "
        "every login fails (saslauthd).",
        "Read `systemctl status prosody saslauthd` and `journalctl -u saslauthd`, fix the error, then "
        "`systemctl enable --now` the service.",
    ),
    (
        HOST_NO_PROSODY,
        "no Debian-package prosody on this host",
        "--deployment host (or no prosody container) but this machine has no /etc/prosody/prosody.cfg.lua beside "
        "conf.d or conf.avail: ldapcheck runs somewhere else than the Jitsi server, or without the rights to read it.",
        "Run ldapcheck on the Jitsi server itself, as root (`sudo ldapcheck diagnose`), or pass --deployment docker "
        "for docker-jitsi-meet.",
    ),
    (
        HOST_NO_CYRUS,
        "prosody has no mod_auth_cyrus",
        'The main VirtualHost says authentication = "cyrus", but no mod_auth_cyrus.lua is in prosody\'s module '
        "directories (Debian's prosody ships it; prosody.im's 0.12+ packages and source builds may not), so prosody "
        "cannot load the host's authentication and every login fails.",
        "Install it from prosody-modules (`mod_auth_cyrus` into /usr/local/lib/prosody/modules, named in "
        "plugin_paths) or use Debian's prosody package, then `systemctl restart prosody`.",
    ),
)

_LDAPCHECK: tuple[_Row, ...] = (
    (
        LDAPCHECK_INTERNAL,
        "bug in ldapcheck",
        "ldapcheck hit an unexpected error (exit code 3); this says nothing about your setup.",
        "Rerun with --debug and report the output.",
    ),
)

_BY_FAMILY: tuple[tuple[str, tuple[_Row, ...]], ...] = (
    ("NET", _NET),
    ("TLS", _TLS),
    ("RC", _RC),
    ("AD", _AD),
    ("OL", _OL),
    ("SA", _SA),
    ("JM", _JM),
    ("DOCKER", _DOCKER),
    ("DIR", _DIR),
    ("LOGIN", _LOGIN),
    ("SEC", _SEC),
    ("LINT", _LINT),
    ("CL", _CL),
    ("ENV", _ENV),
    ("XMPP", _XMPP),
    ("WEB", _WEB),
    ("JICOFO", _JICOFO),
    ("INT", _INT),
    ("GUEST", _GUEST),
    ("JWT", _JWT),
    ("HOST", _HOST),
    ("LDAPCHECK", _LDAPCHECK),
)

ENTRIES: dict[str, Entry] = {
    row[0]: Entry(row[0], family, row[1], row[2], row[3]) for family, rows in _BY_FAMILY for row in rows
}

# Ids the research notes proposed under another name; `lookup` answers them with the entry they became.
ALIASES: dict[str, str] = {
    "JWT-NOTOKEN": JWT_EMPTY,
    "JWT-BADSTRING": JWT_FORMAT,
    "JWT-CONFIG-NIL": JWT_CONFIG,
    "JWT-LUA-DEPS": JWT_MODULE,
    "ENV-NOT-RECREATED": JM_RECREATE,
    "ENV-CACHED-CONFIG": JM_STALE_CONFIG,
    "AUTOLOGIN-STICKY": JICOFO_AUTOLOGIN,
}

# ---------------------------------------------------------------------------------------------------------------
# Open-ended ids: LDAP result codes.

# Result codes sent on the wire: RFC 4511 Appendix A, plus 118-121 (RFC 3909), 122 (RFC 4528), 123 (RFC 4370).
# The C API's client-side codes (81-97, negative in OpenLDAP) are not results: they map to NET-, TLS- and CL- ids.
# code: (RFC name, title, what it means)
_RESULT_CODES: dict[int, tuple[str, str, str]] = {
    0: ("success", "success", "The operation succeeded."),
    1: (
        "operationsError",
        "operations error",
        "The server refused the operation in this state; AD sends it for a search before a successful bind.",
    ),
    2: ("protocolError", "protocol error", "The server did not understand the request."),
    3: ("timeLimitExceeded", "time limit exceeded", "The operation ran longer than the time limit."),
    4: ("sizeLimitExceeded", "size limit exceeded", "The search matched more entries than the size limit."),
    5: ("compareFalse", "compare false", "A compare operation found no match."),
    6: ("compareTrue", "compare true", "A compare operation found a match."),
    7: (
        "authMethodNotSupported",
        "authentication method not supported",
        "The server does not accept this bind method on this connection.",
    ),
    8: (
        "strongerAuthRequired",
        "stronger authentication required",
        "The server requires a protected connection or a stronger bind.",
    ),
    10: ("referral", "referral", "The server does not hold the entry and points to another server."),
    11: (
        "adminLimitExceeded",
        "administrative limit exceeded",
        "A server administrative limit was hit, e.g. too many entries examined.",
    ),
    12: (
        "unavailableCriticalExtension",
        "unavailable critical extension",
        "The server does not support a control the request marked critical.",
    ),
    13: ("confidentialityRequired", "confidentiality required", "The server requires TLS for this operation."),
    14: ("saslBindInProgress", "SASL bind in progress", "A multi-step SASL bind expects another round."),
    16: ("noSuchAttribute", "no such attribute", "The entry does not have the named attribute."),
    17: ("undefinedAttributeType", "undefined attribute type", "The server's schema does not know the attribute."),
    18: (
        "inappropriateMatching",
        "inappropriate matching",
        "A filter uses a matching rule the attribute does not support.",
    ),
    19: ("constraintViolation", "constraint violation", "A value breaks a constraint, such as a password policy."),
    20: ("attributeOrValueExists", "attribute or value exists", "The value to add is already present."),
    21: ("invalidAttributeSyntax", "invalid attribute syntax", "A value does not fit the attribute's syntax."),
    32: ("noSuchObject", "no such object", "The named entry does not exist."),
    33: ("aliasProblem", "alias problem", "An alias points to an entry that does not exist."),
    34: ("invalidDNSyntax", "invalid DN syntax", "A DN in the request is not a valid DN."),
    36: ("aliasDereferencingProblem", "alias dereferencing problem", "An alias could not be dereferenced."),
    48: (
        "inappropriateAuthentication",
        "inappropriate authentication",
        "The bind method is not allowed for this identity, e.g. anonymous binds are forbidden.",
    ),
    49: ("invalidCredentials", "invalid credentials", "The DN or the password is wrong."),
    50: (
        "insufficientAccessRights",
        "insufficient access rights",
        "The bound identity may not perform this operation.",
    ),
    51: ("busy", "server busy", "The server is too busy to perform the operation now."),
    52: (
        "unavailable",
        "server unavailable",
        "The server is shutting down or not serving this part of the directory yet.",
    ),
    53: ("unwillingToPerform", "unwilling to perform", "The server refuses the operation by policy."),
    54: ("loopDetect", "loop detected", "The server detected a loop while following aliases or referrals."),
    64: ("namingViolation", "naming violation", "The entry's name breaks the directory's naming rules."),
    65: ("objectClassViolation", "object class violation", "The entry would break its object classes' rules."),
    66: ("notAllowedOnNonLeaf", "not allowed on non-leaf", "The operation needs an entry without children."),
    67: ("notAllowedOnRDN", "not allowed on RDN", "The change would remove a value of the entry's RDN."),
    68: ("entryAlreadyExists", "entry already exists", "An entry with this name already exists."),
    69: (
        "objectClassModsProhibited",
        "object class change prohibited",
        "The entry's structural object class cannot be changed.",
    ),
    71: ("affectsMultipleDSAs", "affects multiple servers", "The operation would span several servers."),
    80: ("other", "other error", "A server-specific error; the diagnostic message says more."),
    118: ("canceled", "operation canceled", "The operation was canceled at the client's request."),
    119: ("noSuchOperation", "no such operation", "The server knows no operation to cancel with that id."),
    120: ("tooLate", "too late to cancel", "The operation had gone too far to be canceled."),
    121: ("cannotCancel", "cannot cancel", "The operation cannot be canceled."),
    122: ("assertionFailed", "assertion failed", "The assertion control's filter did not match the entry."),
    123: ("authorizationDenied", "authorization denied", "The requested proxied authorization identity was refused."),
}

_NOT_ERRORS = frozenset({0, 5, 6, 14})
_HEX_DIGITS = frozenset("0123456789ABCDEF")


def result_name(code: int) -> str:
    """The RFC name of an LDAP result code, e.g. `invalidCredentials` for 49, or `result <code>` if unregistered."""
    known = _RESULT_CODES.get(code)
    return known[0] if known is not None else f"result {code}"


def _result_entry(code: int) -> Entry | None:
    static = ENTRIES.get(f"RC-{code}")
    if static is not None:
        return static
    known = _RESULT_CODES.get(code)
    if known is None:
        return None
    name, title, meaning = known
    fix = (
        "Nothing to fix: this result is not an error."
        if code in _NOT_ERRORS
        else "Read the diagnostic message shown with the step and the directory server's log for this operation."
    )
    return Entry(f"RC-{code}", "RC", title, f"{name} ({code}): {meaning}", fix)


def lookup(failure_id: str) -> Entry | None:
    """The entry for an id, or None if the id is unknown.

    Case-insensitive. Answers the static ids, the aliases, `RC-<n>` for every registered LDAP result code and
    `AD-<hex>` for the well-known AD sub-codes (`AD-52e` and `AD-052E` both give `AD-52E`).
    """
    key = failure_id.strip().upper()
    entry = ENTRIES.get(key)
    if entry is not None:
        return entry
    alias = ALIASES.get(key)
    if alias is not None:
        return ENTRIES[alias]
    family, _, rest = key.partition("-")
    if family == "RC" and rest.isascii() and rest.isdigit():
        return _result_entry(int(rest))
    if family == "AD" and rest and set(rest) <= _HEX_DIGITS:
        return ENTRIES.get(f"AD-{int(rest, 16):X}")
    return None


def family_of(failure_id: str) -> str:
    """The family of an id (`LDAP-SERVER-DOWN` is `NET`).

    For an id the catalogue does not know: the part before the first '-' if it names a family, else "".
    """
    entry = lookup(failure_id)
    if entry is not None:
        return entry.family
    prefix = failure_id.strip().upper().partition("-")[0]
    return prefix if prefix in FAMILIES else ""


def _natural(failure_id: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders numbers as numbers: RC-2 before RC-10, and AD sub-codes as hex (AD-525, AD-52E, AD-530)."""
    hexadecimal = failure_id.startswith("AD-")
    key: list[tuple[int, int, str]] = []
    for part in failure_id.split("-"):
        if part.isdigit() or (hexadecimal and set(part) <= _HEX_DIGITS):
            key.append((0, int(part, 16 if hexadecimal else 10), ""))
        else:
            key.append((1, 0, part))
    return tuple(key)


def all_ids() -> list[str]:
    """The static ids, grouped by family in `FAMILIES` order (the login chain), each group in natural order."""
    order = {family: i for i, family in enumerate(FAMILIES)}
    return sorted(ENTRIES, key=lambda i: (order[ENTRIES[i].family], _natural(i)))
