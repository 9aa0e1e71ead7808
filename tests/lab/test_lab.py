"""The lab behaves like a set of SPSE servers, seen through Ansible over SSH.

Tests that change a host put it back. The last test takes the lab down and
checks that nothing is left behind, also after a killed `lab up`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import labctl
import pytest

pytestmark = pytest.mark.lab

LAB_CMD = Path(__file__).resolve().parent / "lab"


def ansible_bin(name: str) -> str:
    """The ansible next to the running interpreter (the project venv), else PATH's."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name) or name


def ansible(lab: labctl.Lab, tmp_path: Path, pattern: str, *args: str) -> dict[str, dict]:
    """Run an ad-hoc ansible command; return each host's result (tree callback)."""
    tree = tmp_path / f"tree-{time.monotonic_ns()}"
    env = {**lab.ansible_env(), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree",
           "ANSIBLE_CALLBACK_TREE_DIR": str(tree), "ANSIBLE_DEPRECATION_WARNINGS": "0"}
    subprocess.run([ansible_bin("ansible"), pattern, "-i", str(lab.inventory), *args],
                   env=env, capture_output=True, text=True, check=False, timeout=180)
    return {path.name: json.loads(path.read_text()) for path in tree.glob("*")}


def facts(lab: labctl.Lab, tmp_path: Path, fact: str) -> dict[str, object]:
    """One fact of every host, gathered by the setup module."""
    results = ansible(lab, tmp_path, "all", "-m", "setup", "-a", f"filter={fact}")
    assert set(results) == set(lab.hosts), results
    return {name: result["ansible_facts"][fact] for name, result in results.items()}


def mount_points(lab: labctl.Lab, tmp_path: Path) -> dict[str, set[str]]:
    """ansible_mounts of every host, as sets of mount points."""
    return {name: {m["mount"] for m in mounts}
            for name, mounts in facts(lab, tmp_path, "ansible_mounts").items()}


def https_get(ip: str, path: str) -> tuple[int, str]:
    """GET through the host's Apache (self-signed certificate)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"https://{ip}{path}", context=context, timeout=15) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def first(lab: labctl.Lab, group: str) -> labctl.Host:
    """The first host of a group, or skip when the lab is too small to have one."""
    for host in lab.hosts.values():
        if group in host.groups:
            return host
    pytest.skip(f"no {group} host with SPSE_LAB_HOSTS={len(lab.hosts)}")


def leftovers(lab_dir: Path) -> list[str]:
    """Everything of a lab still present on this machine."""
    found = []
    prefix = str(lab_dir) + "/"
    found += [f"mount {line}" for line in Path("/proc/self/mounts").read_text().splitlines()
              if prefix in line]
    loops = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
    found += [f"loop {line}" for line in loops.splitlines() if prefix in line]
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    found += [f"netns {line}" for line in netns.stdout.splitlines()
              if line.startswith(labctl.NETNS_PREFIX)]
    links = json.loads(subprocess.run(["ip", "-j", "link", "show"], capture_output=True,
                                      text=True, check=True).stdout)
    found += [f"link {link['ifname']}" for link in links
              if link["ifname"] == labctl.BRIDGE or link["ifname"].startswith(labctl.VETH_PREFIX)]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                root = os.readlink(f"/proc/{entry}/root")
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            try:
                stdout = os.readlink(f"/proc/{entry}/fd/1")
            except OSError:
                stdout = ""
            if root.startswith(prefix):
                found.append(f"process {entry} rooted at {root}")
            # a host whose folder was deleted under it: root reads "/", mountinfo is empty
            elif f"{prefix}hosts/" in cmdline or stdout.startswith(f"{prefix}hosts/"):
                found.append(f"process {entry} of the lab: {cmdline.replace(chr(0), ' ')[:120]}")
    return found


def test_inventory_has_spse_groups_and_lab_ssh_settings(lab: labctl.Lab) -> None:
    """The inventory is what the toolkit will be pointed at."""
    out = subprocess.run([ansible_bin("ansible-inventory"), "-i", str(lab.inventory), "--list"],
                         env=lab.ansible_env(), capture_output=True, text=True, check=True).stdout
    inventory = json.loads(out)
    hosts = lab.hosts
    for group in ("spse_app", "spse_db"):
        members = {name for name, host in hosts.items() if group in host.groups}
        assert set(inventory.get(group, {}).get("hosts", [])) == members
    for name, host in hosts.items():
        hostvars = inventory["_meta"]["hostvars"][name]
        assert hostvars["ansible_host"] == host.ip
        assert hostvars["ansible_user"] == "ansible"
        assert hostvars["ansible_ssh_private_key_file"] == str(lab.key)
        assert f"UserKnownHostsFile={lab.known_hosts}" in hostvars["ansible_ssh_common_args"]
        assert f"ControlPath={lab.dir}/cp/%C" in hostvars["ansible_ssh_common_args"]


def test_every_host_answers_ansible_ping(lab: labctl.Lab, tmp_path: Path) -> None:
    results = ansible(lab, tmp_path, "all", "-m", "ping")
    assert {name: r.get("ping") for name, r in results.items()} == {n: "pong" for n in lab.hosts}


def test_hosts_are_separate_debian_servers(lab: labctl.Lab, tmp_path: Path) -> None:
    """Own hostname, machine-id and SSH host key; sysvinit; Jakarta time."""
    results = ansible(lab, tmp_path, "all", "-m", "setup", "-a",
                      "filter=ansible_hostname,ansible_machine_id,ansible_service_mgr,"
                      "ansible_distribution*,ansible_date_time,ansible_default_ipv4")
    seen = {name: r["ansible_facts"] for name, r in results.items()}
    assert set(seen) == set(lab.hosts)
    assert {name: f["ansible_hostname"] for name, f in seen.items()} == {n: n for n in lab.hosts}
    assert len({f["ansible_machine_id"] for f in seen.values()}) == len(seen)
    for name, found in seen.items():
        assert found["ansible_service_mgr"] == "sysvinit"
        assert found["ansible_distribution"] == "Debian"
        major = "11" if name in lab.legacy_hosts else "12"  # bullseye / bookworm
        assert found["ansible_distribution_major_version"] == major
        assert found["ansible_date_time"]["tz_offset"] == "+0700"
        assert found["ansible_default_ipv4"]["address"] == lab.hosts[name].ip
    keys = [line.split()[2] for line in lab.known_hosts.read_text().splitlines()]
    assert len(set(keys)) == len(keys) == 3 * len(lab.hosts)


def test_postgres_answers_as_postgres_through_become(lab: labctl.Lab, tmp_path: Path) -> None:
    db = first(lab, "spse_db")
    results = ansible(lab, tmp_path, "spse_db", "-b", "--become-user", "postgres",
                      "-m", "command", "-a", "psql -XAtc 'SHOW shared_buffers'")
    assert db.name in results
    for name, result in results.items():
        assert result.get("rc") == 0, (name, result)
        assert result["stdout"] == "128MB"
    rows = db.exec(["runuser", "-u", "postgres", "--", "psql", "-XAt", "-d", "epns_prod",
                    "-c", "SELECT count(*) FROM paket"]).stdout.strip()
    assert int(rows) > 0


def test_https_through_apache_reaches_the_app(lab: labctl.Lab) -> None:
    app = first(lab, "spse_app")
    for host in lab.hosts.values():
        if "spse_app" not in host.groups:
            continue
        status, body = https_get(host.ip, "/eproc4/")
        if host.db_host is None:
            assert status == 500, body  # a lone app host has no database to ask
        else:
            assert status == 200, body
            assert re.search(r"jumlah paket: \d+", body)
    assert app.exec("ls /home/file/file_prod").stdout.split()


def test_app_sql_and_errors_show_in_both_logs(lab: labctl.Lab, tmp_path: Path) -> None:
    app = next((h for h in lab.hosts.values() if "spse_app" in h.groups and h.db_host), None)
    if app is None:
        pytest.skip("no app host with a database")
    db = lab.hosts[app.db_host]
    assert https_get(app.ip, "/eproc4/")[0] == 200
    assert https_get(app.ip, "/eproc4/error")[0] == 500
    log_dir = "/var/lib/postgresql/15/main/log"
    pattern = f"user=epns,db=epns_prod,app=spse4,client={'127.0.0.1' if db is app else app.ip}"
    for expected in ("jumlah_paket", 'relation "paket_arsip" does not exist'):
        deadline = time.monotonic() + 10
        while True:
            found = db.exec(["grep", "-rhF", expected, log_dir], check=False).stdout
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert expected in found
    assert pattern in db.exec(["grep", "-rhF", "jumlah_paket", log_dir]).stdout
    applog = app.exec("cat /home/appserv/spse/webapp/logs/spse4.log").stdout
    assert re.search(r"^\d\d:\d\d:\d\d,\d{3} INFO  ~ GET /eproc4/ 200 \d+ms$", applog, re.M)
    assert re.search(r"^\d\d:\d\d:\d\d,\d{3} ERROR ~ ", applog, re.M)
    assert "\tat play.mvc.ActionInvoker.invoke(ActionInvoker.java:237)" in applog
    # and the toolkit sees the same through Ansible
    result = ansible(lab, tmp_path, db.name, "-b", "-m", "shell", "-a",
                     f"grep -rlF jumlah_paket {log_dir}")[db.name]
    assert result.get("rc") == 0, result


def test_add_nic_changes_only_that_host(lab: labctl.Lab, tmp_path: Path) -> None:
    host = next(iter(lab.hosts.values()))
    before = facts(lab, tmp_path, "ansible_interfaces")
    nic = lab.add_nic(host)
    try:
        after = facts(lab, tmp_path, "ansible_interfaces")
        assert set(after[host.name]) == set(before[host.name]) | {nic["name"]}
        assert {n: set(v) for n, v in after.items() if n != host.name} == \
               {n: set(v) for n, v in before.items() if n != host.name}
        link = host.exec(["ip", "-j", "link", "show", nic["name"]]).stdout
        assert json.loads(link)[0]["address"] == nic["mac"]
    finally:
        lab.remove_nic(host, nic["name"])
    restored = facts(lab, tmp_path, "ansible_interfaces")
    assert {n: set(v) for n, v in restored.items()} == {n: set(v) for n, v in before.items()}


def test_add_disk_changes_only_that_host(lab: labctl.Lab, tmp_path: Path) -> None:
    host = list(lab.hosts.values())[-1]
    before = mount_points(lab, tmp_path)
    disk = lab.add_disk(host, 64)
    try:
        after = mount_points(lab, tmp_path)
        assert after[host.name] == before[host.name] | {disk["mountpoint"]}
        assert {n: v for n, v in after.items() if n != host.name} == \
               {n: v for n, v in before.items() if n != host.name}
        mounts = host.exec("cat /proc/mounts").stdout
        assert f" {disk['mountpoint']} ext4 " in mounts
        host.exec(["sh", "-c", f"echo data > {disk['mountpoint']}/probe"])
    finally:
        lab.remove_disk(host, disk["mountpoint"])
    assert mount_points(lab, tmp_path) == before


def test_stop_makes_host_unreachable_and_start_restores_it(lab: labctl.Lab,
                                                           tmp_path: Path) -> None:
    host = next(iter(lab.hosts.values()))
    others = [name for name in lab.hosts if name != host.name]
    host.exec("echo kept > /root/before-stop")
    disk = lab.add_disk(host, 32)
    lab.stop(host)
    try:
        results = ansible(lab, tmp_path, "all", "-m", "ping")
        assert results[host.name].get("unreachable") is True, results[host.name]
        assert all(results[name].get("ping") == "pong" for name in others)
        with pytest.raises(labctl.LabError, match="not running"):
            host.exec("true")
    finally:
        lab.start(host)
    try:
        assert ansible(lab, tmp_path, host.name, "-m", "ping")[host.name].get("ping") == "pong"
        assert host.exec("cat /root/before-stop").stdout == "kept\n"
        assert f" {disk['mountpoint']} ext4 " in host.exec("cat /proc/mounts").stdout
    finally:
        lab.remove_disk(host, disk["mountpoint"])
    if "spse_app" in host.groups and host.db_host:
        assert https_get(host.ip, "/eproc4/")[0] == 200


@pytest.fixture
def legacy(lab: labctl.Lab) -> labctl.Host:
    """The first legacy host, or skip when the lab has none (SPSE_LAB_LEGACY=0)."""
    if not lab.legacy_hosts:
        pytest.skip("no legacy host with SPSE_LAB_LEGACY=0")
    return lab.hosts[lab.legacy_hosts[0]]


def test_legacy_host_is_in_both_groups_and_has_only_python_2_7(lab: labctl.Lab, legacy: labctl.Host,
                                                              tmp_path: Path) -> None:
    assert legacy.name == "legacy1"
    assert set(legacy.groups) == {"spse_app", "spse_db"}
    found = legacy.exec("ls -d /usr/bin/python* /usr/local/bin/python* /usr/lib/python* 2>/dev/null; "
                        "readlink -f /usr/bin/python", check=False).stdout.split()
    assert found == ["/usr/bin/python", "/usr/bin/python2", "/usr/bin/python2.7",
                     "/usr/lib/python2.7", "/usr/bin/python2.7"]
    assert legacy.exec("command -v python3", check=False).returncode != 0
    packages = legacy.exec("dpkg-query -W -f '${db:Status-Abbrev}${Package}\n' '*python*'").stdout
    assert sorted(line[3:] for line in packages.splitlines() if line.startswith("ii")) == \
        ["libpython2.7-minimal", "libpython2.7-stdlib", "python2.7", "python2.7-minimal"]
    # Ansible finds it by itself (no ansible_python_interpreter in the inventory)
    result = ansible(lab, tmp_path, legacy.name, "-m", "setup", "-a", "filter=ansible_python")
    python = result[legacy.name]["ansible_facts"]["ansible_python"]
    assert (python["executable"], python["version"]["major"]) == ("/usr/bin/python2.7", 2)


def test_legacy_postgres_keeps_its_config_in_the_pgdg_data_directory(legacy: labctl.Host) -> None:
    def psql(*args: str) -> str:
        return legacy.exec(["runuser", "-u", "postgres", "--", "/usr/pgsql-13/bin/psql", "-XAt",
                            *args]).stdout.strip()

    data = "/var/lib/pgsql/13/data"
    assert psql("-c", "SHOW config_file") == f"{data}/postgresql.conf"
    assert psql("-c", "SHOW hba_file") == f"{data}/pg_hba.conf"
    assert psql("-c", "SHOW data_directory") == data
    assert psql("-c", "SELECT sourcefile FROM pg_settings WHERE name = 'log_line_prefix'") == \
        f"{data}/postgresql.conf"
    assert psql("-c", "SHOW server_version_num")[:2] == "13"
    assert psql("-c", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'epns_prod'") \
        == "epns"
    assert psql("-c", "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'epns'") == "md5"
    assert int(psql("-d", "epns_prod", "-c", "SELECT count(*) FROM paket")) > 0
    legacy.exec(f"test -f {data}/postgresql.auto.conf && test ! -e /etc/postgresql")
    pid = legacy.exec(["head", "-1", f"{data}/postmaster.pid"]).stdout.strip()
    cmdline = legacy.exec(["cat", f"/proc/{pid}/cmdline"]).stdout.split("\0")
    assert cmdline[:3] == ["/usr/pgsql-13/bin/postgres", "-D", data]
    assert legacy.exec("service postgresql-13 status").returncode == 0
    assert re.search(r"^S\d\dpostgresql-13$", legacy.exec("ls /etc/rc2.d").stdout, re.M)
    assert legacy.exec(f"ls {data}/log").stdout.strip()  # logging_collector is on


def test_legacy_apache_is_configured_from_etc_httpd(legacy: labctl.Host) -> None:
    test = legacy.exec(["httpd", "-t", "-f", "/etc/httpd/conf/httpd.conf"], check=False)
    assert (test.returncode, test.stderr.strip().splitlines()[-1]) == (0, "Syntax OK")
    assert legacy.exec("readlink -f /usr/sbin/httpd").stdout == "/usr/sbin/apache2\n"
    pid = legacy.exec(["cat", "/run/httpd/httpd.pid"]).stdout.strip()
    cmdline = legacy.exec(["cat", f"/proc/{pid}/cmdline"]).stdout.split("\0")
    assert cmdline[:3] == ["/usr/sbin/httpd", "-f", "/etc/httpd/conf/httpd.conf"]
    legacy.exec("test -f /etc/httpd/conf.d/spse.conf && test -f /etc/httpd/conf.d/ssl.conf "
                "&& test ! -e /etc/apache2 && test -x /etc/init.d/httpd")
    status, body = https_get(legacy.ip, "/eproc4/?via=httpd")
    assert status == 200, body
    assert re.search(r"jumlah paket: \d+", body)
    access = legacy.exec("cat /var/log/httpd/spse_access_log").stdout
    assert '"GET /eproc4/?via=httpd HTTP/1.1" 200' in access
    assert "/eproc4/?via=httpd 200" in legacy.exec(
        "cat /home/appserv/spse/webapp/logs/spse4.log").stdout


def test_legacy_spse_runs_on_python_2_7_from_rc_local(legacy: labctl.Host) -> None:
    spse = "/home/appserv/spse"
    assert "/home/appserv/spse/spse4 start" in legacy.exec("cat /etc/rc.d/rc.local").stdout
    legacy.exec("test -x /etc/rc.d/rc.local && test ! -e /etc/init.d/spse4")
    pid = legacy.exec(["cat", f"{spse}/webapp/server.pid"]).stdout.strip()
    assert legacy.exec(["readlink", f"/proc/{pid}/exe"]).stdout == "/usr/bin/python2.7\n"
    assert legacy.exec(["stat", "-c", "%U", f"/proc/{pid}"]).stdout == "appserv\n"
    assert f"pid={pid}," in legacy.exec("ss -ltnpH 'sport = :9009'").stdout
    conf = dict(line.split("=", 1) for line in legacy.exec(
        ["cat", f"{spse}/webapp/conf/application.conf"]).stdout.splitlines()
        if "=" in line and not line.startswith("#"))
    assert conf["db.url"] == "jdbc:postgresql://localhost:5432/epns_prod"
    assert conf["file.path"] == "/home/file_prod"
    assert len(conf["db.pass"]) >= 16 and len(conf["application.secret"]) >= 32
    assert " /home/file_prod ext4 " in legacy.exec("cat /proc/mounts").stdout
    assert https_get(legacy.ip, "/eproc4/error")[0] == 500
    applog = legacy.exec(f"cat {spse}/webapp/logs/spse4.log").stdout
    assert re.search(r"^\d\d:\d\d:\d\d,\d{3} ERROR ~ Error on /eproc4/error", applog, re.M)
    assert 'ERROR: relation "paket_arsip" does not exist' in applog
    pglog = legacy.exec("cat /var/lib/pgsql/13/data/log/*").stdout
    assert re.search(r"user=epns,db=epns_prod,app=spse4,client=(127\.0\.0\.1|::1) ", pglog)
    assert 'relation "paket_arsip" does not exist' in pglog


COMPILE_PY2 = """
import json, sys, traceback
failed = 0
for name, source in sorted(json.load(sys.stdin).items()):
    try:
        compile(source.encode("utf-8"), name, "exec")
    except SyntaxError:
        failed += 1
        sys.stdout.write("".join(traceback.format_exc().splitlines(True)[-4:]))
sys.exit(failed and 1)
"""


def test_on_host_code_compiles_on_the_legacy_python_2_7(legacy: labctl.Host) -> None:
    """Everything under roles/ that Ansible ships to a host must be Python 2.7 (CentOS 7)."""
    roles = Path(__file__).resolve().parents[2] / "roles"
    sources = {str(path.relative_to(roles)): path.read_text(encoding="utf-8")
               for path in sorted(roles.rglob("*.py"))}
    assert any(name.endswith("spse_baseline_facts.py") for name in sources)
    done = legacy.exec(["python2.7", "-c", COMPILE_PY2], check=False, input=json.dumps(sources))
    assert done.returncode == 0, done.stdout + done.stderr


def test_lab_command_exec_passes_output_and_exit_code(lab: labctl.Lab) -> None:
    name = next(iter(lab.hosts))
    done = subprocess.run([str(LAB_CMD), "exec", name, "sh", "-c", "hostname; echo oops >&2; exit 3"],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (3, f"{name}\n", "oops\n")
    bad = subprocess.run([str(LAB_CMD), "exec", "nosuchhost", "true"], capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "unknown host" in bad.stderr


def test_down_leaves_nothing_even_after_a_killed_up(lab: labctl.Lab,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs last: takes the session's lab down (and brings a reused one back)."""
    legacy = len(lab.legacy_hosts)
    count = len(lab.hosts) - legacy
    lab.down()
    assert leftovers(lab.dir) == []
    # down while the hosts still boot (what a killed `lab up` leaves): a host
    # not yet chrooted must be found too, or deleting its folder detaches its
    # root and its volumes stay mounted (loop devices of deleted files)
    with monkeypatch.context() as patch:
        patch.setattr(labctl.Lab, "_await_boot", lambda self, hosts: None)
        patch.setattr(labctl.Lab, "_write_access_files", lambda self, hosts: None)
        booting = labctl.Lab(lab.dir)
        booting.up(1, 1)
        booting.down()
    assert leftovers(lab.dir) == []
    killed = subprocess.Popen([str(LAB_CMD), "up", "2"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            h.get("boot_pid") for h in (lab.load() or {"hosts": {}})["hosts"].values()):
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert leftovers(lab.dir), "the killed `lab up` should have left a half-made lab"
    inventory = subprocess.run([str(LAB_CMD), "up", "1"], capture_output=True, text=True,
                               check=True).stdout
    assert inventory == f"{lab.inventory}\n"
    assert lab.hosts["app1"].exec("hostname").stdout == "app1\n"
    subprocess.run([str(LAB_CMD), "down"], capture_output=True, check=True)
    assert leftovers(lab.dir) == []
    if lab.reused:
        lab.up(count, legacy)
