"""Doctor-style text: one line a step, details for problems (and for everything with -v).

Everything fits the terminal's width (80 columns when the output is not a terminal): summaries, details and
advice wrap with a hanging indent, reproduce commands wrap between arguments with a shell continuation (`\\`),
so they still paste (a single word longer than a line, such as a long quoted DN, stays whole). A warning that
does not affect logins (`facts["login_unaffected"]`) is one line in a report that judged a login; -v shows it
whole.
"""

from __future__ import annotations

import textwrap

from ldapcheck.core.model import Report, Status, StepResult
from ldapcheck.core.secrets import MASK
from ldapcheck.report.deployment import deployment_line

WIDTH = 80
_MARK = {Status.PASS: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-"}
_MAX_ALIGNED_TITLE = 30
_COLOR = {Status.PASS: "32", Status.WARN: "33", Status.FAIL: "31", Status.SKIP: "2"}
_INDENT = "    "


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _wrap(first: str, text: str, width: int, indent: str = _INDENT) -> list[str]:
    """`first` + `text`, wrapped at `width` with later lines at `indent` (a word longer than a line stays whole)."""
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _shell_words(command: str) -> list[str]:
    """Split a shell command at spaces outside quotes (the command is shown, never run, by ldapcheck)."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in command:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == " ":
            if current:
                words.append("".join(current))
                current = []
            continue
        current.append(ch)
    if current:
        words.append("".join(current))
    return words


def _wrap_command(first: str, command: str, width: int) -> list[str]:
    """A shell command over several lines joined by ` \\`, breaking only between words."""
    lines: list[str] = []
    line = first
    for word in _shell_words(command):
        candidate = f"{line}{word}" if line.endswith((" ", ": ")) or line == first else f"{line} {word}"
        if len(candidate) + 2 > width and line.strip() and line != first:
            lines.append(line + " \\")
            line = _INDENT + "  " + word
        else:
            line = candidate
    lines.append(line)
    return lines


def _shorten(head: str, text: str, width: int) -> str:
    room = max(width - len(head), 10)
    return head + (text if len(text) <= room else text[: room - 1].rstrip() + "…")


def _one_line(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "(none)"
    return str(value).replace("\n", "\\n")


def _condensed(step: StepResult, report: Report, verbose: bool) -> bool:
    """A warning that does not affect logins, in a report that judged one: one line (the rest with -v)."""
    return (
        step.status is Status.WARN
        and bool(step.facts.get("login_unaffected"))
        and not verbose
        and (report.verdict is not None)
    )


def _detail_lines(step: StepResult, color: bool, verbose: bool, width: int) -> list[str]:
    lines: list[str] = []
    if step.failure_id and step.status is not Status.PASS:
        lines.append(f"{_INDENT}failure: {step.failure_id}")
    if verbose or step.status in (Status.FAIL, Status.WARN):
        for key, value in step.detail.items():
            for line in _wrap(f"{_INDENT}{key}: ", _one_line(value), width, _INDENT + "  "):
                lines.append(_paint(line, "2", color))
    if step.hint and step.status in (Status.FAIL, Status.WARN):
        lines.extend(_wrap(f"{_INDENT}fix: ", step.hint, width, _INDENT + "  "))
    if step.reproduce and (verbose or step.status is Status.FAIL):
        lines.extend(_wrap_command(f"{_INDENT}reproduce: ", step.reproduce, width))
    return lines


def _verdict_lines(report: Report, color: bool, width: int) -> list[str]:
    v = report.verdict
    if v is None:
        return []
    # The id leads, so that it stays on the first line however the cause wraps.
    tag = f"Verdict [{v.failure_id}]: " if v.failure_id else "Verdict: "
    code = "1;32" if v.failure_id is None else "1;31"
    out = [_paint(line, code, color) for line in _wrap(tag, v.cause, width, "  ")]
    for fact in v.facts:
        out.extend(_wrap("  - ", fact, width, "    "))
    if v.hint:
        out.extend(_wrap("  fix: ", v.hint, width, "    "))
    out.append("")
    return out


def render(report: Report, *, color: bool = False, verbose: bool = False, width: int = WIDTH) -> str:
    """Render the report as terminal text, `width` columns wide."""
    out = _verdict_lines(report, color, width)
    deployment = deployment_line(report)
    if deployment:
        out += [*_wrap("", deployment, width, "  "), ""]
    # Align on the usual titles; a rare long one overflows rather than pushing every line to the right.
    title_width = min(max((len(s.title) for s in report.steps), default=0), _MAX_ALIGNED_TITLE) + 2
    for step in report.steps:
        mark = _paint(_MARK[step.status], _COLOR[step.status], color)
        timing = f"{step.duration_ms:>5.0f} ms" if step.status is not Status.SKIP else " " * 8
        title = step.title.ljust(title_width, ".") if len(step.title) < title_width else step.title + " "
        head = f"{mark} {title} {step.status.value:<4} {timing}  "
        # The summary wraps under itself when the head leaves room for it, else under the title.
        hang = " " * len(head) if len(head) < width // 2 else _INDENT
        if _condensed(step, report, verbose):
            out.append(_shorten(head, step.summary, width))  # -v shows it whole, with its details
            continue
        out.extend(_wrap(head, step.summary, width, hang))
        out.extend(_detail_lines(step, color, verbose, width))
    counts = {st: sum(1 for s in report.steps if s.status is st) for st in Status}
    out.append("")
    if report.meta.get("masked"):
        out.append(f"{report.meta['masked']} secret value(s) (passwords, tokens, keys) are shown as {MASK}.")
    out.append(
        f"{report.status.value.upper()}: {counts[Status.PASS]} passed, {counts[Status.WARN]} warnings, "
        f"{counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped"
    )
    return "\n".join(out) + "\n"
