"""Hostile input: whatever the bytes, each reader ends in a result or its domain error, never another exception.

Covered: the `.env` reader, the linter, the saslauthd renderer, saslauthd's filter expansion (also: the expanded
filter is one equality on exactly the literal login, no filter injection), token parsing and verification, and the
CLI's options (in-process through the console entry point: exit 0/1/2, never 3, no traceback).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ldapcheck.adapters.ldap.filter import Item, parse, unescape
from ldapcheck.auth.jwt.model import TokenConfig
from ldapcheck.auth.jwt.verify import verify
from ldapcheck.auth.ldap.render import Generation, render
from ldapcheck.auth.ldap.saslfilter import expand, via_prosody, via_testsaslauthd
from ldapcheck.commands.lint import lint
from ldapcheck.core.errors import ConfigError, LdapCheckError
from ldapcheck.jitsi.env.parse import parse_env, read_env_file
from testing.fakeldap import BASE, fake_ldap

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that exercises the readers: quotes, `$`, `#`, escapes, `=`, newlines (every style), NUL, controls, non-ASCII.
NASTY = st.sampled_from(
    [
        *"'\"$#\\={}()*%@ \t\r\n\x00\x0b\x1b",
        "${",
        "$$",
        "\\n",
        "%u",
        "%%",
        "é",
        "\u202e",
        "\ud7ff",
        "\U0001d518",
        "\ufeff",
    ]
)
HOSTILE = st.lists(st.one_of(NASTY, st.text(max_size=6)), max_size=40).map("".join)
KEYS = st.sampled_from(
    [
        "LDAP_URL",
        "LDAP_BASE",
        "LDAP_BINDDN",
        "LDAP_BINDPW",
        "LDAP_FILTER",
        "LDAP_START_TLS",
        "LDAP_USE_TLS",
        "LDAP_TLS_CHECK_PEER",
        "LDAP_TLS_CACERT_FILE",
        "LDAP_TLS_CACERT_DIR",
        "LDAP_TLS_CIPHERS",
        "LDAP_AUTH_METHOD",
        "LDAP_VERSION",
        "LDAP_PREVENT_PEER_CERT_CHECK",
        "AUTH_TYPE",
        "ENABLE_AUTH",
        "XMPP_DOMAIN",
        "JWT_APP_ID",
        "JWT_APP_SECRET",
        "JWT_ASAP_KEYSERVER",
        "JWT_SIGN_TYPE",
        "JWT_ACCEPTED_ISSUERS",
        "JWT_ACCEPTED_AUDIENCES",
    ]
)
ENV_LINES = st.lists(
    st.one_of(
        st.tuples(KEYS, HOSTILE).map(lambda kv: f"{kv[0]}={kv[1]}"),
        st.tuples(st.sampled_from(["", "export ", "  "]), KEYS, st.sampled_from(["=", " = ", "="]), HOSTILE).map(
            "".join
        ),
        HOSTILE,
    ),
    max_size=12,
).map("\n".join)


# --- the .env reader ------------------------------------------------------------------------------------------------


@EXAMPLES
@given(text=st.one_of(HOSTILE, ENV_LINES), shell=st.dictionaries(KEYS, HOSTILE, max_size=3))
@example(text="LDAP_BINDPW=\"unterminated\nX='y", shell={})
@example(text="A=${B:?must be set}", shell={})
@example(text="A=${", shell={})
def test_env_parser_result_or_env_error(text: str, shell: dict[str, str]) -> None:
    try:
        env = parse_env(text, environ=shell)
    except ConfigError:
        return
    values = env.values()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())


@FEW
@given(data=st.binary(max_size=300))
@example(data=b"\xff\xfeL\x00D\x00")
@example(data=b"LDAP_BINDPW=\xc3\x28\n")
def test_env_file_of_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / ".env"
    path.write_bytes(data)
    with contextlib.suppress(ConfigError):
        read_env_file(path, environ={})


# --- the linter -----------------------------------------------------------------------------------------------------


@EXAMPLES
@given(text=ENV_LINES, generation=st.sampled_from(["current", "legacy"]))
@example(text="AUTH_TYPE=ldap\nENABLE_AUTH=1\nLDAP_URL=ldap://[::1\nLDAP_FILTER=(uid=%u", generation="current")
@example(text="AUTH_TYPE=jwt\nENABLE_AUTH=1\nJWT_APP_SECRET=\x00\nJWT_ACCEPTED_ISSUERS=,,,", generation="legacy")
@example(text="AUTH_TYPE=ldap\nENABLE_AUTH=true\nLDAP_URL=ldap://h:99999999999999999999", generation="current")
def test_linter_result_or_config_error(tmp_path: Path, text: str, generation: str) -> None:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        result = lint(path, generation=generation, shell={})
    except ConfigError:
        return
    for finding in result.findings:
        assert finding.id and finding.message


# --- the saslauthd renderer -----------------------------------------------------------------------------------------


@EXAMPLES
@given(environ=st.dictionaries(KEYS, HOSTILE, max_size=10), generation=st.sampled_from(list(Generation)))
def test_renderer_result_or_config_error(environ: dict[str, str], generation: Generation) -> None:
    try:
        text = render(environ, generation)
    except ConfigError:
        return
    assert isinstance(text, str)


def test_renderer_values_are_data_not_template_code() -> None:
    text = render({"AUTH_TYPE": "ldap", "LDAP_URL": "ldap://{{ 7*7 }}", "LDAP_FILTER": "{% raw %}(uid=%u)"})
    assert "ldap://{{ 7*7 }}" in text and "{% raw %}" in text


# --- filter expansion -------------------------------------------------------------------------------------------------

LOGINS = st.one_of(
    st.text(min_size=1, max_size=30),
    st.lists(
        st.sampled_from([*"*()\\\x00@%=&|! a", "é", "\U0001d518", "\u202e", "*)(uid=*", ")(|(uid=*"]),
        min_size=1,
        max_size=12,
    ).map("".join),
)


@EXAMPLES
@given(pattern=HOSTILE, user=HOSTILE, realm=HOSTILE)
def test_expand_never_raises(pattern: str, user: str, realm: str) -> None:
    assert isinstance(expand(pattern, user, realm=realm), str)


@EXAMPLES
@given(login=LOGINS, pattern=st.sampled_from(["(uid=%u)", "uid=%u", "(uid=%U)", "(mail=%u@%d)"]))
@example(login="*", pattern="(uid=%u)")
@example(login="a*)(uid=*", pattern="(uid=%u)")
@example(login="x\x00y", pattern="(uid=%u)")
def test_expanded_filter_is_one_equality_on_the_literal_login(login: str, pattern: str) -> None:
    """No filter injection: whatever the login, the filter stays one equality item whose value is the login."""
    for request in (via_prosody(login, pattern, BASE, "meet.jitsi"), via_testsaslauthd(login, pattern, BASE, "x")):
        tree = parse(request.filter)
        assert isinstance(tree, Item), request.filter
        assert tree.op == "=" and "*" not in tree.value, request.filter  # never a substring or presence test
        if pattern == "(uid=%u)":
            assert unescape(tree.value) == request.user.encode(), request.filter
        # A bare `uid=%u` is read with its outer whitespace stripped (filter.wrapped), so a login's trailing spaces
        # are not part of the value; libldap keeps them, but uid's matching rule ignores them anyway.


# --- tokens -------------------------------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=8,
)
SEGMENT = st.one_of(
    JSONISH.map(lambda v: b64(json.dumps(v).encode())),
    st.dictionaries(st.sampled_from(["alg", "typ", "kid", "iss", "aud", "exp", "nbf", "room", "sub"]), JSONISH).map(
        lambda v: b64(json.dumps(v).encode())
    ),
    st.binary(max_size=20).map(b64),
    HOSTILE,
)
TOKENS = st.one_of(
    HOSTILE,
    st.lists(SEGMENT, min_size=1, max_size=4).map(".".join),
    st.tuples(st.sampled_from(["", "Bearer ", " ", "\n"]), st.lists(SEGMENT, min_size=3, max_size=3).map(".".join)).map(
        "".join
    ),
)
CONFIGS = st.builds(
    TokenConfig,
    app_id=st.one_of(st.none(), st.text(max_size=6)),
    app_secret=st.one_of(st.none(), st.text(max_size=10)),
    signature_algorithm=st.one_of(st.none(), st.sampled_from(["HS256", "HS512", "RS256", "none", "ES256", ""])),
    allow_empty_token=st.booleans(),
)


@EXAMPLES
@given(token=st.one_of(st.none(), TOKENS), config=CONFIGS, now=st.floats(allow_nan=False, allow_infinity=False))
@example(
    token=b64(b'{"alg":"HS256"}') + "." + b64(b'{"exp":1e400}') + ".x",
    config=TokenConfig(app_id="a", app_secret="s"),
    now=0.0,
)
def test_token_verification_always_returns_a_verification(token: str | None, config: TokenConfig, now: float) -> None:
    result = verify(token, config, now, fetch_key=lambda _url: (None, ""))
    assert isinstance(result.ok, bool)
    assert result.ok or result.failed_rule is not None


# --- CLI options (in-process, through the console entry point) --------------------------------------------------------


def run_main(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    from ldapcheck.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr, dict(os.environ)
    sys.argv, sys.stdin, sys.stdout, sys.stderr = ["ldapcheck", *argv], io.StringIO(stdin), out, err
    for key in [k for k in os.environ if k.startswith(("LDAPCHECK_", "DOCKER_"))]:
        del os.environ[key]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 2
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved[:4]
        os.environ.clear()
        os.environ.update(saved[4])
    return code, out.getvalue(), err.getvalue()


def clean_exit(code: int, out: str, err: str, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    assert code in allowed, (code, out, err)
    assert "Traceback" not in out + err and "internal error" not in err, err


OPTION = st.text(max_size=25).filter(lambda s: "\x00" not in s)  # argv cannot hold NUL


@pytest.fixture(scope="module")
def jwt_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jwt") / ".env"
    path.write_text(
        "ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=app\nJWT_APP_SECRET=s3cret-s3cret\nXMPP_DOMAIN=meet.jitsi\n"
    )
    return path


@pytest.fixture(scope="module")
def directory() -> Iterator[str]:
    with fake_ldap("never") as server:
        yield server.url


@FEW
@given(generation=OPTION, redact=st.booleans())
def test_cli_render_and_lint_options(tmp_path: Path, generation: str, redact: bool) -> None:
    env = tmp_path / "x.env"
    env.write_text("AUTH_TYPE=ldap\nLDAP_URL=ldap://h\nLDAP_BINDPW=pw\n")
    clean_exit(
        *run_main(["render", "saslauthd", "--env-file", str(env), "--generation", generation, *(["--redact"] * redact)])
    )
    clean_exit(*run_main(["lint", "--env-file", str(env), "--generation", generation, "--json"]))


@FEW
@given(at=OPTION, room=OPTION, ttl=OPTION, user=OPTION, token=TOKENS.filter(lambda t: "\n" not in t.strip()))
def test_cli_token_options(jwt_env: Path, at: str, room: str, ttl: str, user: str, token: str) -> None:
    clean_exit(
        *run_main(["token", "check", "--env-file", str(jwt_env), "--token-stdin", "--at", at, "--room", room], token)
    )
    clean_exit(*run_main(["token", "mint", "--env-file", str(jwt_env), "--user", user, "--room", room, "--ttl", ttl]))


@FEW
@given(failure_id=OPTION)
def test_cli_explain_any_id(failure_id: str) -> None:
    clean_exit(*run_main(["explain", failure_id]))


@FEW
@given(
    login=OPTION,
    base=OPTION,
    flt=OPTION,
    bind_dn=OPTION,
    timeout=st.sampled_from(["0", "-1", "nan", "inf", "1e309", "x", "0.5", "1e-9", "3600"]),
    page=st.sampled_from(["0", "-5", "1", "x", "99999999999999999999", "7"]),
)
@example(login="*", base=BASE, flt="(uid=%u)", bind_dn="", timeout="0.5", page="7")
def test_cli_ldap_options(
    directory: str, login: str, base: str, flt: str, bind_dn: str, timeout: str, page: str
) -> None:
    common = ["--url", directory, "--base", base, "--filter", flt, "--bind-dn", bind_dn, "--timeout", timeout]
    clean_exit(*run_main(["user", login, *common, "--no-bind", "--json"]))
    clean_exit(*run_main(["count", *common, "--page-size", page]))


@FEW
@given(url=OPTION, ldaps_port=st.sampled_from(["0", "-1", "65536", "x", "636"]))
def test_cli_env_generate_options(url: str, ldaps_port: str) -> None:
    code, out, err = run_main(
        [
            *["env", "generate", "--url", url, "--base", "dc=x", "--bind-dn", "", "--filter", "(uid=%u)"],
            *["--xmpp-domain", "meet.jitsi", "--no-start-tls", "--ldaps-port", ldaps_port],
        ]
    )
    clean_exit(code, out, err)


def test_domain_errors_are_ldapcheck_errors() -> None:
    assert issubclass(ConfigError, LdapCheckError)
