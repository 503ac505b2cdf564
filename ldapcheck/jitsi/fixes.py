"""Commands that fixes tell a docker-jitsi-meet admin to run (one spelling everywhere)."""

from __future__ import annotations

# A restart keeps the container's environment; only a recreate reads the edited .env again.
RECREATE = "docker compose up -d --force-recreate prosody"
