"""Renderers for reports: text (doctor style), JSON (stable schema), Markdown (forum posts).

`render` masks the report's secrets before any renderer sees it: where they stand as values in what a step saw
(summaries, details, reproduce lines, the verdict's facts), never inside ldapcheck's own advice, so that a
password that is an ordinary word ("wrong", "services") is not given away by a mask in a sentence or a DN.
Long secrets are masked once more in the finished text, as a last line of defence.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from ldapcheck.core.model import Report, StepResult
from ldapcheck.core.record import replace
from ldapcheck.core.secrets import count_masked, count_tokens, escape_controls, mask_secrets, mask_tokens, sanitize_pii

# Secrets this long are masked anywhere in the output: no word of ldapcheck's own text is that long.
_LONG_SECRET = 12


class Format(enum.StrEnum):
    """Output formats a command can print."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def _mask(text: str, secrets: frozenset[str]) -> str:
    """A value as it may be shown: secrets and tokens (eyJ...) masked, control characters escaped."""
    return escape_controls(mask_tokens(mask_secrets(text, secrets)))


def _found(text: str, secrets: frozenset[str]) -> int:
    return count_masked(text, secrets) + count_tokens(text)


def _safe(value: object, secrets: frozenset[str]) -> object:
    """A value with secrets masked and control characters escaped (strings inside lists and maps too)."""
    if isinstance(value, str):
        return _mask(value, secrets)
    if isinstance(value, list | tuple):
        return [_safe(v, secrets) for v in value]
    if isinstance(value, Mapping):
        return {escape_controls(str(k)): _safe(v, secrets) for k, v in value.items()}
    return value


def _own(text: str) -> str:
    """ldapcheck's own advice: never masked (see the module docstring), but a login quoted in it is escaped."""
    return escape_controls(text)


def _safe_step(step: StepResult, secrets: frozenset[str]) -> StepResult:
    return replace(
        step,
        title=_own(step.title),
        summary=_mask(step.summary, secrets),
        detail={escape_controls(k): _safe(v, secrets) for k, v in step.detail.items()},
        facts={k: _safe(v, secrets) for k, v in step.facts.items()},
        hint=_own(step.hint),
        reproduce=_mask(step.reproduce, secrets),
    )


def masked(report: Report) -> tuple[Report, int]:
    """The report ready to print: secrets masked where they are values, controls escaped; and how many masked."""
    secrets = report.secrets
    steps = [_safe_step(s, secrets) for s in report.steps]
    found = sum(_found(f"{s.summary}\n{s.detail}\n{s.reproduce}", secrets) for s in report.steps)
    verdict = report.verdict
    if verdict is not None:
        found += sum(_found(f, secrets) for f in verdict.facts)
        verdict = replace(
            verdict,
            cause=_own(verdict.cause),
            hint=_own(verdict.hint),
            facts=[_mask(f, secrets) for f in verdict.facts],
        )
    meta = {k: _safe(v, secrets) for k, v in report.meta.items()}
    return replace(report, steps=steps, verdict=verdict, meta=meta), found


def render(report: Report, fmt: Format, *, color: bool = False, verbose: bool = False, sanitize: bool = False) -> str:
    """Render `report` in `fmt`, with secrets masked (and PII too when `sanitize`)."""
    report, hidden = masked(report)
    if hidden:
        report = replace(report, meta={**report.meta, "masked": hidden})
    match fmt:
        case Format.TEXT:  # only the renderer asked for is imported (json: ~4 ms of a text run's start-up)
            from ldapcheck.report import text

            out = text.render(report, color=color, verbose=verbose)
        case Format.JSON:
            from ldapcheck.report import json_format

            out = json_format.render(report)
        case Format.MARKDOWN:
            from ldapcheck.report import markdown

            out = markdown.render(report)
    out = mask_tokens(mask_secrets(out, {s for s in report.secrets if len(s) >= _LONG_SECRET}))

    # Secrets are masked in every format; user DNs and e-mail addresses only on request (--sanitize).
    return sanitize_pii(out) if sanitize else out
