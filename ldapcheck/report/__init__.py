"""Renderers for reports: text (doctor style), JSON (stable schema), Markdown (forum posts).

Every renderer's output goes through `render`, which masks the report's secrets last.
"""

from __future__ import annotations

import enum

from ldapcheck.core.model import Report
from ldapcheck.core.secrets import mask_secrets, sanitize_pii


class Format(enum.StrEnum):
    """Output formats a command can print."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def render(report: Report, fmt: Format, *, color: bool = False, verbose: bool = False, sanitize: bool = False) -> str:
    """Render `report` in `fmt`, with secrets masked (and PII too when `sanitize`)."""
    from ldapcheck.report import json_format, markdown, text

    match fmt:
        case Format.TEXT:
            out = text.render(report, color=color, verbose=verbose)
        case Format.JSON:
            out = json_format.render(report)
        case Format.MARKDOWN:
            out = markdown.render(report)
    out = mask_secrets(out, report.secrets)
    # Markdown is for pasting in public: it is always sanitized of secrets; PII only on request.
    return sanitize_pii(out) if sanitize else out
