"""The `Deployment:` line the text and Markdown reports print (JSON carries `meta.deployment` itself)."""

from __future__ import annotations

from collections.abc import Mapping

from ldapcheck.core.model import Report
from ldapcheck.core.secrets import escape_controls


def deployment_line(report: Report) -> str:
    """`Deployment: <what> (<why>)` when the run inspected a Jitsi deployment (`meta.deployment`), else ""."""
    found = report.meta.get("deployment")
    if not isinstance(found, Mapping) or not found.get("what"):
        return ""
    why = f" ({found['why']})" if found.get("why") else ""
    return escape_controls(f"Deployment: {found['what']}{why}")
