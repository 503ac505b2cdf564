"""--debug output (log records, the traceback of an internal error) masks the secrets the process holds."""

from __future__ import annotations

import logging
import secrets
import sys
from typing import Any

import pytest

from ldapcheck.cli import app as cli
from ldapcheck.core.secrets import MASK, Secret, mask_debug, remember


def test_mask_debug_masks_remembered_secrets_and_tokens() -> None:
    password = secrets.token_urlsafe(24)
    held = Secret(password)
    other = secrets.token_urlsafe(24)
    remember(other, "ab")  # too short to mask: kept
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = f"ValueError: invalid literal for int(): {held.reveal()!r} {other} ab {token}"
    masked = mask_debug(text)
    assert password not in masked and other not in masked and "eyJzdWIiOiJ4In0" not in masked
    assert MASK in masked and " ab " in masked


def test_internal_error_with_debug_prints_a_masked_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = Secret(secrets.token_urlsafe(24))

    def crash(_argv: list[str]) -> Any:
        def run(**_kwargs: object) -> None:
            raise ValueError(f"invalid literal for int() with base 10: {password.reveal()!r}")

        return run

    monkeypatch.setattr(cli, "app_for", crash)
    monkeypatch.setattr(sys, "argv", ["ldapcheck", "--debug", "count"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError" in err
    assert password.reveal() not in err and MASK in err


def test_debug_log_records_are_masked() -> None:
    password = Secret(secrets.token_urlsafe(24))
    formatter = cli._MaskingFormatter("%(name)s: %(message)s")
    try:
        raise KeyError(password.reveal())
    except KeyError:
        record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "step crashed", None, sys.exc_info())
    text = formatter.format(record)
    assert "KeyError" in text and password.reveal() not in text
