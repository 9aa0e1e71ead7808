"""The standard checks, run by the real pytest plugin on snapshots: pass, fail naming the cause, waived."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from spse_change.errors import SpseChangeError
from spse_change.verify.junit import junit_xml
from spse_change.verify.service import run_checks
from tests.unit.verify.conftest import HBA, SECRET, snapshot

STANDARD = sorted(["app-answers", "apache-configtest", "db-backup-job", "free-space", "https-cert",
            "pg-hba-no-trust", "pg-listen", "ssh-key-only", "time-sync"])
TODAY = dt.date(2026, 11, 28)


def outcomes(results, host="aio1"):
    return {r.check: (r.outcome, r.message) for r in results if r.host == host}


def test_a_healthy_host_passes_every_standard_check(project, data, facts):
    results = run_checks(project, {"aio1": snapshot(data=data, facts=facts)}, today=TODAY)
    found = outcomes(results)
    assert sorted(c for c in found if c != "conformance") == STANDARD
    assert {c: o for c, o in found.items() if c != "conformance"} == {c: ("passed", "") for c in STANDARD}
    assert found["conformance"][0] == "failed" and "no approved baseline" in found["conformance"][1]


@pytest.mark.parametrize(("check", "breaks", "says"), [
    ("pg-hba-no-trust",
     lambda d, f: d["config"][HBA]["parsed"]["rules"].update(
         {"host all all 0.0.0.0/0": {"order": 3, "method": "trust", "options": {}}}),
     f"{HBA}: host all all 0.0.0.0/0"),
    ("ssh-key-only", lambda d, f: f["sshd"]["settings"].update(passwordauthentication="yes"),
     "passwordauthentication yes"),
    ("pg-listen", lambda d, f: d["ports"].update({"tcp/0.0.0.0:5432": {"process": "postgres"}}),
     "0.0.0.0:5432 (database: listen_addresses='localhost')"),
    ("apache-configtest", lambda d, f: f["apache_configtest"].update(rc=1, output="Syntax error on line 3"),
     "exited 1: Syntax error on line 3"),
    ("https-cert", lambda d, f: f["https"].update(not_after=f["https"]["not_after"] - 350 * 86400),
     "at least 30 wanted"),
    ("https-cert", lambda d, f: f["https"].update(not_after=1_000_000_000), "expired on 2001-09-09"),
    ("app-answers", lambda d, f: f["https"].update(status=502), "answered 502"),
    ("time-sync", lambda d, f: d["os"]["time_sync"].update(synchronized=False), "not synchronised"),
    ("db-backup-job", lambda d, f: d["config"]["/etc/cron.d/spse-backup"]["parsed"].update(entries=[]),
     "no cron entry runs"),
    ("free-space", lambda d, f: f["volumes"]["/var/lib/postgresql"].update(free_bytes=2**28),
     "/var/lib/postgresql (on /var/lib/postgresql): 256 MB free, 2.5%"),
])
def test_each_check_fails_naming_the_cause(project, data, facts, check, breaks, says):
    breaks(data, facts)
    found = outcomes(run_checks(project, {"aio1": snapshot(data=data, facts=facts)}, today=TODAY))
    assert found[check][0] == "failed"
    assert says in found[check][1]
    assert sorted(c for c, (o, _m) in found.items() if o == "failed") == sorted([check, "conformance"])


def test_checks_run_only_on_hosts_of_their_groups(project):
    app = snapshot("app1")
    app.baseline["groups"] = ["spse_app"]
    results = run_checks(project, {"app1": app}, today=TODAY)
    found = outcomes(results, "app1")
    assert "pg-hba-no-trust" not in found and "db-backup-job" not in found
    assert "apache-configtest" in found
    assert {r.host for r in results} == {"app1"}  # a db-only check with no db host is no result


def test_a_secret_marker_quoted_by_a_check_is_masked(project, facts):
    facts["apache_configtest"].update(rc=1, output=f"SSLPassPhraseDialog {SECRET}: bad")
    found = outcomes(run_checks(project, {"aio1": snapshot(facts=facts)}, today=TODAY))
    assert found["apache-configtest"] == ("failed", "/usr/sbin/apache2ctl -t exited 1: "
                                                    "SSLPassPhraseDialog ***: bad")


def test_thresholds_are_settings(project, facts):
    facts["https"]["not_after"] = int(dt.datetime.now().timestamp()) + 40 * 86400
    (project.root / "verify.yml").write_text("settings: {cert_min_days: 60}\n")
    found = outcomes(run_checks(project, {"aio1": snapshot(facts=facts)}, today=TODAY))
    assert found["https-cert"][0] == "failed" and "at least 60 wanted" in found["https-cert"][1]


def waive(project, expires, check="pg-hba-no-trust"):
    (project.root / "waivers.yml").write_text(
        f"waivers:\n  - {{host: aio1, check: {check}, reason: migrasi ke scram, expires: {expires}}}\n")


def trusting(data):
    data["config"][HBA]["parsed"]["rules"]["local all all -"] = {"order": 3, "method": "trust",
                                                                 "options": {}}
    return snapshot(data=data)


def hba_result(project, data, today):
    return next(r for r in run_checks(project, {"aio1": trusting(data)}, today=today)
                if r.check == "pg-hba-no-trust")


def test_a_waiver_until_today_waives_and_an_expired_one_says_so(project, data):
    waive(project, "2026-11-28")
    result = hba_result(project, data, TODAY)
    assert (result.outcome, result.waiver) == ("waived", "waived until 2026-11-28: migrasi ke scram")
    result = hba_result(project, data, TODAY + dt.timedelta(1))
    assert result.outcome == "failed"
    assert result.waiver == "waiver expired on 2026-11-28 (migrasi ke scram)"


def test_junit_names_host_and_check(project, data):
    waive(project, "2027-01-01", check="conformance")
    xml = junit_xml(run_checks(project, {"aio1": trusting(data)}, today=TODAY))
    root = ET.fromstring(xml)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["pg-hba-no-trust"].get("classname") == "aio1"
    failure = cases["pg-hba-no-trust"].find("failure")
    assert "local all all -" in failure.get("message")
    assert cases["conformance"].find("skipped") is not None
    assert cases["ssh-key-only"].find("failure") is None
    suite = root.find("testsuite")
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "1")


@pytest.mark.parametrize(("text", "says"), [
    ("waivers: [{host: aio1, check: pg-hba-no-trust, reason: x}]", "waivers[0]: missing expires"),
    ("waivers: [{host: aio1, check: pg-hba-no-trus, reason: x, expires: 2027-01-01}]",
     "waivers[0].check: unknown check id 'pg-hba-no-trus'"),
    ("waivers: [{host: aio1, check: free-space, reason: x, expires: soon}]",
     "waivers[0].expires: must be a date YYYY-MM-DD"),
    ("waivers: {}", "must hold 'waivers:' with a list"),
])
def test_bad_waivers_are_one_line_naming_the_entry(project, text, says):
    (project.root / "waivers.yml").write_text(text)
    with pytest.raises(SpseChangeError, match=r"waivers\.yml") as err:
        run_checks(project, {"aio1": snapshot()}, today=TODAY)
    assert says in err.value.message


def test_bad_settings_name_the_setting(project):
    (project.root / "verify.yml").write_text("settings: {cert_min_day: 60}\n")
    with pytest.raises(SpseChangeError, match=r"settings\.cert_min_day: unknown setting"):
        run_checks(project, {"aio1": snapshot()}, today=TODAY)
