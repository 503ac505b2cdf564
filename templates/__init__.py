"""Ports of docker-jitsi-meet's templates (Jinja2), shipped in the wheel as the package `ldapcheck.templates`.

The file is here so that editable installs can map this folder as a package too; nothing is imported from it.
"""
