"""Read a docker-jitsi-meet `.env` file exactly as Docker Compose v2 (compose-go `dotenv`) does.

Why not python-dotenv: it differs from Compose on exactly the characters that break `LDAP_BINDPW`.
python-dotenv leaves `$VAR` (unbraced) and `$$` alone and ignores `${VAR-default}`; Compose
interpolates `$VAR`, turns `$$` into `$` and supports `-`, `:-`, `?`, `:?`, `+`, `:+`. A password
`pa$word` is `pa$word` for python-dotenv but `pa` for Compose. So this module re-implements
compose-go's parser (`dotenv/parser.go`, `template/template.go`; value processing in `.compose`).
(The old Python docker-compose 1.29.2 reads `.env` *with* python-dotenv, checked with
`docker-compose config`: `pa$word` and `pa$$word` stay as written there. Single quotes are the one
form both read identically, which is why `ldapcheck env generate` writes them.)


- blank lines and lines whose first non-space character is `#` are skipped; an `export ` prefix is dropped;
- `KEY=value` (also `KEY: value`); whitespace around the separator is dropped, so `KEY= secret` is `secret`;
- unquoted: up to the end of the line, cut at the first ` #` (space + hash; `a#b` keeps its `#`),
  trailing whitespace trimmed, then interpolated;
- `'single'`: literal, only `\\'` is an escape (any other backslash stays as written); may span lines;
- `"double"`: `\\n \\r \\t \\\\ \\" \\$` … escapes, then interpolated; may span lines;
- interpolation: `$$` is a literal `$`; `$NAME`, `${NAME}`, `${NAME:-d}`, `${NAME-d}`, `${NAME:?e}`,
  `${NAME?e}`, `${NAME:+r}`, `${NAME+r}`; names are looked up in the caller's environment first
  (Compose uses the shell's), then in keys defined earlier in the file; unset names give "".

Deliberate differences (stricter, never silently different):
- text after a closing quote other than a comment (`KEY="a" b`) is an error; compose-go would read
  `b` as a further key;
- a `$` that starts no variable (`pa$ word`, trailing `$`) is kept literally and recorded in
  `EnvEntry.stray_dollar`; some compose-go versions reject it as "Invalid template";
- a bare `KEY` line (no `=`) is recorded with `inherited=True`; its value comes from the given environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ldapcheck.core.errors import EnvFileError
from ldapcheck.core.files import ENV_FILE_LIMIT, UnreadableFile, read_bounded
from ldapcheck.core.record import field, record
from ldapcheck.jitsi.env.compose import InterpolationError, expand_escapes, substitute

# compose-go `isSpace`: whitespace that is not a line break.
_SPACE = "\t\v\f\r \x85\xa0"
_KEY = re.compile(r"[\w.\[\]]+")
_EXPORT = re.compile(r"export[ \t]+")


@record
class EnvEntry:
    """One `KEY=value` statement: the value Compose passes on, and where it stands in the file."""

    key: str
    value: str
    quote: str  # "", "'" or '"'
    line: int  # 1-based line of the key
    end_line: int  # last line of the value (a quoted value may span lines)
    raw_value: str  # the value text as written, quotes included, inline comment excluded
    value_start: int  # character offsets of raw_value in EnvFile.text
    value_end: int
    line_start: int  # offset of the first character of the key's line
    export: bool = False
    inherited: bool = False  # a bare `KEY` line: the value comes from the environment
    present: bool = True  # False for an inherited key the environment does not have (Compose leaves it unset)
    references: tuple[str, ...] = ()  # variables interpolated into the value
    unresolved: tuple[str, ...] = ()  # of those, the ones that were unset
    stray_dollar: bool = False  # a `$` that starts no variable was kept literally
    inline_comment: bool = False  # an unquoted value was cut at ` #`


@record
class EnvFile:
    """A parsed `.env`: the raw text (for byte-exact rewriting) and its statements in file order."""

    path: str
    text: str
    entries: tuple[EnvEntry, ...] = field(default_factory=tuple)

    def values(self) -> dict[str, str]:
        """Key → value as Compose resolves it (last definition wins; unset inherited keys are absent)."""
        out: dict[str, str] = {}
        for entry in self.entries:
            if entry.present:
                out[entry.key] = entry.value
        return out

    def entry(self, key: str) -> EnvEntry | None:
        """The effective (last) definition of `key`."""
        found = None
        for entry in self.entries:
            if entry.key == key:
                found = entry
        return found

    def line_of(self, key: str) -> int | None:
        """Line number of the effective definition of `key`, if any."""
        entry = self.entry(key)
        return entry.line if entry else None

    def duplicates(self) -> dict[str, list[int]]:
        """Keys defined more than once → their line numbers."""
        lines: dict[str, list[int]] = {}
        for entry in self.entries:
            lines.setdefault(entry.key, []).append(entry.line)
        return {k: v for k, v in lines.items() if len(v) > 1}


def read_env_bytes(path: str | Path) -> bytes:
    """The raw bytes of a `.env` (a regular file of at most 1 MiB); `EnvFileError` (exit 2) says why not."""
    name = str(path)
    try:
        return read_bounded(path, limit=ENV_FILE_LIMIT, what=name)
    except UnreadableFile as exc:
        message = str(exc).removeprefix(f"{name}: ")
        if message == "no such file":
            message += " (pass --env-file with the path of docker-jitsi-meet's .env)"
        elif message.startswith("permission denied"):
            message = "permission denied (the .env holds secrets; run as its owner)"
        raise EnvFileError(name, message) from None


def read_env_file(path: str | Path, environ: Mapping[str, str] | None = None) -> EnvFile:
    """Read and parse `path`; unreadable or unparseable files raise `EnvFileError` (exit 2)."""
    name = str(path)
    data = read_env_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EnvFileError(name, "not valid UTF-8 (Compose reads .env as UTF-8)", line) from None
    return parse_env(text, path=name, environ=environ)


def parse_env(text: str, *, path: str = ".env", environ: Mapping[str, str] | None = None) -> EnvFile:
    """Parse `.env` text with Compose v2 rules. `environ` is what `$VAR` sees first (Compose: the shell)."""
    return _Parser(text, path, dict(environ or {})).parse()


class _Parser:
    def __init__(self, text: str, path: str, environ: dict[str, str]) -> None:
        self.text = text[1:] if text.startswith("\ufeff") else text
        self.offset = len(text) - len(self.text)
        self.path = path
        self.environ = environ
        self.pos = 0
        self.defined: dict[str, str] = {}

    def line_at(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def fail(self, message: str, pos: int) -> EnvFileError:
        return EnvFileError(self.path, message, self.line_at(pos))

    def parse(self) -> EnvFile:
        entries: list[EnvEntry] = []
        text = self.text
        while True:
            self.skip_blank_and_comments()
            if self.pos >= len(text):
                break
            entries.append(self.statement())
        if self.offset:  # keep offsets relative to the text as read (BOM included)
            entries = [_shift(e, self.offset) for e in entries]
        return EnvFile(self.path, ("\ufeff" if self.offset else "") + text, tuple(entries))

    def skip_blank_and_comments(self) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch.isspace():
                self.pos += 1
            elif ch == "#":
                nl = text.find("\n", self.pos)
                self.pos = len(text) if nl < 0 else nl
            else:
                return

    def statement(self) -> EnvEntry:
        text = self.text
        start = self.pos
        line_start = text.rfind("\n", 0, start) + 1
        export = False
        m = _EXPORT.match(text, self.pos)
        if m:
            export = True
            self.pos = m.end()
        key_match = _KEY.match(text, self.pos)
        if not key_match:
            # Show one character only: a broken line may be the tail of a password.
            raise self.fail(
                f"expected KEY=VALUE, found {text[self.pos]!r} (keys are letters, digits, _ and .)", self.pos
            )
        key = key_match.group()
        self.pos = key_match.end()
        self.skip_space()
        line = self.line_at(start)
        if self.pos >= len(text) or text[self.pos] == "\n":
            value = self.environ.get(key, "")
            return EnvEntry(
                key=key,
                value=value,
                quote="",
                line=line,
                end_line=line,
                raw_value="",
                value_start=self.pos,
                value_end=self.pos,
                line_start=line_start,
                export=export,
                inherited=True,
                present=key in self.environ,
            )
        if text[self.pos] not in "=:":
            raise self.fail(
                f"unexpected {text[self.pos]!r} after key {key!r}: expected '=' (no spaces in keys)", self.pos
            )
        self.pos += 1
        self.skip_space()
        if self.pos < len(text) and text[self.pos] in "'\"":
            entry = self.quoted(key, line, line_start, export)
        else:
            entry = self.unquoted(key, line, line_start, export)
        self.defined[key] = entry.value
        return entry

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1

    def unquoted(self, key: str, line: int, line_start: int, export: bool) -> EnvEntry:
        text = self.text
        vstart = self.pos
        nl = text.find("\n", vstart)
        end = len(text) if nl < 0 else nl
        raw = text[vstart:end]
        cut = raw.find(" #")
        commented = cut >= 0
        if commented:
            raw = raw[:cut]
        raw = raw.rstrip()
        self.pos = end
        value, refs, unresolved, stray = self.interpolate(raw, vstart)
        return EnvEntry(
            key=key,
            value=value,
            quote="",
            line=line,
            end_line=line,
            raw_value=raw,
            value_start=vstart,
            value_end=vstart + len(raw),
            line_start=line_start,
            export=export,
            references=refs,
            unresolved=unresolved,
            stray_dollar=stray,
            inline_comment=commented,
        )

    def quoted(self, key: str, line: int, line_start: int, export: bool) -> EnvEntry:
        text = self.text
        vstart = self.pos
        quote = text[vstart]
        chars: list[str] = []
        escaped = False
        i = vstart + 1
        while i < len(text):
            ch = text[i]
            if ch != quote:
                if not escaped and ch == "\\":
                    escaped = True
                else:
                    if escaped:
                        escaped = False
                        chars.append("\\")
                    chars.append(ch)
                i += 1
                continue
            if escaped:  # \' or \" inside its own quotes
                escaped = False
                chars.append(ch)
                i += 1
                continue
            break
        else:
            raise self.fail(f"unterminated {quote} quote in the value of {key}", vstart)
        vend = i + 1
        self.pos = vend
        self.check_after_quote(key)
        body = "".join(chars)
        refs: tuple[str, ...] = ()
        unresolved: tuple[str, ...] = ()
        stray = False
        if quote == '"':
            body, refs, unresolved, stray = self.interpolate(expand_escapes(body), vstart)
        return EnvEntry(
            key=key,
            value=body,
            quote=quote,
            line=line,
            end_line=self.line_at(vend - 1),
            raw_value=text[vstart:vend],
            value_start=vstart,
            value_end=vend,
            line_start=line_start,
            export=export,
            references=refs,
            unresolved=unresolved,
            stray_dollar=stray,
        )

    def check_after_quote(self, key: str) -> None:
        text = self.text
        nl = text.find("\n", self.pos)
        end = len(text) if nl < 0 else nl
        rest = text[self.pos : end].strip()
        if rest and not rest.startswith("#"):
            raise self.fail(
                f"unexpected text after the closing quote of {key} (put comments after ' #', or quote the whole value)",
                self.pos,
            )
        self.pos = end

    def interpolate(self, value: str, pos: int) -> tuple[str, tuple[str, ...], tuple[str, ...], bool]:
        refs: list[str] = []
        unresolved: list[str] = []

        def lookup(name: str) -> str | None:
            refs.append(name)
            if name in self.environ:
                return self.environ[name]
            if name in self.defined:
                return self.defined[name]
            unresolved.append(name)
            return None

        try:
            out, stray = substitute(value, lookup)
        except InterpolationError as exc:
            raise self.fail(str(exc), pos) from None
        return out, tuple(dict.fromkeys(refs)), tuple(dict.fromkeys(unresolved)), stray


def _shift(entry: EnvEntry, by: int) -> EnvEntry:
    from ldapcheck.core.record import replace

    return replace(
        entry,
        value_start=entry.value_start + by,
        value_end=entry.value_end + by,
        line_start=entry.line_start + by,
    )
