"""The host kind's command runner: bounded output, a deadline, stdin delivered (secrets travel only there)."""

from __future__ import annotations

import time

from ldapcheck.jitsi.deploy import local


def test_output_is_kept_up_to_the_limit_and_the_rest_is_dropped() -> None:
    # 3 x the limit on stdout: the command still finishes and we keep exactly the limit
    size = local.OUTPUT_LIMIT * 3
    result = local._run(["head", "-c", str(size), "/dev/zero"], stdin=None, timeout=20)
    assert result.exit_code == 0
    assert len(result.stdout) == local.OUTPUT_LIMIT


def test_a_command_that_never_ends_is_killed_at_its_deadline() -> None:
    start = time.monotonic()
    result = local._run(["sleep", "30"], stdin=None, timeout=0.5)
    assert result.exit_code == 124 and "no answer within" in result.stderr
    assert time.monotonic() - start < 5


def test_stdin_reaches_the_command_and_a_command_ignoring_it_does_not_block() -> None:
    assert local._run(["cat"], stdin=b"s3cret-on-stdin", timeout=5).stdout == "s3cret-on-stdin"
    big = b"x" * (1 << 20)  # more than a pipe holds, to a command that never reads it
    start = time.monotonic()
    result = local._run(["true"], stdin=big, timeout=5)
    assert result.exit_code == 0 and time.monotonic() - start < 5


def test_a_missing_program_is_exit_127() -> None:
    result = local._run(["/nonexistent/ldapcheck-no-such-program"], stdin=None, timeout=5)
    assert result.exit_code == 127
