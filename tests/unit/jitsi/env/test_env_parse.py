"""The .env reader follows Docker Compose v2 (compose-go dotenv) on the cases that matter for LDAP_BINDPW."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldapcheck.core.errors import EnvFileError
from ldapcheck.jitsi.env.parse import parse_env, read_env_file


def value(line: str, environ: dict[str, str] | None = None) -> str:
    env = parse_env("X=xx\n" + line + "\n", environ=environ)
    entry = env.entry("P")
    assert entry is not None
    return entry.value


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Unquoted values: interpolated, ` #` starts a comment, surrounding blanks trimmed.
        ("P=plain", "plain"),
        ("P=pa$word", "pa"),  # $word is a variable (unset → empty): the classic broken password
        ("P=pa$$word", "pa$word"),  # $$ is a literal $
        ("P=ab${X}cd", "abxxcd"),
        ("P=$X", "xx"),
        ("P=${X:-d}", "xx"),
        ("P=${UNSET:-d}", "d"),
        ("P=${UNSET-d}", "d"),
        ("P=${X:+r}", "r"),
        ("P=${UNSET:+r}", ""),
        ("P=${UNSET:-${X}}", "xx"),
        ("P=abc #comment", "abc"),
        ("P=abc#not-a-comment", "abc#not-a-comment"),
        ("P=abc\t#tab-is-not-a-comment", "abc\t#tab-is-not-a-comment"),
        ("P= leading", "leading"),  # Compose drops blanks after '='
        ("P=trailing   ", "trailing"),
        ("P= # looks like a comment", "# looks like a comment"),
        ("P=", ""),
        ("P=a\\$b", "a\\"),  # no escapes outside double quotes: \ stays, $b interpolates
        ("P=ab$", "ab$"),  # a stray $ is kept
        ("P=(uid=%u)", "(uid=%u)"),
        ("export P=exported", "exported"),
        ("P = spaced", "spaced"),
        ("P: yaml-style", "yaml-style"),
        # Single quotes: literal, only \' is an escape.
        ("P='pa$word'", "pa$word"),
        ("P='a #b'", "a #b"),
        ("P=' lead and trail '", " lead and trail "),
        ("P='it\\'s'", "it's"),
        ("P='back\\slash'", "back\\slash"),
        ("P='two\\\\'", "two\\\\"),
        ("P='\\n'", "\\n"),
        ("P='x' # comment", "x"),
        ("P='x'# comment", "x"),
        ("P='a\"b'", 'a"b'),
        # Double quotes: escapes, then interpolation.
        ('P="pa$word"', "pa"),
        ('P="pa\\$word"', "pa$word"),
        ('P="pa$$word"', "pa$word"),
        ('P="a\\"b"', 'a"b'),
        ('P="a\\\\b"', "a\\b"),
        ('P="tab\\there"', "tab\there"),
        ('P="nl\\n"', "nl\n"),
        ('P="a\\\'b"', "a\\'b"),  # \' is not an escape inside double quotes
        ('P="x" # comment', "x"),
        ('P="#not comment"', "#not comment"),
        ('P="\\0101"', "A"),
        ('P="unicode ü €"', "unicode ü €"),
    ],
)
def test_compose_value(line: str, expected: str) -> None:
    assert value(line) == expected


def test_shell_environment_wins_for_interpolation() -> None:
    assert value("P=${X}", environ={"X": "shell"}) == "shell"


def test_multiline_quoted_value_keeps_line_numbers() -> None:
    env = parse_env("# c\nA='one\ntwo'\nB=3\n")
    a, b = env.entry("A"), env.entry("B")
    assert a is not None and b is not None
    assert (a.value, a.line, a.end_line) == ("one\ntwo", 2, 3)
    assert (b.value, b.line) == ("3", 4)


def test_line_numbers_and_raw_spans() -> None:
    text = "# header\n\nexport  LDAP_URL=ldap://x # primary\nLDAP_BINDPW='p w'\n"
    env = parse_env(text)
    url, pw = env.entry("LDAP_URL"), env.entry("LDAP_BINDPW")
    assert url is not None and pw is not None
    assert url.line == 3 and url.export and url.inline_comment
    assert text[url.value_start : url.value_end] == "ldap://x"
    assert pw.line == 4 and pw.quote == "'" and text[pw.value_start : pw.value_end] == "'p w'"


def test_duplicates_last_wins() -> None:
    env = parse_env("A=1\nA=2\n")
    assert env.values() == {"A": "2"}
    assert env.duplicates() == {"A": [1, 2]}
    assert env.line_of("A") == 2


def test_references_and_unresolved_are_recorded() -> None:
    env = parse_env("P=a$b${X}\n", environ={"X": "1"})
    entry = env.entry("P")
    assert entry is not None
    assert entry.references == ("b", "X") and entry.unresolved == ("b",)


def test_crlf_and_bom() -> None:
    env = parse_env("\ufeffA=1\r\nB='2'\r\n")
    assert env.values() == {"A": "1", "B": "2"}


def test_inherited_key_takes_the_environment() -> None:
    assert parse_env("A\n", environ={"A": "from-shell"}).values() == {"A": "from-shell"}
    assert parse_env("A\n").values() == {}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("A=1\nB='open\n", 2, "unterminated ' quote"),
        ('A="x" trailing\n', 1, "after the closing quote"),
        ("A=1\n-x=2\n", 2, "expected KEY=VALUE"),
        ("A B=1\n", 1, "unexpected 'B'"),
        ("P=${UNSET:?needed}\n", 1, "required variable UNSET"),
        ("P=${oops\n", 1, "unterminated '${'"),
        ("P=${1x}\n", 1, "invalid '${…}'"),
    ],
)
def test_errors_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(EnvFileError) as info:
        parse_env(text, path="the.env")
    assert info.value.line == line
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"the.env:{line}:")


def test_error_never_quotes_a_password_fragment() -> None:
    with pytest.raises(EnvFileError) as info:
        parse_env("LDAP_BINDPW=ok\n%Sup3rSecretTail=1\n")
    assert "Sup3rSecret" not in str(info.value)


def test_read_env_file_errors(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError, match="no such file"):
        read_env_file(tmp_path / "missing.env")
    with pytest.raises(EnvFileError, match="is a directory"):
        read_env_file(tmp_path)
    bad = tmp_path / "latin1.env"
    bad.write_bytes(b"A=1\nB=\xe9\n")
    with pytest.raises(EnvFileError, match="UTF-8") as info:
        read_env_file(bad)
    assert info.value.line == 2


def test_python_dotenv_differs_on_passwords() -> None:
    """Why we do not use python-dotenv: it keeps `$word` and `$$` where Compose changes them."""
    import io

    from dotenv import dotenv_values

    for line, compose in (("P=pa$word", "pa"), ("P=pa$$word", "pa$word"), ("P=${UNSET-d}", "d")):
        assert value(line) == compose
        assert dotenv_values(stream=io.StringIO(line + "\n")).get("P") != compose


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("AB_=:'\"\\$#{}-+? \t\nxé")), max_size=40))
def test_any_text_parses_or_fails_with_a_located_env_file_error(text: str) -> None:
    try:
        env = parse_env(text, path="fuzz.env")
    except EnvFileError as exc:
        assert exc.line is not None and 1 <= exc.line <= text.count("\n") + 1
        return
    for entry in env.entries:
        assert 1 <= entry.line <= entry.end_line <= text.count("\n") + 1
        assert 0 <= entry.value_start <= entry.value_end <= len(text)
