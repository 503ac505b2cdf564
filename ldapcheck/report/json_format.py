"""JSON report: a stable, documented shape (README, "JSON output")."""

from __future__ import annotations

import json

from ldapcheck.core.model import Report

SCHEMA_VERSION = 1


def as_dict(report: Report) -> dict[str, object]:
    """The report as plain data (the JSON schema)."""
    return {
        "schema": SCHEMA_VERSION,
        "command": report.command,
        "status": report.status.value,
        "exit_code": int(report.exit_code()),
        "verdict": None
        if report.verdict is None
        else {
            "cause": report.verdict.cause,
            "failure_id": report.verdict.failure_id,
            "facts": list(report.verdict.facts),
            "hint": report.verdict.hint,
            "recreate": report.verdict.recreate,
            "later": report.verdict.later,
        },
        "steps": [
            {
                "id": s.id,
                "title": s.title,
                "status": s.status.value,
                "duration_ms": s.duration_ms,
                "summary": s.summary,
                "failure_id": s.failure_id,
                "detail": dict(s.detail),
                "hint": s.hint,
                "reproduce": s.reproduce,
                "facts": dict(s.facts),
            }
            for s in report.steps
        ],
        "meta": report.meta,
    }


def render(report: Report) -> str:
    """Serialize the report; unknown detail values are stringified rather than crashing the run."""
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False, default=str) + "\n"
