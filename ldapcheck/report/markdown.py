"""Markdown report for forum posts and issues: secrets are always masked by `report.render`."""

from __future__ import annotations

from ldapcheck import __version__
from ldapcheck.core.model import Report, Status
from ldapcheck.core.secrets import MASK
from ldapcheck.report.deployment import deployment_line

_ICON = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.SKIP: "⏭️"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(report: Report) -> str:
    """Render the report as a Markdown document."""
    out = [f"### ldapcheck {report.command}: **{report.status.value}**", ""]
    deployment = deployment_line(report)
    if deployment:
        out += [_cell(deployment), ""]
    if report.verdict is not None:
        v = report.verdict
        out.append(f"**Verdict:** {v.cause}" + (f" (`{v.failure_id}`)" if v.failure_id else ""))
        out.extend(f"- {fact}" for fact in v.facts)
        if v.hint:
            out.append(f"\n**Fix:** {v.hint}")
        out.append("")
    out.append("| | step | result | ms | failure | hint |")
    out.append("|---|---|---|---:|---|---|")
    for s in report.steps:
        out.append(
            f"| {_ICON[s.status]} | {_cell(s.title)} (`{s.id}`) | {_cell(s.summary)} | {s.duration_ms:.0f} "
            f"| {_cell(s.failure_id or '')} | {_cell(s.hint)} |"
        )
    repro = [s for s in report.steps if s.reproduce and s.status is Status.FAIL]
    if repro:
        out += ["", "<details><summary>Reproduce</summary>", "", "```sh"]
        out += [s.reproduce for s in repro]
        out += ["```", "</details>"]
    masked = f" {report.meta['masked']} secret value(s) are shown as {MASK}." if report.meta.get("masked") else ""
    out += ["", f"<sub>ldapcheck {__version__}; passwords are never included.{masked}</sub>"]
    return "\n".join(out) + "\n"
