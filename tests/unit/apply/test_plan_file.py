"""The planned-change file (spse_change/apply/plan_file.py, docs/planned-change.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from spse_change.apply.plan_file import parse_planned_change, read_planned_change
from spse_change.errors import SpseChangeError
from spse_change.yamlfile import Reader

DOC = Path(__file__).resolve().parents[3] / "docs" / "planned-change.md"


def doc_example() -> str:
    return re.search(r"```yaml\n(# naikkan-work-mem.yml\n.*?)```", DOC.read_text(), re.S).group(1)


def test_the_documented_example_loads(tmp_path):
    path = tmp_path / "naikkan-work-mem.yml"
    path.write_text(doc_example())
    change = read_planned_change(path)
    assert change.title == "Naikkan work_mem"
    assert change.hosts == "db1"
    assert dict(change.settings.postgresql) == {"work_mem": "16MB"}
    assert change.evaluation["urgency"] == "Mendesak"
    assert change.to_json()["settings"]["apache"] == {}


def parse(settings, **top):
    doc = {"title": "t", "reason": "r", "hosts": "db1", "settings": settings, **top}
    return parse_planned_change(yaml.safe_load(yaml.safe_dump(doc)), Reader("c.yml"))


def refused(settings, **top) -> str:
    with pytest.raises(SpseChangeError) as caught:
        parse(settings, **top)
    assert caught.value.code == 2 and "\n" not in caught.value.message
    return caught.value.message


def test_all_targets_and_yaml_booleans():
    change = parse({"postgresql": {"work_mem": "16MB", "fsync": True, "max_connections": 200,
                                   "pg_stat_statements.max": 5000},
                    "application_conf": {"%prod.application.log": "INFO", "jpa.debugSQL": False},
                    "instance": "spse4", "apache": {"Timeout": 300, "KeepAlive": True}},
                   hosts=["db1", "spse_app"])
    assert change.hosts == "db1:spse_app"
    assert dict(change.settings.postgresql) == {"work_mem": "16MB", "fsync": "on",
                                                 "max_connections": "200",
                                                 "pg_stat_statements.max": "5000"}
    assert dict(change.settings.application_conf) == {"%prod.application.log": "INFO",
                                                       "jpa.debugSQL": "false"}
    assert dict(change.settings.apache) == {"Timeout": "300", "KeepAlive": "On"}
    assert change.settings.instance == "spse4"


@pytest.mark.parametrize(("settings", "top", "expected"), [
    ({"postgresql": {"work_mem": "1MB"}}, {"colour": 1}, "c.yml: colour: unknown field"),
    ({"sysctl": {"vm.swappiness": 10}}, {}, "c.yml: settings.sysctl: unknown field"),
    ({}, {}, "c.yml: settings: sets nothing"),
    ({"postgresql": {}}, {}, "c.yml: settings.postgresql: is empty"),
    ({"postgresql": {"work_mem; DROP TABLE x": "1"}}, {}, "is not a postgresql name"),
    ({"postgresql": {"Work_Mem": "1MB"}}, {}, "is not a postgresql name"),
    ({"postgresql": {"work_mem": "1MB\nfsync = off"}}, {}, "settings.postgresql.work_mem: holds a newline"),
    ({"postgresql": {"work_mem": "1MB\x00"}}, {}, "holds a newline or another control character"),
    ({"postgresql": {"work_mem": [1]}}, {}, "must be a string or a number"),
    ({"application_conf": {"a.b": "{{ lookup('pipe', 'id') }}"}}, {}, "Ansible would evaluate"),
    ({"apache": {"ServerAdmin": "x{% if 1 %}y{% endif %}"}}, {}, "Ansible would evaluate"),
    ({"application_conf": {"a.b": "x\\"}}, {}, "ends in a backslash"),
    ({"application_conf": {"a b": "x"}}, {}, "is not a application_conf name"),
    ({"instance": "spse4"}, {}, "settings.instance: narrows application_conf"),
    ({"application_conf": {"a": "b"}, "instance": "../x"}, {}, "is not an SPSE instance name"),
    ({"apache": {"ProxyPass": "/eproc4 http://127.0.0.1:9009/eproc4"}}, {},
     "settings.apache.ProxyPass: ProxyPass may appear more than once"),
    ({"apache": {"header": "set X y"}}, {}, "may appear more than once"),
    ({"apache": {"Timeout": "<Directory />"}}, {}, "would open a section"),
    ({"apache": {"ServerAdmin": "a\\1"}}, {}, "holds a backslash"),
    ({"apache": {"ServerAdmin": 'a"b'}}, {}, "leave a quote open"),
    ({"application_conf": {"db.pass": "hunter2"}}, {}, "settings.application_conf.db.pass: holds a secret"),
    ({"application_conf": {"%prod.mail.smtp.pass": "x"}}, {}, "holds a secret"),
    ({"application_conf": {"db.url": "postgres://epns:pw@db1/epns_prod"}}, {}, "holds a secret"),
    ({"postgresql": {"ssl_passphrase_command": "echo x"}}, {}, "holds a secret"),
    ({"postgresql": {"work_mem": "1MB"}}, {"hosts": "db1;rm"}, "is not a host, group or pattern"),
    ({"postgresql": {"work_mem": "1MB"}}, {"evaluation": {"urgency": "Sekarang"}},
     "c.yml: evaluation.urgency: must be one of"),
])
def test_refused_with_one_line(settings, top, expected):
    assert expected in refused(settings, **top)


def test_missing_fields_are_named():
    with pytest.raises(SpseChangeError, match=r"c.yml: reason: missing"):
        parse_planned_change({"title": "t", "hosts": "db1", "settings": {}}, Reader("c.yml"))


def test_allowed_names_about_passwords_pass():
    change = parse({"postgresql": {"password_encryption": "scram-sha-256"}})
    assert change.settings.postgresql["password_encryption"] == "scram-sha-256"
