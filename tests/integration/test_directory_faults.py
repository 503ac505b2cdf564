"""The directory killed in the middle of `count` and `validate`: a failed step that says the result is partial.

The openldap container is killed from another thread at the first progress report (entries are reported as they
arrive, so that can be within the first page): the callback signals the killer and waits until the container is
gone, so the rest of the search is surely asked of a dead server.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ldapcheck.commands.count import count
from ldapcheck.commands.source import LdapSource
from ldapcheck.commands.validate import validate
from ldapcheck.core.model import Report, Status
from ldapcheck.report import Format, render
from testing.info import LabInfo

pytestmark = pytest.mark.integration

PAGE = 10
BOUND = 30.0


def source_for(info: LabInfo) -> LdapSource:
    return LdapSource(
        url=info.ldap_url,
        base=info.suffix,
        bind_dn=info.bind_dn,
        filter_text="(uid=%u)",
        xmpp_domain=info.xmpp_domain,
        timeout=3.0,
    )


class Killer:
    """Kill `container` from another thread at the first progress report; the report waits for the kill."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.asked = threading.Event()
        self.done = threading.Event()
        self.seen: list[int] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        if self.asked.wait(BOUND):
            self.container.kill()
            self.container.wait(timeout=BOUND)
        self.done.set()

    def progress(self, counted: int) -> None:
        self.seen.append(counted)
        if len(self.seen) == 1:
            self.asked.set()
            assert self.done.wait(BOUND), "the directory was not killed"


def stopped_step(report: Report, step_id: str) -> Any:
    step = report.step(step_id)
    assert step is not None, [s.id for s in report.steps]
    assert step.status is Status.FAIL, render(report, Format.TEXT)
    assert step.failure_id, render(report, Format.TEXT)
    return step


def test_directory_killed_during_count(lab: LabInfo, openldap_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    container, info = openldap_factory(n_users=5 * PAGE)
    monkeypatch.setenv("LDAPCHECK_BIND_PASSWORD", info.bind_password)
    killer = Killer(container)
    report = count(source_for(info), page_size=PAGE, progress=killer.progress)
    assert killer.seen and 1 <= killer.seen[0] < 5 * PAGE
    step = stopped_step(report, "ldap.user_count")
    text = render(report, Format.TEXT)
    assert "stopped" in step.summary, text
    # what was counted (the last progress report), said to be partial
    assert f"after {killer.seen[-1]} entries" in step.summary and "partial" in step.summary, text
    assert int(report.exit_code()) == 1
    assert "Traceback" not in text


def test_directory_killed_during_validate(lab: LabInfo, openldap_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ldapcheck.auth.ldap.validate import ValidateOptions

    container, info = openldap_factory(n_users=5 * PAGE)
    monkeypatch.setenv("LDAPCHECK_BIND_PASSWORD", info.bind_password)
    killer = Killer(container)
    report = validate(source_for(info), ValidateOptions(sample=3, page_size=PAGE), progress=killer.progress)
    assert killer.seen
    failed = [s for s in report.steps if s.status is Status.FAIL]
    text = render(report, Format.TEXT)
    assert failed, text
    scan_step = report.step("dir.scan")
    assert scan_step is not None and scan_step.status is Status.FAIL, text
    # validate already said it: "the directory scan stopped after N entries" (its findings are not reported)
    assert "scan stopped after" in scan_step.summary, text
    scanned = int(scan_step.summary.split("stopped after ")[1].split()[0])
    assert scanned >= killer.seen[0], text
    assert int(report.exit_code()) == 1
