"""Doctor-style text: one line a step, details for problems (and for everything with -v)."""

from __future__ import annotations

from ldapcheck.core.model import Report, Status, StepResult
from ldapcheck.core.secrets import MASK

_MARK = {Status.PASS: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-"}
_MAX_ALIGNED_TITLE = 40
_COLOR = {Status.PASS: "32", Status.WARN: "33", Status.FAIL: "31", Status.SKIP: "2"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _detail_lines(step: StepResult, color: bool, verbose: bool) -> list[str]:
    lines: list[str] = []
    if step.failure_id and step.status is not Status.PASS:
        lines.append(f"    failure: {step.failure_id}")
    if verbose or step.status in (Status.FAIL, Status.WARN):
        for key, value in step.detail.items():
            lines.append(_paint(f"    {key}: {_one_line(value)}", "2", color))
    if step.hint and step.status in (Status.FAIL, Status.WARN):
        lines.append(f"    fix: {step.hint}")
    if step.reproduce and (verbose or step.status is Status.FAIL):
        lines.append(f"    reproduce: {step.reproduce}")
    return lines


def _one_line(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "(none)"
    return str(value).replace("\n", "\\n")


def render(report: Report, *, color: bool = False, verbose: bool = False) -> str:
    """Render the report as terminal text."""
    out: list[str] = []
    if report.verdict is not None:
        v = report.verdict
        out.append(_paint(f"Verdict: {v.cause} [{v.failure_id}]", "1;31", color))
        out.extend(f"  - {fact}" for fact in v.facts)
        if v.hint:
            out.append(f"  fix: {v.hint}")
        out.append("")
    # Align on the usual titles; a rare long one overflows rather than pushing every line to the right.
    width = min(max((len(s.title) for s in report.steps), default=0), _MAX_ALIGNED_TITLE) + 2
    for step in report.steps:
        mark = _paint(_MARK[step.status], _COLOR[step.status], color)
        timing = f"{step.duration_ms:>7.0f} ms" if step.status is not Status.SKIP else " " * 10
        title = step.title.ljust(width, ".") if len(step.title) < width else step.title + " "
        out.append(f"{mark} {title} {step.status.value:<4} {timing}  {step.summary}")
        out.extend(_detail_lines(step, color, verbose))
    counts = {st: sum(1 for s in report.steps if s.status is st) for st in Status}
    out.append("")
    if report.meta.get("masked"):
        out.append(f"{report.meta['masked']} secret value(s) (passwords, tokens, keys) are shown as {MASK}.")
    out.append(
        f"{report.status.value.upper()}: {counts[Status.PASS]} passed, {counts[Status.WARN]} warnings, "
        f"{counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped"
    )
    return "\n".join(out) + "\n"
