"""`ldapcheck token check` / `token mint`: prosody's verdict as a report, exit codes, and no token or secret leaks."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.commands.token import CheckOptions, check, mint, parse_at, parse_ttl
from ldapcheck.core.errors import ConfigError
from ldapcheck.core.model import ExitCode, Status
from ldapcheck.report import Format, render

SECRET = "jitsi-test-secret-0123456789abcdef"
ENV = (
    f"ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=myapp\nJWT_APP_SECRET='{SECRET}'\nPUBLIC_URL=https://meet.example.org\n"
)
NOW = 1767225600.0
# No engine: the CLI's default container lookup finds none (never the machine's own containers) and falls back.
NO_ENGINE = "unix:///nonexistent/ldapcheck-test-docker.sock"
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "DOCKER_HOST": NO_ENGINE}


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text(ENV, encoding="utf-8")
    return path


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "token", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**BASE_ENV, **(env or {})},
        cwd=cwd,
        check=False,
    )


def fresh(env_file: Path, room: str = "*") -> str:
    return mint(env_file=env_file, user="alice", room=room, moderator=False, ttl=3600).token


def test_mint_then_check_accepts(env_file: Path) -> None:
    minted = mint(env_file=env_file, user="alice", room="Room1", moderator=True, ttl=600)
    assert minted.url == f"https://meet.example.org/room1?jwt={minted.token}"
    report = check(minted.token, CheckOptions(env_file=env_file, room="Room1"))
    assert report.exit_code() is ExitCode.OK
    assert report.verdict is not None and report.verdict.failure_id is None
    assert report.verdict.cause == "prosody would accept this token and let it join room1@muc.meet.jitsi"
    assert report.step("jwt.sig") is not None and report.step("jwt.room") is not None
    assert [s.id for s in report.steps][:3] == ["jwt.token", "jwt.config", "jwt.empty"]
    assert all(s.id.startswith("jwt.") for s in report.steps)


def test_steps_follow_prosodys_order_and_name_the_first_failing_rule(env_file: Path) -> None:
    token = fresh(env_file)
    report = check(token, CheckOptions(env_file=env_file, at=NOW + 10 * 365 * 86400))
    assert report.exit_code() is ExitCode.FAILED
    assert report.verdict is not None and report.verdict.failure_id == "JWT-EXP"
    failed = [s for s in report.steps if s.status is Status.FAIL]
    assert [s.id for s in failed] == ["jwt.exp"]
    assert failed[0].summary.startswith("prosody refuses: Not acceptable by exp (")
    assert failed[0].hint and "--at" in str(failed[0].detail["time"])
    after = report.steps[report.steps.index(failed[0]) + 1 :]
    assert {s.status for s in after} == {Status.SKIP}


def test_wrong_secret_and_room_mismatch(env_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.env"
    other.write_text(ENV.replace(SECRET, "another-secret-0123456789abcdefgh"), encoding="utf-8")
    report = check(fresh(other), CheckOptions(env_file=env_file))
    assert report.verdict is not None and report.verdict.failure_id == "JWT-SIG"
    assert "Invalid signature" in report.verdict.cause
    token = fresh(env_file, room="room1")
    join = check(token, CheckOptions(env_file=env_file, room="other"))
    assert join.verdict is not None and join.verdict.failure_id == "JWT-ROOM"
    assert join.exit_code() is ExitCode.FAILED
    skipped = check(token, CheckOptions(env_file=env_file))
    assert skipped.step("jwt.join") is not None and skipped.exit_code() is ExitCode.OK


def test_lua_error_says_the_login_fails_and_what_provokes_it(env_file: Path) -> None:
    report = check("Bearer " + fresh(env_file), CheckOptions(env_file=env_file))
    assert report.verdict is not None and report.verdict.failure_id == "JWT-FORMAT"
    assert "the login fails" in report.verdict.cause and "header segment" in report.verdict.cause
    step = report.step("jwt.format")
    assert step is not None and "luajwtjitsi.lib.lua:76" in step.summary


def test_rs256_key_from_a_key_server(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = "myapp/key1"
    served = {f"/asap/{hashlib.sha256(kid.encode()).hexdigest()}.pem": pem}

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"Not Found")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    def seg(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    def rs256(header: dict[str, Any]) -> str:
        signing = f"{seg(header)}.{seg({'iss': 'myapp', 'aud': 'jitsi', 'room': '*', 'exp': NOW + 60})}"
        sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = tmp_path / ".env"
        url = f"http://127.0.0.1:{server.server_address[1]}/asap"
        env.write_text(f"ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=myapp\nJWT_ASAP_KEYSERVER={url}\n", encoding="utf-8")
        ok = check(rs256({"alg": "RS256", "typ": "JWT", "kid": kid}), CheckOptions(env_file=env, at=NOW))
        assert ok.exit_code() is ExitCode.OK, ok.verdict
        missing = check(rs256({"alg": "RS256", "typ": "JWT", "kid": "other"}), CheckOptions(env_file=env, at=NOW))
        assert missing.verdict is not None and missing.verdict.failure_id == "JWT-KEYSERVER"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("text", "value"), [("1767225600", NOW), ("2026-01-01T00:00:00Z", NOW), ("2026-01-01T00:00:00", NOW)]
)
def test_parse_at(text: str, value: float) -> None:
    assert parse_at(text) == value


@pytest.mark.parametrize("text", ["", "tomorrow", "nan", "inf", "2026-13-01"])
def test_parse_at_refuses(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_at(text)


def test_parse_ttl() -> None:
    assert (parse_ttl("3600"), parse_ttl("90m"), parse_ttl("1h"), parse_ttl("24h")) == (3600, 5400, 3600, 86400)
    for bad in ("0", "25h", "1d", "-5", "x"):
        with pytest.raises(ConfigError):
            parse_ttl(bad)


def test_no_token_or_secret_in_any_format(env_file: Path) -> None:
    token = fresh(env_file, room="room1")
    for options in (CheckOptions(env_file=env_file, room="other"), CheckOptions(env_file=env_file)):
        for bad in (token, "Bearer " + token, token[:-4] + "AAAA"):
            report = check(bad, options)
            for fmt in Format:
                for verbose in (False, True):
                    out = render(report, fmt, verbose=verbose)
                    assert token.split(".")[2] not in out and token.split(".")[1] not in out
                    assert SECRET not in out


def test_cli_exit_codes_and_sources(env_file: Path) -> None:
    token = fresh(env_file)
    accepted = cli("check", "--env-file", str(env_file), stdin=token + "\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Verdict: prosody would accept this token" in accepted.stdout and token not in accepted.stdout
    from_env = cli("check", "--env-file", str(env_file), env={"LDAPCHECK_TOKEN": token})
    assert from_env.returncode == 0, from_env.stderr
    refused = cli("check", "--env-file", str(env_file), "--at", "2100-01-01", "--json", stdin=token)
    assert refused.returncode == 1 and json.loads(refused.stdout)["verdict"]["failure_id"] == "JWT-EXP"
    assert cli("check", "--env-file", str(env_file), stdin="\n").returncode == 2
    assert cli("check", "--env-file", str(env_file), "--at", "soon", stdin=token).returncode == 2
    assert cli("check", "--env-file", str(env_file.parent / "missing.env"), stdin=token).returncode == 2
    on_argv = cli("check", "--env-file", str(env_file), token)
    assert on_argv.returncode == 2 and token not in on_argv.stdout


def test_cli_mint_prints_the_token_and_warns(env_file: Path) -> None:
    done = cli("mint", "--user", "alice", "--room", "Team Room", "--ttl", "10m", cwd=env_file.parent)
    assert done.returncode == 0, done.stderr
    token, url = done.stdout.splitlines()
    assert url == f"https://meet.example.org/team%20room?jwt={token}"
    assert "credential" in done.stderr and token not in done.stderr and SECRET not in done.stdout + done.stderr
    assert cli("check", "--room", "team room", cwd=env_file.parent, stdin=token).returncode == 0
    assert cli("mint", "--user", "alice", "--ttl", "48h", cwd=env_file.parent).returncode == 2


def test_timeout_bounds_the_engine_lookup(env_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--timeout` reaches the container lookup like diagnose's; out of range it is a usage error (exit 2)."""
    from typer.testing import CliRunner

    from ldapcheck.cli.app import app
    from ldapcheck.commands import inside

    asked: list[float] = []
    monkeypatch.setattr(inside, "start_container", lambda options: asked.append(options.timeout))  # None: no engine
    token = fresh(env_file)
    runner = CliRunner()
    done = runner.invoke(app, ["token", "check", "--env-file", str(env_file), "--timeout", "7.5"], input=token)
    assert done.exit_code == 0, done.output
    assert asked == [7.5]
    assert runner.invoke(app, ["token", "check", "--env-file", str(env_file)], input=token).exit_code == 0
    assert asked == [7.5, 5.0]  # the default, as diagnose's
    refused = runner.invoke(app, ["token", "check", "--env-file", str(env_file), "--timeout", "0.01"], input=token)
    assert refused.exit_code == 2 and "between 0.1 and 300" in refused.output
    assert len(asked) == 2
