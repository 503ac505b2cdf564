"""Signals at any moment: Ctrl-C during the imports exits 130 silently; SIGINT/SIGTERM mid-run exit 130/143."""

from __future__ import annotations

import importlib.abc
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ldapcheck import entry


class _InterruptingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "ldapcheck.cli":
            raise KeyboardInterrupt


@pytest.fixture
def interrupted_import(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delitem(sys.modules, "ldapcheck.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptingFinder(), *sys.meta_path])
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_ctrl_c_while_importing_exits_130_without_output(
    interrupted_import: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        entry.main()
    assert exc.value.code == 130
    assert capsys.readouterr() == ("", "")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_a_network_wait(sig: signal.Signals, code: int) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "ldapcheck", "count", "--url", f"ldap://127.0.0.1:{port}", "--timeout", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # A run started in the background inherits an ignored SIGINT; an admin's Ctrl-C reaches a default one.
            preexec_fn=_default_sigint,
        )
        server.settimeout(30)
        conn, _ = server.accept()  # ldapcheck is now waiting for an answer that never comes
        with conn:
            proc.send_signal(sig)
            _out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
