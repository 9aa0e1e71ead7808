"""What a planned change touches on one host, read from the host's baseline.

`host_targets` gives the role its per-host variables (cluster port, data
directory and service; Apache's main config file, the SPSE site file and
service; each SPSE instance's application.conf and start script; the HTTPS
address to check). `planned_baseline` is the baseline as
it will be once the change is applied, so the plan is classified by the
same policy, and checked by the same diff, as the apply's real result.

    targets = host_targets(approved)             # -> spse_apply_hosts[host]
    after = planned_baseline(approved, change.settings, rows)
    report = diff_baselines(approved, after, policy)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from spse_change.apply.pg_values import to_setting
from spse_change.apply.plan_file import Settings
from spse_change.diff import Policy, diff_baselines
from spse_change.diff.flatten import join
from spse_change.errors import SpseChangeError

APACHE_SERVICES = ("apache2", "httpd")


def host_targets(baseline: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """The role's per-host variables, or one line saying what the baseline lacks."""
    host = baseline["host"]
    found: dict[str, Any] = {}
    if settings.postgresql:
        port, cluster = _cluster(baseline)
        found.update(pg_port=int(port), pg_data_directory=cluster["data_directory"],
                     pg_service=_pg_service(baseline))
    apache = baseline["discovery"].get("apache") or {}
    if settings.apache:
        if not apache.get("config_file"):
            raise SpseChangeError(f"{host}: its baseline found no Apache")
        found.update(apache_config_file=apache["config_file"], apache_site_file=site_file(baseline),
                     apache_service=_apache_service(baseline))
    instances = (baseline["data"].get("spse") or {}).get("instances") or {}
    if settings.application_conf:
        found["app_instances"] = app_instances(baseline, settings.instance)
    paths = sorted({i.get("http_path") for i in instances.values() if i.get("http_path")})
    if apache and paths and "spse_app" in baseline.get("groups", ()):
        found["https_url"] = f"https://127.0.0.1{paths[0]}"
    return found


def app_instances(baseline: Mapping[str, Any], only: str | None) -> list[dict[str, str]]:
    """The SPSE instances a change of application.conf edits: name, the file, the start script."""
    host = baseline["host"]
    instances = (baseline["data"].get("spse") or {}).get("instances") or {}
    config = baseline["data"].get("config") or {}
    names = sorted(instances) if only is None else [only]
    if not names or (only is not None and only not in instances):
        raise SpseChangeError(f"{host}: its baseline found no SPSE instance"
                              + (f" named {only}" if only is not None else ""))
    found = []
    for name in names:
        path = instances[name].get("path") or ""
        conf = f"{path}/webapp/conf/application.conf"
        if conf not in config:
            raise SpseChangeError(f"{host}: its baseline has no {conf} (SPSE instance {name})")
        found.append({"name": name, "conf": conf, "script": f"{path}/spse4"})
    return found


def _cluster(baseline: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The cluster SPSE uses: the one the capture filed as `database`."""
    clusters = baseline["discovery"].get("postgresql") or {}
    chosen = [(port, c) for port, c in clusters.items() if c.get("category") == "database"]
    if len(chosen) != 1 or not chosen[0][1].get("data_directory"):
        raise SpseChangeError(f"{baseline['host']}: its baseline names no PostgreSQL cluster for SPSE")
    return chosen[0]


def _pg_service(baseline: Mapping[str, Any]) -> str:
    services = baseline["data"].get("services") or {}
    running = sorted(n for n, s in services.items()
                     if n.startswith("postgresql") and s.get("state") == "running")
    if len(running) != 1:
        raise SpseChangeError(f"{baseline['host']}: cannot tell PostgreSQL's service from its "
                              f"baseline (running: {', '.join(running) or 'none'})")
    return running[0]


def _apache_service(baseline: Mapping[str, Any]) -> str:
    services = baseline["data"].get("services") or {}
    for name in APACHE_SERVICES:
        if name in services:
            return name
    raise SpseChangeError(f"{baseline['host']}: no apache2 or httpd service in its baseline")


def site_file(baseline: Mapping[str, Any]) -> str:
    """The SPSE site file: the one Apache file that proxies to the application (`ProxyPass`)."""
    config = baseline["data"].get("config") or {}
    found = sorted(path for path, entry in config.items()
                   if entry.get("kind") == "apache_conf" and _has(entry.get("parsed"), "proxypass"))
    if len(found) != 1:
        raise SpseChangeError(f"{baseline['host']}: cannot tell the SPSE site file from its baseline "
                              f"(Apache files with ProxyPass: {', '.join(found) or 'none'})")
    return found[0]


def _has(tree: Any, directive: str) -> bool:
    if not isinstance(tree, Mapping):
        return False
    return any(k.lower() == directive or _has(v, directive) for k, v in tree.items())


def auto_conf(baseline: Mapping[str, Any]) -> str:
    """postgresql.auto.conf of the SPSE cluster: where ALTER SYSTEM writes."""
    return f"{_cluster(baseline)[1]['data_directory']}/postgresql.auto.conf"


def planned_baseline(baseline: Mapping[str, Any], settings: Settings,
                     rows: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The baseline as the change will leave it (PostgreSQL's view of each value from `rows`)."""
    after = copy.deepcopy(dict(baseline))
    data = after["data"]
    if settings.postgresql:
        auto = auto_conf(baseline)
        live = data.setdefault("database", {}).setdefault("settings", {})
        written = data.setdefault("config", {}).setdefault(auto, {}).setdefault("parsed", {})
        for name, value in settings.postgresql.items():
            entry = live.setdefault(name, {"unit": rows[name].get("unit"), "pending_restart": False})
            entry.update(setting=to_setting(value, rows[name]), source="configuration file",
                         sourcefile=auto)
            written[name] = value
    if settings.apache:
        parsed = data["config"][site_file(baseline)].setdefault("parsed", {})
        for directive, value in settings.apache.items():
            section = _section_of(parsed, directive)
            key = next((k for k in section if k.lower() == directive.lower()), directive)
            section[key] = [value]
    for conf in _conf_files(baseline, settings):
        data["config"][conf].setdefault("parsed", {}).update(settings.application_conf)
    return after


def _conf_files(baseline: Mapping[str, Any], settings: Settings) -> list[str]:
    if not settings.application_conf:
        return []
    return [i["conf"] for i in app_instances(baseline, settings.instance)]


def _section_of(parsed: dict[str, Any], directive: str) -> dict[str, Any]:
    """Where the role writes the directive: where it is, else the only VirtualHost, else the top."""
    vhosts = [v for k, v in parsed.items() if k.startswith("VirtualHost") and isinstance(v, dict)]
    for section in (parsed, *vhosts):
        if any(k.lower() == directive.lower() for k in section):
            return section
    return vhosts[0] if len(vhosts) == 1 else parsed


def planned_prefixes(baseline: Mapping[str, Any], settings: Settings) -> tuple[str, ...]:
    """The flat paths a change may touch: its live settings and the files that carry them."""
    prefixes = []
    if settings.postgresql:
        prefixes += [join("database.settings", name) for name in settings.postgresql]
        prefixes.append(join("config", auto_conf(baseline)))
    if settings.apache:
        prefixes.append(join("config", site_file(baseline)))
    prefixes += [join("config", conf) for conf in _conf_files(baseline, settings)]
    return tuple(prefixes)


def written_paths(baseline: Mapping[str, Any], settings: Settings, policy: Policy) -> set[str]:
    """The file lines a change writes: each must show in the apply's diff (a live value may not)."""
    paths = set()
    if settings.postgresql:
        parsed = join("config", auto_conf(baseline)) + ".parsed"
        paths |= {join(parsed, name) for name in settings.postgresql}
    if settings.apache:
        files_only = Settings(apache=settings.apache)
        planned = diff_baselines(baseline, planned_baseline(baseline, files_only, {}), policy)
        paths |= {item.change.path for item in planned.items}
    for conf in _conf_files(baseline, settings):
        paths |= {join(join("config", conf) + ".parsed", key) for key in settings.application_conf}
    return paths
