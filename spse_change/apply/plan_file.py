"""The planned-change file an admin writes (docs/planned-change.md), read and checked before
anything reaches a host.

Every mistake is one line naming the file and the field, exit 2: an unknown
field or target, a name that is not a plain identifier, a value that would
break the file it lands in (a newline, a control character, a trailing
backslash), a key that holds a secret (rotate secrets outside the toolkit:
judged by the same name patterns and value shapes as capture), and Apache
directives that may repeat (``ProxyPass``…), which one ``DIRECTIVE: VALUE``
cannot name unambiguously.

    change = read_planned_change(Path("naikkan-work-mem.yml"))
    change.settings.postgresql  # {"work_mem": "16MB"}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from spse_change.project import CODE_ROOT, role_code
from spse_change.records.fields import check_evaluation, plain
from spse_change.yamlfile import Reader, load_yaml

TOP_FIELDS = frozenset({"title", "reason", "hosts", "settings", "evaluation"})
TARGETS = frozenset({"postgresql", "application_conf", "instance", "apache"})

# Names, checked here and again in roles/spse_apply (the same expressions).
PG_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?\Z")
CONF_KEY = re.compile(r"(%[A-Za-z0-9_-]+\.)?[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}\Z")
APACHE_DIRECTIVE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}\Z")
INSTANCE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\Z")
TEMPLATE = re.compile(r"\{[{%#]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Apache directives that may appear more than once in one context (or open a section): setting
# "the" value of one is meaningless; change them in the site file by hand, under a record.
REPEATABLE_APACHE = frozenset(name.lower() for name in (
    "ProxyPass", "ProxyPassMatch", "ProxyPassReverse", "ProxyPassReverseCookieDomain",
    "ProxyPassReverseCookiePath", "ProxySet", "BalancerMember", "Alias", "AliasMatch",
    "ScriptAlias", "ScriptAliasMatch", "Redirect", "RedirectMatch", "RedirectPermanent",
    "RedirectTemp", "Header", "RequestHeader", "RewriteRule", "RewriteCond", "RewriteMap",
    "SetEnv", "SetEnvIf", "SetEnvIfNoCase", "UnsetEnv", "PassEnv", "BrowserMatch",
    "Include", "IncludeOptional", "LoadModule", "Listen", "AddType", "AddHandler",
    "AddOutputFilterByType", "AddEncoding", "AddCharset", "AddLanguage", "ErrorDocument",
    "Require", "Allow", "Deny", "Order", "SecRule", "SecAction", "SecRuleRemoveById",
    "ServerAlias", "LogFormat", "CustomLog", "Define", "Use",
))

SECRETS_MODULE = "roles/spse_baseline/module_utils/spse_secrets.py"
BASELINE_DEFAULTS = CODE_ROOT / "roles/spse_baseline/defaults/main.yml"


@dataclass(frozen=True)
class Settings:
    """What to set, per target; values are the text written (PostgreSQL checks its own)."""

    postgresql: Mapping[str, str] = field(default_factory=dict)
    application_conf: Mapping[str, str] = field(default_factory=dict)
    instance: str | None = None
    apache: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"postgresql": dict(self.postgresql), "application_conf": dict(self.application_conf),
                "instance": self.instance, "apache": dict(self.apache)}


@dataclass(frozen=True)
class PlannedChange:
    title: str
    reason: str
    hosts: str  # an inventory pattern (a list in the file is joined with ':')
    settings: Settings
    evaluation: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "reason": self.reason, "hosts": self.hosts,
                "settings": self.settings.to_json(), "evaluation": dict(self.evaluation)}


def read_planned_change(path: Path) -> PlannedChange:
    """The checked planned change, or one line naming the file and field (exit 2)."""
    return parse_planned_change(load_yaml(path), Reader(str(path)))


def parse_planned_change(doc: Any, reader: Reader) -> PlannedChange:
    doc = reader.mapping(doc, "top level", TOP_FIELDS)
    for name in ("title", "reason", "hosts", "settings"):
        if name not in doc:
            reader.fail(name, "missing")
    hosts = reader.texts(doc["hosts"], "hosts")
    for host in hosts:
        if CONTROL.search(host) or not re.fullmatch(r"[A-Za-z0-9_.:*!&\[\]~^-]+", host):
            reader.fail("hosts", f"{host!r} is not a host, group or pattern of the inventory")
    evaluation = plain(doc.get("evaluation") or {})
    check_evaluation(evaluation, reader)
    return PlannedChange(
        title=_line(reader.text(doc["title"], "title"), reader, "title"),
        reason=_line(reader.text(doc["reason"], "reason"), reader, "reason"),
        hosts=":".join(hosts), settings=_settings(doc["settings"], reader), evaluation=evaluation)


def _settings(value: Any, reader: Reader) -> Settings:
    settings = reader.mapping(value, "settings", TARGETS)
    instance = settings.get("instance")
    if instance is not None:
        if "application_conf" not in settings:
            reader.fail("settings.instance", "narrows application_conf, which is not given")
        if not INSTANCE.match(reader.text(instance, "settings.instance")):
            reader.fail("settings.instance", f"{instance!r} is not an SPSE instance name")
    found = Settings(
        postgresql=_target(settings, "postgresql", PG_NAME, _pg_value, reader),
        application_conf=_target(settings, "application_conf", CONF_KEY, _conf_value, reader),
        instance=instance,
        apache=_target(settings, "apache", APACHE_DIRECTIVE, _apache_value, reader))
    if not (found.postgresql or found.application_conf or found.apache):
        reader.fail("settings", "sets nothing (give postgresql, application_conf or apache)")
    return found


def _target(settings: Mapping[str, Any], target: str, name_re: re.Pattern[str],
            check_value: Any, reader: Reader) -> dict[str, str]:
    if target not in settings:
        return {}
    entries = reader.mapping(settings[target], f"settings.{target}")
    if not entries:
        reader.fail(f"settings.{target}", "is empty")
    scrubber = _scrubber()
    checked = {}
    for name, value in entries.items():
        where = f"settings.{target}.{name}"
        if not name_re.match(name):
            reader.fail(where, f"{name!r} is not a {target} name")
        if target == "apache" and name.lower() in REPEATABLE_APACHE:
            reader.fail(where, f"{name} may appear more than once; change it in the site file by hand")
        text = check_value(_text_of(value, target, reader, where), reader, where)
        if scrubber.is_secret_name(name) or scrubber.line(text) != text:
            reader.fail(where, "holds a secret; rotate secrets outside spse-change")
        checked[name] = text
    return checked


BOOLEAN_WORDS = {"postgresql": ("on", "off"), "application_conf": ("true", "false"),
                 "apache": ("On", "Off")}


def _text_of(value: Any, target: str, reader: Reader, where: str) -> str:
    """YAML's scalars as the file writes them (`on` in YAML is a boolean)."""
    if isinstance(value, bool):
        yes, no = BOOLEAN_WORDS[target]
        return yes if value else no
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        reader.fail(where, "must be a string or a number")
    return value


def _line(text: str, reader: Reader, where: str) -> str:
    if CONTROL.search(text):
        reader.fail(where, "holds a newline or another control character")
    if TEMPLATE.search(text):  # the value travels as an Ansible variable, which Jinja2 would run
        reader.fail(where, "holds '{{', '{%' or '{#', which Ansible would evaluate as a template")
    return text


def _pg_value(text: str, reader: Reader, where: str) -> str:
    """Any text: it travels to ALTER SYSTEM as a psql variable, and PostgreSQL quotes it."""
    return _line(text, reader, where)


def _conf_value(text: str, reader: Reader, where: str) -> str:
    text = _line(text, reader, where)
    if text.endswith("\\"):
        reader.fail(where, "ends in a backslash, which would join the next line of application.conf")
    if text != text.strip():
        reader.fail(where, "starts or ends with blanks, which application.conf drops")
    return text


def _apache_value(text: str, reader: Reader, where: str) -> str:
    text = _line(text, reader, where)
    if not text.strip():
        reader.fail(where, "is empty")
    if "\\" in text:
        reader.fail(where, "holds a backslash (an escape or a line joined to the next in the site file)")
    if text.lstrip().startswith("<") or text.count('"') % 2:
        reader.fail(where, "would open a section or leave a quote open in the site file")
    return text


@cache
def _scrubber() -> Any:
    """Capture's own SecretScrubber with the shipped patterns (a dummy key: only compared)."""
    module = role_code(SECRETS_MODULE, "spse_secrets")
    defaults = yaml.safe_load(BASELINE_DEFAULTS.read_text(encoding="utf-8"))
    patterns = (defaults["spse_baseline_secret_patterns"]
                + defaults["spse_baseline_extra_secret_patterns"])
    return module.SecretScrubber(b"\0" * 32, patterns)
