"""Render docker-jitsi-meet's configuration files exactly as the prosody image does."""
