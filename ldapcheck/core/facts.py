"""The keys of `StepResult.facts`: structured evidence that verdict rules read instead of summaries.

Host and container steps use the same key for the same fact, so one rule serves both. Values are plain JSON
types. A mode may add keys of its own (prefixed with its name, e.g. `jwt.rule`); these are the shared ones.
"""

from __future__ import annotations

from typing import Final

# Which link of the login chain a step tests (see LINKS): the verdict names the first broken link.
LINK: Final = "link"
# How a network operation failed: one of NET_KINDS.
NET: Final = "net"
NET_KINDS: Final = ("dns", "refused", "timeout", "unreachable", "proto-mismatch", "tls", "closed")
# Which bind a result is about: "service" (LDAP_BINDDN) or "user" (the login's own DN).
BIND: Final = "bind"
# How many entries the user search matched (saslauthd needs exactly 1).
ENTRIES: Final = "entries"
# The login as typed in Jitsi, and as saslauthd receives it (prosody strips from the first @).
LOGIN_TYPED: Final = "login_typed"
LOGIN_SEEN: Final = "login_seen"
# The filter pattern before expansion (LDAP_FILTER), e.g. "(uid=%u)".
FILTER: Final = "filter"
# The account is locked, disabled or expired (AD userAccountControl, ppolicy): the password is not the cause.
ACCOUNT: Final = "account"
# Which switch keeps a mode from being asked at all: "AUTH_TYPE", "ENABLE_AUTH", ...
GATE: Final = "gate"
# saslauthd answered from its credential cache.
CACHED: Final = "cached"
# `.env` keys whose value in the running container differs from the file.
DIFFERING: Final = "differing"
# "env" on a container step that tested a value only the .env has (a server the container does not use): it
# belongs to the path a recreate would give, not to today's.
PATH: Final = "path"
# The password given was empty (servers treat it as an anonymous bind).
EMPTY_PASSWORD: Final = "empty_password"
# A warning that does not change whether logins work (e.g. a security finding): not a verdict's cause, and
# the text report shows it as one line.
LOGIN_UNAFFECTED: Final = "login_unaffected"

# The links of an LDAP login through Jitsi, in the order saslauthd walks them.
LINKS: Final = (
    "settings",
    "dns",
    "tcp",
    "tls",
    "rootdse",
    "service_bind",
    "base",
    "user_search",
    "account",
    "user_bind",
    "saslauthd",
    "prosody",
)
# Which deployment kind the run inspected ("host": Debian packages on this host; absent: docker-jitsi-meet), on
# the deployment's find step: a verdict's fix names the host's commands (systemctl) instead of docker's.
DEPLOYMENT: Final = "deployment"
