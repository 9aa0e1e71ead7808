"""SPSE test lab: throw-away Debian hosts that look like SPSE servers.

Each host is a Debian root file system (an overlay over the cached,
provisioned image of its kind: bookworm, or legacy bullseye laid out like
CentOS 7) running in its own mount, UTS, IPC, PID and network namespaces
with a small init, an OpenSSH server and the SPSE services of its role.
Hosts sit on the bridge ``spselab0`` in 198.18.0.0/24, so Ansible reaches
them over real SSH like production servers.

This module is the facade the ``tests/lab/lab`` command and the pytest
fixture ``lab`` use: the ``Lab`` (its state file, its hosts' processes, up,
down and per-host changes), ``LabError`` and ``namespace_problem``. The
concerns live in lab_base (plumbing), lab_image, lab_network, lab_volumes,
lab_hosts and lab_cli. Python 3 standard library only; runs as root.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab_base import (
    CLEAN_ENV,
    LAB_COMMAND,
    LabError,
    comm,
    lab_dir,
    log,
    namespace_problem,
    remove_tree,
    require_tools,
    run,
)
from lab_hosts import MAX_HOSTS, Host, create_host, password, plan_hosts
from lab_image import KINDS, ensure_image, lab_recipe
from lab_network import (
    BRIDGE,
    GATEWAY,
    NETNS_PREFIX,
    VETH_PREFIX,
    bridge_up,
    netns_inodes,
    plug_nic,
    remove_links,
    unplug_nic,
)
from lab_volumes import leak_report, loops, make_volume, release_loops

__all__ = ["BRIDGE", "KINDS", "NETNS_PREFIX", "VETH_PREFIX", "Host", "Lab", "LabError", "env_sizes",
           "namespace_problem"]

BOOT_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
LAB_FILES = ("hosts", "cp", "ansible", "state.json", "state.json.tmp", "inventory.yml", "timeserver.log",
             "ansible.cfg", "known_hosts", "id_ed25519", "id_ed25519.pub")


def env_sizes() -> tuple[int, int]:
    """The lab tests want: (SPSE_LAB_HOSTS, SPSE_LAB_LEGACY) hosts, default 3 and 1 legacy."""
    try:
        return (int(os.environ.get("SPSE_LAB_HOSTS", "3")),
                int(os.environ.get("SPSE_LAB_LEGACY", "1")))
    except ValueError:
        raise LabError("SPSE_LAB_HOSTS and SPSE_LAB_LEGACY must be whole numbers", 2) from None


class Lab:
    """The lab in one folder: its state file, inventory, key and hosts."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = Path(directory) if directory else lab_dir()
        self.state_file = self.dir / "state.json"
        self.inventory = self.dir / "inventory.yml"
        self.key = self.dir / "id_ed25519"
        self.known_hosts = self.dir / "known_hosts"
        self.ansible_cfg = self.dir / "ansible.cfg"
        self._children: dict[int, subprocess.Popen] = {}
        self.reused = False  # set by the pytest fixture when it found this lab already up

    # ----------------------------------------------------------- state file

    def load(self) -> dict | None:
        """The state of the lab in this folder, or None when there is none."""
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def save(self, state: dict) -> None:
        """Write the state atomically: a killed run leaves the old or the new one."""
        tmp = self.state_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.state_file)

    def _state(self) -> dict:
        state = self.load()
        if not state or not state.get("hosts"):
            raise LabError(f"no lab is up in {self.dir} (run: tests/lab/lab up)")
        return state

    def _host(self, state: dict, name: str) -> dict:
        host = state["hosts"].get(name)
        if host is None:
            raise LabError(f"unknown host {name!r} (hosts: {', '.join(state['hosts'])})", 2)
        return host

    @property
    def hosts(self) -> dict[str, Host]:
        """Handles for the hosts of the current lab."""
        state = self.load() or {"hosts": {}}
        return {name: Host(name, h["role"], h["ip"], tuple(h["groups"]), h.get("db_host"), self,
                           h["kind"])
                for name, h in state["hosts"].items()}

    @property
    def legacy_hosts(self) -> list[str]:
        """Names of the legacy (CentOS 7-like, Python 2.7 only) hosts."""
        return [name for name, host in self.hosts.items() if host.kind == "legacy"]

    def ansible_env(self) -> dict[str, str]:
        """Environment for ansible commands: config, home and temp inside the lab folder."""
        return {**os.environ, "ANSIBLE_CONFIG": str(self.ansible_cfg),
                "ANSIBLE_HOME": str(self.dir / "ansible"),
                "ANSIBLE_LOCAL_TEMP": str(self.dir / "ansible" / "tmp")}

    # ------------------------------------------------------------ processes

    def _alive(self, pid: int | None) -> bool:
        """True while pid runs (a zombie counts as gone; our own are reaped)."""
        if not pid:
            return False
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            del self._children[pid]
            return False
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False

    def _is_init(self, host: dict, pid: int | None) -> bool:
        """Whether pid is still this host's init (guards against pid reuse)."""
        if not self._alive(pid):
            return False
        try:
            root = os.readlink(f"/proc/{pid}/root")
        except OSError:
            return False
        return root == str(self.dir / "hosts" / host["name"] / "merged")

    def _wait_gone(self, pids: list[int], timeout: float) -> list[int]:
        deadline = time.monotonic() + timeout
        while True:
            left = [pid for pid in pids if self._alive(pid)]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.05)

    def _lab_processes(self, host: str | None = None) -> list[int]:
        """Every live process of this lab's hosts (or of one host), also stale ones.

        A host's processes are found by any of four marks, because one alone
        misses some: a root inside the host folder (a booted host); a boot
        command line (``ip netns exec``/``unshare``/``_boot`` before the chroot,
        and the ``unshare`` that supervises a host); stdout on the host's
        ``console.log`` (init, also when the lab folder is gone); the host's
        network namespace. Once a host folder is deleted, a still running
        host's root is detached: its /proc/PID/root reads ``/`` and its
        mountinfo is empty, yet its mounts (and loop devices) stay alive.
        """
        hosts = str(self.dir / "hosts") + "/"
        prefix = hosts + (f"{host}/" if host else "")
        netns_ids = netns_inodes(host)
        skip = {os.getpid(), os.getppid()}
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in skip or not self._alive(int(entry)):
                continue
            proc = f"/proc/{entry}"
            with contextlib.suppress(OSError):
                if os.readlink(f"{proc}/root").startswith(prefix):
                    pids.append(int(entry))
                    continue
            with contextlib.suppress(OSError):
                argv = Path(f"{proc}/cmdline").read_bytes().decode(errors="replace").split("\0")
                merged = (argv[argv.index("--merged") + 1]
                          if "_boot" in argv and "--merged" in argv[:-1] else "")
                if merged.startswith(prefix):
                    pids.append(int(entry))
                    continue
                if host is None and "_timeserver" in argv and str(self.dir) in argv:
                    pids.append(int(entry))
                    continue
            with contextlib.suppress(OSError):
                out = os.readlink(f"{proc}/fd/1").removesuffix(" (deleted)")
                if out.startswith(prefix) and out.endswith("/console.log"):
                    pids.append(int(entry))
                    continue
            if netns_ids:
                with contextlib.suppress(OSError):
                    if os.stat(f"{proc}/ns/net").st_ino in netns_ids:
                        pids.append(int(entry))
        return pids

    def _kill_processes(self, host: str | None = None, timeout: float = 10.0) -> None:
        """SIGKILL every process of the lab (or one host) until none is left.

        Killing a host's init ends its PID namespace; the scan repeats because
        a host that is still booting moves from one process to the next.
        Survivors are an error: deleting a host folder under a running host
        would hide it (and its mounted volumes) from every later scan.
        """
        deadline = time.monotonic() + timeout
        while True:
            pids = self._lab_processes(host)
            if not pids:
                return
            if time.monotonic() > deadline:
                raise LabError("lab processes survive SIGKILL (not removing their files): "
                               + ", ".join(f"{pid} ({comm(pid)})" for pid in pids))
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._wait_gone(pids, 1.0)

    def _loops(self) -> dict[str, str]:
        """Loop devices backed by files of this lab: device -> backing file."""
        return loops(str(self.dir) + "/")

    # ------------------------------------------------------------ lifecycle

    def up(self, count: int = 3, legacy: int = 0) -> Path:
        """Start `count` hosts and `legacy` legacy hosts (after clearing any old or stale lab).

        Returns the inventory.
        """
        if min(count, legacy) < 0 or not 1 <= count + legacy <= MAX_HOSTS:
            raise LabError(f"need 1..{MAX_HOSTS} hosts in all, not {count} + {legacy} legacy", 2)
        problem = namespace_problem()
        if problem:
            raise LabError(problem)
        require_tools("mount", "losetup", "chroot", "mkfs.ext4", "ssh-keygen", "openssl", "cp")
        if "," in str(self.dir) or ":" in str(self.dir):
            raise LabError(f"lab folder {self.dir} must not contain ',' or ':' (overlayfs)", 2)
        started = time.monotonic()
        if self.load() is not None or self._lab_processes() or self._loops():
            log("clearing the previous lab")
        self.down(tolerate_leaks=True)  # also what a killed run left without a state file
        hosts = plan_hosts(count, legacy)
        images = {kind: str(ensure_image(KINDS[kind])) for kind in sorted({h["kind"] for h in hosts})}
        built = time.monotonic()
        for sub in ("hosts", "cp", "ansible/tmp"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "spse-lab", "-f", str(self.key)])
        state = {"version": 2, "recipe": lab_recipe(), "images": images, "bridge": BRIDGE,
                 "started": time.time(), "hosts": {h["name"]: h for h in hosts}}
        self.save(state)
        bridge_up()
        self._start_timeserver()
        db_passwords = {h["name"]: password() for h in hosts if "spse_db" in h["groups"]}
        pubkey = self.key.with_suffix(".pub").read_text(encoding="utf-8")
        with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
            list(pool.map(lambda h: create_host(h, state, self.dir / "hosts" / h["name"], pubkey,
                                                db_passwords), hosts))
        for host in hosts:
            self._spawn(host, Path(images[host["kind"]]))
        self.save(state)
        self._await_boot(hosts)
        self.save(state)
        self._write_access_files(hosts)
        log(f"{len(hosts)} hosts up in {time.monotonic() - built:.1f} s"
            + (f" (image {built - started:.0f} s)" if built - started > 5 else ""))
        return self.inventory

    def _spawn(self, host: dict, image: Path) -> None:
        """Start the host: namespaces, overlay and volumes, then chroot + exec init."""
        hostdir = self.dir / "hosts" / host["name"]
        boot = [sys.executable, str(LAB_COMMAND), "_boot",
                "--lower", str(image), "--upper", str(hostdir / "upper"),
                "--work", str(hostdir / "work"), "--merged", str(hostdir / "merged")]
        for volume in host["volumes"] + host["disks"]:
            boot += ["--volume", volume["image"], volume["mountpoint"]]
        # --kill-child: the host (its PID namespace) dies with its supervising unshare.
        cmd = ["ip", "netns", "exec", host["netns"], "unshare", "--mount", "--uts", "--ipc",
               "--pid", "--fork", "--kill-child", "--propagation", "private", *boot]
        with open(hostdir / "console.log", "ab") as console:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=console,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env=CLEAN_ENV)
        self._children[proc.pid] = proc
        host.update(boot_pid=proc.pid, init_pid=None, running=True)

    def _start_timeserver(self) -> None:
        """The hosts' time source on the bridge (lab_timeserver); `down` kills it with the hosts."""
        with open(self.dir / "timeserver.log", "ab") as log_file:
            proc = subprocess.Popen([sys.executable, str(LAB_COMMAND), "_timeserver", GATEWAY,
                                     str(self.dir)], stdin=subprocess.DEVNULL, stdout=log_file,
                                    stderr=subprocess.STDOUT, start_new_session=True, env=CLEAN_ENV)
        self._children[proc.pid] = proc

    def _await_boot(self, hosts: list[dict]) -> None:
        """Wait until every host's init said ready and its sshd accepts connections."""
        deadline = time.monotonic() + BOOT_TIMEOUT
        pending = list(hosts)
        while pending:
            for host in list(pending):
                if self._booted(host):
                    pending.remove(host)
            if not pending:
                break
            if time.monotonic() > deadline:
                raise LabError(f"hosts did not come up within {BOOT_TIMEOUT:.0f} s: "
                               + ", ".join(h["name"] for h in pending))
            time.sleep(0.1)

    def _booted(self, host: dict) -> bool:
        """One readiness probe: find init, then its ready flag, then port 22."""
        if not self._alive(host["boot_pid"]):
            console = self.dir / "hosts" / host["name"] / "console.log"
            lines = console.read_text(errors="replace").strip().splitlines()[-1:]
            raise LabError(f"{host['name']} failed to boot: {lines[0] if lines else '?'}"
                           f" (see {console})")
        if not host["init_pid"]:
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{host['boot_pid']}/task/{host['boot_pid']}/children")
                for pid in children.read_text().split():
                    if Path(f"/proc/{pid}/comm").read_text().strip() == "init":
                        host["init_pid"] = int(pid)
            if not host["init_pid"]:
                return False
        if not Path(f"/proc/{host['init_pid']}/root/run/spse-lab/ready").exists():
            return False
        try:
            with socket.create_connection((host["ip"], 22), timeout=1):
                pass
        except OSError:
            return False
        host["loops"] = [dev for dev, back in self._loops().items()
                         if back.startswith(str(self.dir / "hosts" / host["name"]) + "/")]
        return True

    def _write_access_files(self, hosts: list[dict]) -> None:
        """known_hosts (from the generated host keys), inventory.yml and ansible.cfg."""
        lines = []
        for host in hosts:
            for pub in sorted((self.dir / "hosts" / host["name"] / "upper/etc/ssh").glob("*.pub")):
                kind, key = pub.read_text(encoding="utf-8").split()[:2]
                lines.append(f"{host['ip']} {kind} {key}\n")
        self.known_hosts.write_text("".join(lines), encoding="utf-8")
        ssh_args = (f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=accept-new"
                    f" -o ControlMaster=auto -o ControlPersist=60s -o ControlPath={self.dir}/cp/%C")
        out = ["# SPSE test lab inventory, written by `tests/lab/lab up`.", "all:", "  hosts:"]
        for host in hosts:
            python = KINDS[host["kind"]].python
            out += [f"    {host['name']}:",
                    f"      ansible_host: {host['ip']}",
                    "      ansible_user: ansible",
                    f"      ansible_ssh_private_key_file: {json.dumps(str(self.key))}",
                    f"      ansible_ssh_common_args: {json.dumps(ssh_args)}"]
            out += [f"      ansible_python_interpreter: {python}"] if python else []
        out += ["  children:"]
        for group in ("spse_app", "spse_db"):
            members = [h["name"] for h in hosts if group in h["groups"]]
            out += [f"    {group}:", "      hosts:" if members else "      hosts: {}"]
            out += [f"        {name}: {{}}" for name in members]
        tmp = self.inventory.with_suffix(".tmp")
        tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
        os.replace(tmp, self.inventory)
        self.ansible_cfg.write_text(f"""[defaults]
inventory = {self.inventory}
home = {self.dir}/ansible
local_tmp = {self.dir}/ansible/tmp
interpreter_python = auto_silent
host_key_checking = True
retry_files_enabled = False
forks = 20
timeout = 10

[ssh_connection]
pipelining = True
control_path_dir = {self.dir}/cp
""", encoding="utf-8")

    def _halt(self, host: dict) -> None:
        """Stop one host: SIGTERM to init (services stop), SIGKILL after a grace time.

        Then every other process of the host (a boot still under way, its
        supervising ``unshare``) is killed, so its mount namespace, overlay and
        volumes are gone when this returns.
        """
        init = host.get("init_pid")
        if self._is_init(host, init):
            os.kill(init, signal.SIGTERM)
            if self._wait_gone([init], STOP_TIMEOUT):
                os.kill(init, signal.SIGKILL)
                self._wait_gone([init], 5)
            self._wait_gone([host["boot_pid"]], 5)
        self._kill_processes(host["name"])
        host.update(running=False, boot_pid=None, init_pid=None, loops=[])

    def down(self, *, tolerate_leaks: bool = False) -> None:
        """Stop every host and remove all the lab made: processes, mounts, loops, links.

        Fails (LabError) when a loop device of the lab cannot be freed;
        ``tolerate_leaks`` (used by `up`) only logs it: a new lab gets other
        loop devices.
        """
        state = self.load() or {"hosts": {}}
        hosts = list(state["hosts"].values())
        for host in hosts:
            if self._is_init(host, host.get("init_pid")):
                os.kill(host["init_pid"], signal.SIGTERM)
        for host in hosts:
            self._halt(host)
        self._kill_processes()
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for target in reversed(mounts):
            if target.startswith(str(self.dir) + "/"):
                run(["umount", "-l", target], check=False)
        leaked = release_loops(str(self.dir) + "/")
        remove_links()
        for name in LAB_FILES:
            path = self.dir / name
            if path.is_dir() and not path.is_symlink():
                remove_tree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
        with contextlib.suppress(OSError):
            self.dir.rmdir()
        if leaked:
            if not tolerate_leaks:
                raise LabError(leak_report(leaked))
            log(f"warning: {leak_report(leaked)}")

    def healthy(self, count: int | None = None, legacy: int | None = None) -> bool:
        """A lab of the current recipe whose hosts all run and answer SSH.

        With `count` and `legacy`, it must also have that many hosts of each kind.
        """
        state = self.load()
        if not state or state.get("recipe") != lab_recipe():
            return False
        kinds = [host["kind"] for host in state["hosts"].values()]
        if count is not None and kinds.count("bookworm") != count:
            return False
        if legacy is not None and kinds.count("legacy") != legacy:
            return False
        for host in state["hosts"].values():
            if not host["running"] or not self._is_init(host, host.get("init_pid")):
                return False
            try:
                with socket.create_connection((host["ip"], 22), timeout=2):
                    pass
            except OSError:
                return False
        return True

    # ------------------------------------------------------------ per host

    def status(self) -> list[dict]:
        """One row per host: name, role, ip, state, pid, added NICs and disks."""
        state = self.load() or {"hosts": {}}
        rows = []
        for host in state["hosts"].values():
            alive = self._is_init(host, host.get("init_pid"))
            rows.append({"name": host["name"], "role": host["role"], "ip": host["ip"],
                         "state": "running" if alive else ("dead" if host["running"] else "stopped"),
                         "pid": host["init_pid"] if alive else None,
                         "nics": [n["name"] for n in host["nics"]],
                         "disks": [d["mountpoint"] for d in host["disks"]]})
        return rows

    def _running(self, state: dict, name: str) -> dict:
        host = self._host(state, name)
        if not self._is_init(host, host.get("init_pid")):
            raise LabError(f"host {name} is not running (tests/lab/lab start {name})")
        return host

    def stop(self, name: str | Host) -> None:
        """Take one host down: its sshd and services end, its network and files stay."""
        name = getattr(name, "name", name)
        state = self._state()
        host = self._host(state, name)
        self._halt(host)
        self.save(state)
        leaked = release_loops(str(self.dir / "hosts" / name) + "/")
        if leaked:  # booting it again would mount the same ext4 image twice
            raise LabError(leak_report(leaked))

    def start(self, name: str | Host) -> None:
        """Boot a stopped host again with the same files, volumes, disks and NICs."""
        name = getattr(name, "name", name)
        state = self._state()
        host = self._host(state, name)
        if self._is_init(host, host.get("init_pid")):
            return
        self._spawn(host, Path(state["images"][host["kind"]]))
        self.save(state)
        self._await_boot([host])
        self.save(state)

    def _nsenter(self, host: dict) -> list[str]:
        return ["nsenter", "-t", str(host["init_pid"]), "-m", "-u", "-i", "-n", "-p", "-r", "-w",
                "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in CLEAN_ENV.items())]

    def exec_argv(self, name: str, argv: list[str]) -> list[str]:
        """The command line that runs argv inside a running host."""
        host = self._running(self._state(), name)
        return [*self._nsenter(host), *argv]

    def exec(self, name: str | Host, cmd: str | list[str], check: bool = True,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command inside a host; a string is run by the host's /bin/sh."""
        name = getattr(name, "name", name)
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return subprocess.run(self.exec_argv(name, argv), check=check, text=True,
                              capture_output=True, input=input)

    def add_nic(self, name: str | Host) -> dict:
        """Plug a new veth NIC (ethN, up, own MAC) into a host's network namespace."""
        state = self._state()
        host = self._host(state, getattr(name, "name", name))
        entry = plug_nic(host)
        host["nics"].append(entry)
        self.save(state)
        return entry

    def remove_nic(self, name: str | Host, nic: str | None = None) -> dict:
        """Unplug a NIC added by add_nic (the last one by default)."""
        name = getattr(name, "name", name)
        state = self._state()
        host = self._host(state, name)
        if not host["nics"]:
            raise LabError(f"host {name} has no added NIC", 2)
        entry = host["nics"][-1] if nic is None else next(
            (n for n in host["nics"] if n["name"] == nic), None)
        if entry is None:
            raise LabError(f"{nic!r} is not a NIC added to {name} "
                           f"(added: {', '.join(n['name'] for n in host['nics'])})", 2)
        unplug_nic(host, entry)
        host["nics"].remove(entry)
        self.save(state)
        return entry

    def add_disk(self, name: str | Host, size_mb: int) -> dict:
        """Attach a new ext4 disk (loop device) and mount it in the host at /srv/dataN."""
        name = getattr(name, "name", name)
        if not 8 <= size_mb <= 65536:
            raise LabError(f"disk size must be 8..65536 MB, not {size_mb}", 2)
        state = self._state()
        host = self._running(state, name)
        used = {d["mountpoint"] for d in host["disks"]}
        index = next(i for i in range(1, 1000) if f"/srv/data{i}" not in used)
        mountpoint = f"/srv/data{index}"
        image = self.dir / "hosts" / name / "vol" / f"data{index}.img"
        make_volume(image, size_mb, f"data{index}")
        target = str(self.dir / "hosts" / name / "merged") + mountpoint
        ns = ["nsenter", "-t", str(host["init_pid"]), "-m"]
        run([*ns, "mkdir", "-p", target])
        run([*ns, "mount", "-o", "loop", str(image), target])
        devices = [dev for dev, back in self._loops().items() if back == str(image)]
        entry = {"image": str(image), "mountpoint": mountpoint, "size_mb": size_mb,
                 "device": devices[0] if devices else None}
        host["disks"].append(entry)
        host["loops"] += devices
        self.save(state)
        return entry

    def remove_disk(self, name: str | Host, mountpoint: str | None = None) -> dict:
        """Unmount and delete a disk added by add_disk (the last one by default)."""
        name = getattr(name, "name", name)
        state = self._state()
        host = self._host(state, name)
        if not host["disks"]:
            raise LabError(f"host {name} has no added disk", 2)
        entry = host["disks"][-1] if mountpoint is None else next(
            (d for d in host["disks"] if d["mountpoint"] == mountpoint.rstrip("/")), None)
        if entry is None:
            raise LabError(f"{mountpoint!r} is not a disk added to {name} "
                           f"(added: {', '.join(d['mountpoint'] for d in host['disks'])})", 2)
        hostdir = self.dir / "hosts" / name
        if self._is_init(host, host.get("init_pid")):
            target = str(hostdir / "merged") + entry["mountpoint"]
            ns = ["nsenter", "-t", str(host["init_pid"]), "-m"]
            run([*ns, "umount", target])
            run([*ns, "rmdir", target])
        else:
            with contextlib.suppress(OSError):
                (hostdir / "upper" / entry["mountpoint"].lstrip("/")).rmdir()
        leaked = release_loops(entry["image"])
        if leaked:
            raise LabError(leak_report(leaked))
        Path(entry["image"]).unlink(missing_ok=True)
        host["disks"].remove(entry)
        host["loops"] = [dev for dev in host["loops"] if dev != entry.get("device")]
        self.save(state)
        return entry
