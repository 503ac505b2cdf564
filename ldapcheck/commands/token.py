"""`ldapcheck token check` and `token mint`: a token judged as prosody would, and a token the deployment accepts.

The token settings come from the running prosody container's environment when one is found (as docker-jitsi-meet's
prosody template renders them, compared with the `.env`'s), and `exp`/`nbf` are judged at its clock; without a
container (none found, or --no-container), from the `.env` and this host's clock. The container is found and read
by the session `diagnose` uses (`commands.inside.start_container`), its clock by `auth.jwt.clock.read_clock`.
Exit codes: 0 accepted, 1 refused, 2 unusable input.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ldapcheck.core.errors import ConfigError
from ldapcheck.core.model import Report

if TYPE_CHECKING:
    from ldapcheck.auth.jwt.model import TokenConfig
    from ldapcheck.auth.jwt.report import Running
    from ldapcheck.commands.inside import Inside

TTL_MAX = 24 * 3600
DEFAULT_PUBLIC_URL = "https://localhost:8443"  # docker-jitsi-meet's default


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    """What `token check` compares the token with."""

    env_file: Path = Path(".env")
    room: str | None = None
    at: float | None = None  # None: now, by the prosody container's clock (else this host's)


def parse_at(text: str) -> float:
    """--at: epoch seconds, or ISO 8601 (a time without a zone is UTC); ConfigError (exit 2) otherwise."""
    from datetime import UTC, datetime

    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"--at {text!r}: not ISO 8601 (2026-01-31T12:00:00Z) nor epoch seconds") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(number):
        raise ConfigError(f"--at {text!r}: not a finite number of seconds")
    return number


def parse_ttl(text: str) -> int:
    """--ttl: seconds, or a number with s/m/h (90m, 1h); 1 s to 24 h."""
    m = re.fullmatch(r"\s*([0-9]+)\s*([smh]?)\s*", text)
    if m is None:
        raise ConfigError(f"--ttl {text!r}: write seconds or a number with s, m or h (e.g. 3600, 90m, 1h)")
    seconds = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]
    if not 1 <= seconds <= TTL_MAX:
        raise ConfigError(f"--ttl {text!r}: must be between 1 s and {TTL_MAX // 3600} h (a token is a credential)")
    return seconds


def read_env(env_file: Path) -> dict[str, str]:
    """The `.env` as Compose passes it on (EnvFileError, exit 2, when it cannot be read)."""
    from ldapcheck.commands.secrets import env_secrets
    from ldapcheck.jitsi.env.parse import read_env_file

    values = read_env_file(env_file, environ=os.environ).values()
    env_secrets(values)  # remembered, so that --debug output masks them
    return values


def token_config(env: Mapping[str, str], source: Path | str) -> TokenConfig:
    """The settings prosody's token module gets from this environment (ConfigError when it does not use tokens)."""
    from ldapcheck.auth.jwt.model import TokenConfig

    try:
        return TokenConfig.from_env(env)
    except ValueError as exc:  # its message never holds a character of the secret
        raise ConfigError(f"{source}: {exc}") from None


def running(inside: Inside, env: Mapping[str, str], env_file: Path) -> Running:
    """The prosody container `inside` looks for: its environment and its clock, or why there is none."""
    from ldapcheck.auth.jwt.clock import NO_CLOCK, read_clock
    from ldapcheck.auth.jwt.report import Running
    from ldapcheck.core import catalogue as ids
    from ldapcheck.core.step import CheckFailed

    session = inside.session
    session.provide(expected_env=env, env_file=str(env_file), timeout=inside.options.timeout)
    try:
        try:
            session.locate()
            container_env = session.env()
        except CheckFailed as exc:
            quiet = not _asked(inside) and exc.failure_id in (ids.DOCKER_NO_CONTAINER, ids.DOCKER_UNAVAILABLE)
            return Running(missing=exc.message, failure_id=None if quiet else exc.failure_id, hint=exc.hint)
        try:
            clock, note = read_clock(session), NO_CLOCK
        except CheckFailed as exc:
            clock, note = None, exc.message
        return Running(name=session.name, env=container_env, clock=clock, clock_note=note)
    finally:
        session.close()


def _asked(inside: Inside) -> bool:
    """Whether the container was named (--container, --project, --docker-host) rather than discovered."""
    return any((inside.options.container, inside.options.project, inside.options.docker_host))


def _uses_tokens(env: Mapping[str, str]) -> bool:
    try:
        token_config(env, "")
    except ConfigError:
        return False
    return True


def check(token: str, options: CheckOptions, inside: Inside | None = None) -> Report:
    """Judge `token` as prosody would: with the running container's settings and clock when `inside` finds it,
    else with this `.env` and this host's clock; a Report of steps `jwt.<rule>` with a verdict."""
    from ldapcheck.auth.jwt import report as jwt_report
    from ldapcheck.auth.jwt._env import differences, render_options
    from ldapcheck.auth.jwt.verify import verify, verify_room
    from ldapcheck.commands.secrets import env_secrets
    from ldapcheck.core import catalogue as ids

    if not token.strip():
        raise ConfigError("the token is empty")
    env = read_env(options.env_file)
    live = running(inside, env, options.env_file) if inside is not None else jwt_report.Running(missing="")
    if live.env is not None and inside is not None and not _asked(inside) and not _uses_tokens(live.env):
        # Found by discovery only, and it does not use tokens: another deployment's prosody, not this .env's.
        live = jwt_report.Running(
            missing=f"the one found, {live.name}, does not use token authentication",
            failure_id=ids.JM_AUTH_TYPE,
            hint="Pass this deployment's prosody with --container NAME (or --project), or --no-container.",
        )
    secrets = {*env_secrets(env), *env_secrets(live.env), token, *(inside.session.secrets if inside else ())}
    if live.env is None:
        config = token_config(env, options.env_file)
        source = str(options.env_file)
    else:
        config = token_config(live.env, f"the running prosody container {live.name}")
        source = f"the environment of {live.name}"
        try:
            token_config(env, options.env_file)  # a render error of the .env, worded without the secret
        except ConfigError as exc:
            live.env_error = str(exc)
        else:
            live.differences = differences(render_options(env), render_options(live.env))
    host_now = time.time()
    if options.at is not None:
        now, clock = options.at, "--at"
    elif live.clock is not None:
        now, clock = host_now + live.clock.skew, "the prosody container's clock"
    else:
        now, clock = host_now, "this host's clock"
    room_jid = None
    if options.room is not None:
        room_jid = f"{options.room.lower()}@{config.muc_domain}"  # the web app joins rooms in lower case
    at = jwt_report.CheckInput(
        now=now,
        clock=clock,
        env_file=str(options.env_file),
        room=options.room,
        room_jid=room_jid,
        host_now=host_now,
        running=live,
    )
    verification = verify(token, config, now)
    join = verify_room(verification, config, room_jid) if verification.ok and room_jid else None
    results = jwt_report.steps(verification, join, config, at)
    return Report(
        command="token check",
        steps=results,
        verdict=jwt_report.verdict(verification, join, results, at),
        meta={
            "env_file": str(options.env_file),
            "settings from": source,
            "container": live.name,
            "at": jwt_report.when(now),
            "clock": clock,
            "host clock": jwt_report.when(host_now),
            "skew seconds": round(live.clock.skew, 3) if live.clock is not None else None,
            "algorithm": config.algorithm,
            "room": room_jid,
        },
        secrets=frozenset(secrets),
    )


@dataclass(frozen=True)
class Minted:
    """A fresh token and the meeting URL that carries it (both credentials: print them, never log them)."""

    token: str
    url: str
    expires: float


def mint(*, env_file: Path, user: str, room: str, moderator: bool, ttl: int) -> Minted:
    """A token signed with the `.env`'s secret, with the claims this deployment accepts."""
    from urllib.parse import quote

    from ldapcheck.auth.jwt.mint import mint as sign

    if not user.strip():
        raise ConfigError("--user cannot be empty")
    env = read_env(env_file)
    config = token_config(env, env_file)
    now = time.time()
    try:
        token = sign(config, user, room=room, moderator=moderator, ttl=ttl, now=now)
    except ValueError as exc:
        raise ConfigError(f"{env_file}: cannot mint: {exc}") from None
    public = (env.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
    path = "ROOM" if room == "*" else quote(room.lower(), safe="")
    return Minted(token=token, url=f"{public}/{path}?jwt={token}", expires=math.floor(now) + ttl)
