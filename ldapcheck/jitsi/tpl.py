"""jitsi/tpl semantics that every docker-jitsi-meet template port and every `.env` reader must share.

docker-jitsi-meet renders its config files with Go text/template through jitsi/tpl (v1.5.0): `toBool` strips every
quote, accepts Go's ParseBool words and reads any other non-empty text as TRUE (so `LDAP_USE_TLS=no` means yes).
"""

from __future__ import annotations

TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})
FALSE_WORDS = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def to_bool(value: object) -> bool:
    """tpl v1.5.0 `toBool` for strings (the only type an environment holds); None (unset) is false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).replace('"', "").replace("'", "")
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return len(text) > 0
