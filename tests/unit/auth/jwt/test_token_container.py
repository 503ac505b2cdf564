"""`token check` with the running prosody container (fakes, no engine): its environment's settings against the
.env's, exp/nbf at its clock with this host's and the skew shown, and today's .env/host clock without one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ldapcheck.commands.inside import ContainerOptions, Inside
from ldapcheck.commands.token import CheckOptions, check, mint
from ldapcheck.core import catalogue as ids
from ldapcheck.core.errors import ConfigError
from ldapcheck.core.model import ExitCode, Status
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container.facts import ContainerFacts
from ldapcheck.report import Format, render
from testing.sessions import not_found, session

SECRET = "jitsi-test-secret-0123456789abcdef"
OTHER_SECRET = "container-secret-fedcba9876543210"
DOTENV = {"ENABLE_AUTH": "1", "AUTH_TYPE": "jwt", "JWT_APP_ID": "myapp", "JWT_APP_SECRET": SECRET}


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in DOTENV.items()), encoding="utf-8")
    return path


def clock(skew: float = 0.0, *, read: bool = True) -> ContainerFacts:
    now = time.time()
    if not read:
        return ContainerFacts(complete=True)
    window = (now - 0.5, now + 0.5) if not skew else (now, now)
    return ContainerFacts(clock=now + skew, host_window=window, complete=True)


def inside(env: dict[str, str], facts: ContainerFacts | None = None) -> Inside:
    return Inside(options=ContainerOptions(), session=session(facts or clock(), env))


def fresh(env_file: Path, ttl: int = 3600) -> str:
    return mint(env_file=env_file, user="alice", room="*", moderator=False, ttl=ttl).token


def test_running_container_same_settings_and_clock(env_file: Path) -> None:
    report = check(fresh(env_file), CheckOptions(env_file=env_file), inside(dict(DOTENV)))
    assert report.exit_code() is ExitCode.OK and report.verdict is not None and report.verdict.failure_id is None
    rendered, clock_step = report.step("jwt.rendered"), report.step("jwt.clock")
    assert rendered is not None and rendered.status is Status.PASS and "jitsi-prosody-1" in rendered.summary
    assert clock_step is not None and clock_step.status is Status.PASS
    assert "in agreement with this host's" in clock_step.summary
    assert "by the prosody container's clock" in clock_step.summary
    assert clock_step.detail["skew seconds"] == 0.0
    assert report.meta["settings from"] == "the environment of jitsi-prosody-1"
    assert report.meta["clock"] == "the prosody container's clock" and report.meta["container"] == "jitsi-prosody-1"


def test_the_containers_settings_judge_and_the_differences_are_named_without_the_secret(env_file: Path) -> None:
    running = {**DOTENV, "JWT_APP_ID": "otherapp", "JWT_APP_SECRET": OTHER_SECRET}
    token = fresh(env_file)
    report = check(token, CheckOptions(env_file=env_file), inside(running))
    assert report.verdict is not None and report.verdict.failure_id == ids.JWT_SIG  # the container's secret
    rendered = report.step("jwt.rendered")
    assert rendered is not None and rendered.status is Status.WARN and rendered.failure_id == ids.JM_RECREATE
    assert rendered.detail["differences"] == [
        "JWT_APP_ID (app_id): .env 'myapp', container 'otherapp'",
        "JWT_APP_SECRET (app_secret) differs (not shown)",
    ]
    for fmt in Format:
        for verbose in (False, True):
            out = render(report, fmt, verbose=verbose)
            assert SECRET not in out and OTHER_SECRET not in out and token.split(".")[2] not in out
            assert "JWT_APP_SECRET (app_secret) differs (not shown)" in out or not verbose


def test_secret_rendered_on_one_side_only(env_file: Path) -> None:
    running = {k: v for k, v in DOTENV.items() if k != "JWT_APP_SECRET"} | {"JWT_ASAP_KEYSERVER": "https://k/x"}
    report = check(fresh(env_file), CheckOptions(env_file=env_file), inside(running))
    rendered = report.step("jwt.rendered")
    assert rendered is not None
    assert "JWT_APP_SECRET (app_secret): rendered only from the .env's value (not shown)" in rendered.summary
    assert "JWT_ASAP_KEYSERVER (asap_key_server): .env (not rendered), container 'https://k/x'" in rendered.summary


def test_exp_judged_at_the_containers_clock_with_the_skew_shown(env_file: Path) -> None:
    token = fresh(env_file, ttl=600)
    ahead = check(token, CheckOptions(env_file=env_file), inside(dict(DOTENV), clock(7200)))
    assert ahead.verdict is not None and ahead.verdict.failure_id == ids.JWT_EXP
    step = ahead.step("jwt.clock")
    assert step is not None and step.status is Status.WARN and step.failure_id == ids.JWT_CLOCK
    assert "7200.0 s ahead of this host's" in step.summary
    assert 7199 < float(step.detail["skew seconds"]) <= 7200  # type: ignore[arg-type]
    assert ahead.meta["skew seconds"] == step.detail["skew seconds"]
    exp = ahead.step("jwt.exp")
    assert exp is not None and "by the prosody container's clock" in str(exp.detail["time"])
    # --at still decides the moment; the clocks are still shown.
    at = check(token, CheckOptions(env_file=env_file, at=time.time()), inside(dict(DOTENV), clock(7200)))
    assert at.exit_code() is ExitCode.OK and at.meta["clock"] == "--at"
    at_step = at.step("jwt.clock")
    assert at_step is not None and "by --at" in at_step.summary and at_step.failure_id == ids.JWT_CLOCK
    # 3 s behind is within what diagnose tolerates, but prosody has no leeway: a token minted now is not yet valid.
    behind = check(token, CheckOptions(env_file=env_file), inside(dict(DOTENV), clock(-3)))
    step = behind.step("jwt.clock")
    assert step is not None and step.status is Status.PASS and "3.0 s behind this host's" in step.summary
    assert behind.verdict is not None and behind.verdict.failure_id == ids.JWT_NBF


def test_clock_not_reported_falls_back_to_this_hosts(env_file: Path) -> None:
    report = check(fresh(env_file), CheckOptions(env_file=env_file), inside(dict(DOTENV), clock(read=False)))
    step = report.step("jwt.clock")
    assert step is not None and step.status is Status.SKIP and "$EPOCHREALTIME" in step.summary
    assert report.meta["clock"] == "this host's clock" and report.meta["settings from"].startswith("the environment")


def test_no_container_found_is_todays_behaviour_said_in_the_report(env_file: Path) -> None:
    missing = CheckFailed(ids.DOCKER_NO_CONTAINER, "no container with label com.docker.compose.service=prosody")
    found_none = Inside(options=ContainerOptions(), session=not_found(missing))
    report = check(fresh(env_file), CheckOptions(env_file=env_file), found_none)
    assert report.exit_code() is ExitCode.OK
    rendered, clock_step = report.step("jwt.rendered"), report.step("jwt.clock")
    assert rendered is not None and rendered.status is Status.SKIP and rendered.failure_id is None
    assert "no prosody container (no container with label" in rendered.summary
    assert clock_step is not None and clock_step.status is Status.SKIP and "this host's clock" in clock_step.summary
    assert report.meta["settings from"] == str(env_file) and report.meta["container"] is None
    # Asked for by name and not found: the same fallback, as a warning with the engine's id.
    named = Inside(options=ContainerOptions(container="prosody-x"), session=not_found(missing))
    step = check(fresh(env_file), CheckOptions(env_file=env_file), named).step("jwt.rendered")
    assert step is not None and step.status is Status.WARN and step.failure_id == ids.DOCKER_NO_CONTAINER
    without = check(fresh(env_file), CheckOptions(env_file=env_file)).step("jwt.rendered")
    assert without is not None and without.status is Status.SKIP and "(--no-container)" in without.summary


def test_env_without_tokens_beside_a_container_with_them(env_file: Path, tmp_path: Path) -> None:
    token = fresh(env_file)
    plain = tmp_path / "plain.env"
    plain.write_text("ENABLE_AUTH=0\n", encoding="utf-8")
    report = check(token, CheckOptions(env_file=plain), inside(dict(DOTENV)))
    assert report.exit_code() is ExitCode.OK
    step = report.step("jwt.rendered")
    assert step is not None and step.status is Status.WARN and "token authentication is not enabled" in step.summary
    # Named with --container and not using tokens: unusable input (exit 2).
    named = Inside(
        options=ContainerOptions(container="jitsi-prosody-1"), session=session(clock(), {"ENABLE_AUTH": "0"})
    )
    with pytest.raises(ConfigError, match="running prosody container jitsi-prosody-1: token authentication"):
        check(token, CheckOptions(env_file=env_file), named)
    # Only discovered: another deployment's prosody; the token is judged with the .env and this host's clock.
    found = check(token, CheckOptions(env_file=env_file), inside({"ENABLE_AUTH": "0"}))
    assert found.exit_code() is ExitCode.OK
    assert found.meta["settings from"] == str(env_file) and found.meta["container"] is None
    step = found.step("jwt.rendered")
    assert step is not None and step.status is Status.WARN and step.failure_id == ids.JM_AUTH_TYPE
    assert "jitsi-prosody-1, does not use token authentication" in step.summary


def test_cli_no_container_excludes_the_container_options(env_file: Path) -> None:
    from tests.unit.auth.jwt.test_token_cli import cli

    done = cli("check", "--env-file", str(env_file), "--no-container", "--container", "x", stdin=fresh(env_file))
    assert done.returncode == 2
    ok = cli("check", "--env-file", str(env_file), "--no-container", "--json", stdin=fresh(env_file))
    assert ok.returncode == 0, ok.stderr
    assert '"clock": "this host\'s clock"' in ok.stdout and "--no-container" in ok.stdout
