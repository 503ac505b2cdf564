"""The Jitsi steps every auth mode shares, in one list: web's config.js and the guest host, the env across
containers and jicofo's authentication block, the browser's login (BOSH, WebSocket, c2s, the guest) and what users
will see. The Jitsi path runs them after the mode's own container steps; the LDAP path after its container phase.
"""

from __future__ import annotations

from ldapcheck.core.step import Step
from ldapcheck.jitsi import jicofo, login, web
from ldapcheck.jitsi.deployment import JitsiView


def steps() -> list[Step[JitsiView]]:
    """web, jicofo and env split, then the logins and the users' experience."""
    return [*web.steps(), *jicofo.steps(), *login.steps()]
