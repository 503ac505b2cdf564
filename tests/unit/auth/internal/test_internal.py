"""auth/internal: the account listing's parser and encoding, and the verdict rules over structured facts."""

from __future__ import annotations

from ldapcheck.auth import modes
from ldapcheck.auth.internal import accounts
from ldapcheck.auth.internal.steps import ACCOUNT, CONFIG, WHERE
from ldapcheck.core.model import Status, StepResult
from ldapcheck.core.verdict import decide
from ldapcheck.jitsi import login


def ok(step_id: str, **facts: object) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=Status.PASS, summary="x", facts=facts)


def fail(step_id: str, failure_id: str, **facts: object) -> StepResult:
    return StepResult(
        id=step_id, title=step_id, status=Status.FAIL, summary="x", failure_id=failure_id, hint="h", facts=facts
    )


RULES = modes()["internal"].verdict_rules


def test_encode_is_datamanager_s() -> None:
    assert accounts.encode("meet.jitsi") == "meet%2ejitsi"
    assert accounts.encode("auth.meet.jitsi") == "auth%2emeet%2ejitsi"
    assert accounts.decode("auth%2emeet%2ejitsi") == "auth.meet.jitsi"
    assert accounts.node("Alice@meet.jitsi") == "alice"


def test_parse_the_listing() -> None:
    out = (
        "@@data /var/lib/prosody/data\n"
        "@@host /var/lib/prosody/data meet%2ejitsi 3 0 0\n"
        "@@host /var/lib/prosody/data auth%2emeet%2ejitsi 2 1 0\n"
        "@@data /config/data\n"
        "@@host /config/data meet%2ejitsi 1 1 1\n"
    )
    storage = accounts.parse(out)
    assert storage.data_paths == ["/var/lib/prosody/data", "/config/data"]
    found = storage.where(True)
    assert [(h.data_path, h.host, h.disabled) for h in found] == [
        ("/var/lib/prosody/data", "auth.meet.jitsi", False),
        ("/config/data", "meet.jitsi", True),
    ]
    assert found[0].file("alice") == "/var/lib/prosody/data/auth%2emeet%2ejitsi/accounts/alice.dat"


def test_the_script_never_reads_a_stored_key() -> None:
    assert "cat " not in accounts.SCRIPT
    assert "stored_key" not in accounts.SCRIPT


def test_a_healthy_login_needs_no_restart() -> None:
    results = [ok(CONFIG), ok(ACCOUNT, **{WHERE: "present"}), ok(login.BOSH, **{login.SUCCESS: True})]
    verdict = decide(results, RULES, login="alice")
    assert verdict is not None and verdict.failure_id is None
    assert "No restart is needed" in verdict.cause


def test_not_authorized_with_the_account_present_is_badpass() -> None:
    refused = fail(
        login.BOSH,
        "XMPP-SASL",
        **{login.ATTEMPT: "password", login.CONDITION: "not-authorized", login.SUCCESS: False},
    )
    results = [ok(CONFIG), ok(ACCOUNT, **{WHERE: "present"}), refused]
    verdict = decide(results, RULES, login="alice")
    assert verdict is not None and verdict.failure_id == "INT-BADPASS"
    assert not verdict.recreate


def test_the_account_rules_come_before_the_login_failure() -> None:
    refused = fail(login.BOSH, "XMPP-SASL", **{login.ATTEMPT: "password", login.CONDITION: "not-authorized"})
    for fid, where in (("INT-NOUSER", "missing"), ("INT-DOMAIN", "other-host"), ("INT-CFGPATH", "other-path")):
        verdict = decide([ok(CONFIG), fail(ACCOUNT, fid, **{WHERE: where}), refused], RULES, login="alice")
        assert verdict is not None and verdict.failure_id == fid
        assert "No restart is needed" in verdict.hint


def test_env_drift_says_recreate_not_restart() -> None:
    results = [ok("container.find"), fail("container.env_drift", "JM-RECREATE"), ok(ACCOUNT, **{WHERE: "present"})]
    verdict = decide(results, RULES, login="alice")
    assert verdict is not None and verdict.failure_id == "JM-RECREATE"
    assert verdict.recreate and "not restart" in verdict.hint


def test_still_token_and_web_and_jicofo() -> None:
    verdict = decide([fail(CONFIG, "INT-MODE-STILL-TOKEN")], RULES, login="alice")
    assert verdict is not None and verdict.failure_id == "INT-MODE-STILL-TOKEN"
    web = [fail(login.BOSH, "WEB-BOSH"), ok(login.C2S, **{login.SUCCESS: True}), fail("jicofo.auth", "JICOFO-AUTH-OFF")]
    verdict = decide(web, RULES, login="alice")
    assert verdict is not None and verdict.failure_id == "WEB-BOSH"
    split = [fail("jitsi.env_split", "ENV-SPLIT"), fail("jicofo.auth", "JICOFO-LOGINURL")]
    verdict = decide(split, RULES, login="alice")
    assert verdict is not None and verdict.failure_id == "JICOFO-LOGINURL"


def test_a_login_that_works_without_the_container_says_so() -> None:
    verdict = decide([ok(login.BOSH, **{login.SUCCESS: True})], RULES, login="alice")
    assert verdict is not None and verdict.failure_id is None
    assert "alice can log in" in verdict.cause and "not inspected" in verdict.cause


def test_package_host_setup_is_named_before_what_it_breaks() -> None:
    """On a Debian-package host: the site's file not linked into conf.d explains the missing VirtualHost, and a
    stopped prosody comes after it; with the host set up, the account rules speak as in docker."""
    refused = fail(login.BOSH, "XMPP-SASL", **{login.ATTEMPT: "password", login.CONDITION: "not-authorized"})
    rows = [
        ([fail("host.conf_links", "HOST-CONF-UNLINKED"), fail(CONFIG, "JM-AUTH-TYPE"), refused], "HOST-CONF-UNLINKED"),
        ([fail("host.services", "HOST-SERVICE"), fail("host.conf_links", "HOST-CONF-UNLINKED")], "HOST-CONF-UNLINKED"),
        ([ok("host.services"), ok("host.conf_links"), ok(CONFIG), fail(ACCOUNT, "INT-DOMAIN"), refused], "INT-DOMAIN"),
        ([fail("host.services", "HOST-SERVICE"), ok(CONFIG)], "HOST-SERVICE"),
    ]
    for results, fid in rows:
        verdict = decide(results, RULES, login="alice")
        assert verdict is not None and verdict.failure_id == fid, results
