"""One password attempt per run, counted where it lands: binds with the user's DN in slapd's own log (LDAP mode),
SASL logins in prosody's log (internal mode). A wrong password costs exactly one failure."""

from __future__ import annotations

import dataclasses
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ldapcheck.auth.ldap import chain
from ldapcheck.auth.ldap.settings import from_env
from ldapcheck.commands.diagnose import diagnose as run_diagnose
from ldapcheck.commands.diagnose_jitsi import diagnose_jitsi
from ldapcheck.commands.inside import ContainerOptions, start_container
from ldapcheck.core.model import Report, Status
from ldapcheck.core.secrets import Secret
from ldapcheck.lab import containers, manager
from ldapcheck.lab.accounts import register
from ldapcheck.lab.containers import LabPaths
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.manager import prepare_files, start_services
from ldapcheck.lab.spec import new_spec
from testing.info import LabInfo

SETTLE = 3.0  # how long a late second attempt is looked for after the run


def diagnose_ldap(lab: LabInfo, container: str, password: str, *, testsaslauthd: bool = False) -> Report:
    options = chain.ChainOptions(user="alice", password=Secret(password), count=False)
    inside = start_container(ContainerOptions(container=container, testsaslauthd=testsaslauthd))
    return run_diagnose(from_env(lab.env), options, inside=inside, expected_env=lab.env, env_file="lab .env")


def counter(read: Callable[[], str], pattern: str) -> Callable[[], int]:
    return lambda: len(re.findall(pattern, read()))


def settled(count: Callable[[], int], before: int, expected: int) -> int:
    """The attempts made since `before`: polls until `expected` arrived, then keeps watching for a late extra one."""
    deadline = time.monotonic() + 15.0
    while count() - before < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    extra_deadline = time.monotonic() + SETTLE
    while count() - before == expected and time.monotonic() < extra_deadline:
        time.sleep(0.1)
    return count() - before


def step(report: Report, step_id: str) -> Any:
    found = report.step(step_id)
    assert found is not None, f"{step_id} did not run"
    return found


def test_ldap_wrong_password_binds_once_and_right_password_twice(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()  # a fresh saslauthd: nothing in its credential cache
    user_dn = re.escape(f"uid=alice,{lab.users_base}")
    binds = counter(lambda: lab.openldap.logs().decode("utf-8", "replace"), rf'BIND dn="{user_dn}" method=128')

    before = binds()
    wrong = diagnose_ldap(lab, container.name, "not-" + lab.users["alice"], testsaslauthd=True)
    assert settled(binds, before, 1) == 1
    assert wrong.verdict is not None and wrong.verdict.failure_id == "RC-49"
    assert step(wrong, "ldap.user_bind").status is Status.FAIL
    for skipped in ("container.saslauthd_protocol", "container.testsaslauthd"):
        result = step(wrong, skipped)
        assert result.status is Status.SKIP
        assert result.summary.startswith("skipped: the password was already rejected by ldap.user_bind")
    c2s = step(wrong, "xmpp.login.c2s")
    assert c2s.facts["xmpp.attempt"] == "probe" and "already rejected by ldap.user_bind" in c2s.summary

    before = binds()
    right = diagnose_ldap(lab, container.name, lab.users["alice"])
    # the host's bind, then saslauthd's (the login through prosody's chain); the browser's transports add none
    assert settled(binds, before, 2) == 2
    assert right.verdict is not None and right.verdict.failure_id is None
    assert step(right, "container.saslauthd_protocol").status is Status.PASS


def test_internal_wrong_password_is_one_sasl_failure(tmp_path: Path, monkeypatch: Any) -> None:
    # prosody logs its password checks at debug level only
    def debug_plan(*args: Any, **kwargs: Any) -> Any:
        plan = containers.prosody_plan(*args, **kwargs)
        return dataclasses.replace(plan, environment={**plan.environment, "LOG_LEVEL": "debug"})

    monkeypatch.setattr(manager, "prosody_plan", debug_plan)
    client = docker_client()
    spec = new_spec(f"ldapcheck-once-{secrets.token_hex(3)}", 20, auth="internal", web=True)
    paths = LabPaths(tmp_path)
    prepare_files(spec, paths)
    started = start_services(client, spec, paths)
    try:
        prosody = started["prosody"]
        register(prosody, "bob", spec.xmpp_domain, "bob-right-pw")
        logs = lambda: prosody.logs().decode("utf-8", "replace")  # noqa: E731
        # auth_internal_hashed's debug line for every SASL PLAIN password check, right or wrong
        checks = counter(logs, r"auth_internal_hashed\s+debug\s+test password for user 'bob'")
        env = {**spec.jitsi_env(), "PUBLIC_URL": spec.public_url}
        inside = lambda: start_container(ContainerOptions(container=str(prosody.name)))  # noqa: E731

        before = checks()
        wrong = diagnose_jitsi(env, env_file=None, user="bob", password=Secret("bob-wrong-pw"), inside=inside())
        assert settled(checks, before, 1) == 1
        assert wrong.verdict is not None and wrong.verdict.failure_id is not None
        attempts = [s for s in wrong.steps if s.facts.get("xmpp.attempt") == "password"]
        assert len(attempts) == 1, [(s.id, s.facts) for s in wrong.steps if s.id.startswith("xmpp.login")]

        before = checks()
        right = diagnose_jitsi(env, env_file=None, user="bob", password=Secret("bob-right-pw"), inside=inside())
        assert settled(checks, before, 1) == 1
        assert right.verdict is not None and right.verdict.failure_id is None, right.verdict
    finally:
        for container in started.values():
            container.remove(force=True)
