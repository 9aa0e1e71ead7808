"""SPSE test lab: throw-away Debian hosts that look like SPSE servers.

Each host is a Debian bookworm root file system (an overlay over one cached,
provisioned image) running in its own mount, UTS, IPC, PID and network
namespaces with a small init, an OpenSSH server and the SPSE services of its
role. Hosts sit on the bridge ``spselab0`` in 198.18.0.0/24, so Ansible
reaches them over real SSH like production servers.

Used by the ``tests/lab/lab`` command and by the pytest fixture ``lab``.
Python 3 standard library only; runs as root.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPE_DIR = HERE / "image"
CACHE_DIR = Path(os.environ.get("SPSE_LAB_CACHE", "/var/cache/spse-lab"))
DEFAULT_LAB_DIR = "/var/tmp/spse-lab"

MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class Kind:
    """One kind of lab host: its Debian suite and packages, and where its layout puts things."""

    name: str
    suite: str
    packages: tuple[str, ...]
    python: str | None  # the inventory's ansible_python_interpreter (None: discovery)
    pg_volume: str  # the database volume's mount point
    pg_seed: str  # what the volume starts with, from the image
    pg_settings: str  # the file that gets the per-host PostgreSQL settings
    file_store: str
    tls_cert: str
    tls_key: str


KINDS = {kind.name: kind for kind in (
    Kind("bookworm", "bookworm", (
        "openssh-server", "python3", "python3-apt", "python3-psycopg2", "sudo", "acl",
        "postgresql", "apache2", "libapache2-mod-security2", "libapache2-mod-evasive",
        "cron", "chrony", "openssl", "ca-certificates", "curl", "tzdata", "netbase",
        "iproute2", "iputils-ping", "procps", "kmod", "e2fsprogs", "util-linux", "less",
    ), "/usr/bin/python3", "/var/lib/postgresql", "/var/lib/postgresql",
        "/etc/postgresql/15/main/conf.d/spse.conf", "/home/file/file_prod",
        "/etc/ssl/certs/spse.crt", "/etc/ssl/private/spse.key"),
    # Laid out like a CentOS 7 SPSE server; python2.7 is its only Python.
    Kind("legacy", "bullseye", (
        "openssh-server", "python2.7", "sudo", "acl", "postgresql-13", "postgresql-client-13",
        "apache2", "libapache2-mod-security2", "cron", "chrony", "openssl", "ca-certificates",
        "curl", "tzdata", "netbase", "iproute2", "iputils-ping", "procps", "kmod", "e2fsprogs",
        "util-linux", "less", "init-system-helpers", "hostname",
    ), None, "/var/lib/pgsql", "/var/lib/pgsql", "/var/lib/pgsql/13/data/postgresql.conf",
        "/home/file_prod", "/etc/pki/tls/certs/spse.crt", "/etc/pki/tls/private/spse.key"),
)}

BRIDGE = "spselab0"
NETNS_PREFIX = "spselab-"
VETH_PREFIX = "sl-"
SUBNET = "198.18.0"
GATEWAY = f"{SUBNET}.1"
FIRST_HOST_IP = 11
MAX_HOSTS = 200
ROLES = ("app", "db", "aio")  # of bookworm hosts, in turn; legacy hosts have role "legacy"
GROUPS = {"app": ("spse_app",), "db": ("spse_db",), "aio": ("spse_app", "spse_db"),
          "legacy": ("spse_app", "spse_db")}
PG_VOLUME_MB = 512
FILE_VOLUME_MB = 128
BOOT_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
}
LAB_FILES = ("hosts", "cp", "ansible", "state.json", "state.json.tmp", "inventory.yml",
             "ansible.cfg", "known_hosts", "id_ed25519", "id_ed25519.pub")


class LabError(Exception):
    """A failure to report as one line; ``code`` 2 means bad input."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def log(message: str) -> None:
    """Progress goes to stderr: stdout of `lab up` is only the inventory path."""
    print(f"lab: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, check: bool = True, capture: bool = True,
        **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command from an argument list; turn its failure into one LabError line."""
    if not capture:
        kwargs.setdefault("stdout", sys.stderr)
    try:
        return subprocess.run(cmd, check=check, text=True, capture_output=capture, **kwargs)
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {exc.returncode}"
        raise LabError(f"{' '.join(cmd[:4])}: {detail}") from None
    except FileNotFoundError:
        raise LabError(f"{cmd[0]}: command not found") from None


def lab_dir() -> Path:
    """The lab's folder: short, because SSH control sockets live in it."""
    return Path(os.environ.get("SPSE_LAB_DIR", DEFAULT_LAB_DIR))


def namespace_problem() -> str | None:
    """Why lab hosts cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "the SPSE lab needs root (it creates namespaces, mounts and a bridge)"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"the SPSE lab needs Linux namespaces, but `{tool}` is missing"
    probe = subprocess.run(["unshare", "--mount", "--uts", "--ipc", "--pid", "--net", "--fork",
                            "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"Linux namespaces are unavailable: {probe.stderr.strip() or 'unshare failed'}"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"network namespaces are unavailable: {probe.stderr.strip() or 'ip netns failed'}"
    return None


def require_tools(*tools: str) -> None:
    """Fail early, in one line, when the machine lacks a tool the lab calls."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise LabError(f"missing tools: {', '.join(missing)} (apt-get install them)")


# --------------------------------------------------------------------- image

def _digest(parts: list[bytes]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return sha.hexdigest()[:16]


def remove_tree(path: Path) -> None:
    """rmtree that refuses to descend into anything still mounted (e.g. a bound /dev)."""
    prefix = str(path) + "/"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].replace("\\040", " ")
        if target == str(path) or target.startswith(prefix):
            raise LabError(f"{target} is still mounted; not removing {path}")
    shutil.rmtree(path, ignore_errors=True)


def base_hash(kind: Kind) -> str:
    """Identity of the bare Debian tree: only the suite and package set matter."""
    return _digest([kind.suite.encode(), MIRROR.encode(), " ".join(kind.packages).encode()])


def recipe_hash(kind: Kind) -> str:
    """Identity of a provisioned image: this module plus the kind's and the common recipe files."""
    parts = [Path(__file__).resolve().read_bytes(), kind.name.encode()]
    for sub in ("common", kind.name):
        for path in sorted((RECIPE_DIR / sub).rglob("*")):
            if path.is_file():
                parts += [str(path.relative_to(RECIPE_DIR)).encode(), path.read_bytes(),
                          str(path.stat().st_mode & 0o777).encode()]
    return _digest(parts)


def lab_recipe() -> str:
    """Identity of what `up` makes: every kind's image (a lab is reused only when equal)."""
    return _digest([recipe_hash(kind).encode() for kind in KINDS.values()])


@contextlib.contextmanager
def cache_lock() -> Iterator[int]:
    """Serialise image builds; yield the lock's fd for the build commands to inherit.

    Build commands keep the lock held even when a killed `lab up` leaves them
    running, so a new run waits for them instead of building in the same place.
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for another image build to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield lock.fileno()


def ensure_apt_package(tool: str, package: str) -> None:
    """Install a build tool with apt-get when the machine lacks it (CI machines are fresh)."""
    if shutil.which(tool):
        return
    log(f"installing {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if subprocess.run(install, stdout=sys.stderr, env=env, check=False).returncode != 0:
        run(["apt-get", "update"], capture=False, env=env)
        run(install, capture=False, env=env)


def ensure_base(kind: Kind, lock: int) -> Path:
    """Debootstrap the package set once (about 30-40 s) and keep it in the cache."""
    base = CACHE_DIR / f"base-{base_hash(kind)}" / "rootfs"
    if base.is_dir():
        return base
    ensure_apt_package("mmdebstrap", "mmdebstrap")
    tmp = CACHE_DIR / f".tmp-{base.parent.name}"
    remove_tree(tmp)
    tmp.mkdir(parents=True)
    log(f"building Debian {kind.suite} base tree with mmdebstrap (once)")
    run(["unshare", "--mount", "--propagation", "private",  # its mounts die with it
         "mmdebstrap", "--variant=minbase", "--aptopt=APT::Install-Recommends \"false\"",
         f"--include={','.join(kind.packages)}", kind.suite, str(tmp / "rootfs"), MIRROR],
        capture=False, pass_fds=(lock,))
    tmp.rename(base.parent)
    return base


def ensure_image(kind: Kind) -> Path:
    """Return the provisioned image of a kind for the current recipe, building it if needed.

    The image is built in a temporary folder and renamed into place, so an
    interrupted build never leaves a half image that looks complete.
    """
    digest = recipe_hash(kind)
    image = CACHE_DIR / digest / "rootfs"
    if image.is_dir():
        return image
    with cache_lock() as lock:
        if image.is_dir():
            return image
        started = time.monotonic()
        base = ensure_base(kind, lock)
        tmp = CACHE_DIR / f".tmp-{digest}"
        remove_tree(tmp)
        tmp.mkdir()
        log(f"provisioning {kind.name} image {digest}")
        run(["cp", "-a", str(base), str(tmp / "rootfs")])
        run(["unshare", "--mount", "--pid", "--net", "--uts", "--ipc", "--fork",
             "--propagation", "private", sys.executable, str(Path(__file__).resolve()),
             "_image-setup", kind.name, str(tmp / "rootfs")], capture=False, pass_fds=(lock,))
        tmp.rename(image.parent)
        current = {name for k in KINDS.values() for name in (recipe_hash(k), f"base-{base_hash(k)}")}
        for old in CACHE_DIR.iterdir():
            if old.is_dir() and old.name not in current:
                log(f"removing old cached image {old.name}")
                remove_tree(old)
        log(f"image ready in {time.monotonic() - started:.0f} s")
    return image


def image_setup(kind: Kind, root: Path) -> None:
    """Run image/<kind>/setup.sh chrooted in the new tree (we are in fresh namespaces)."""
    run(["ip", "link", "set", "lo", "up"])
    run(["mount", "-t", "proc", "proc", str(root / "proc")])
    run(["mount", "--rbind", "/dev", str(root / "dev")])
    run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", str(root / "run")])
    recipe = root / "tmp" / "spse-lab-recipe"
    shutil.copytree(RECIPE_DIR, recipe)
    try:
        run(["chroot", str(root), "/bin/sh", f"/tmp/spse-lab-recipe/{kind.name}/setup.sh"],
            capture=False, env=CLEAN_ENV)
    finally:
        shutil.rmtree(recipe, ignore_errors=True)


# ------------------------------------------------------------- host planning

@dataclass
class Host:
    """A lab host as tests see it."""

    name: str
    role: str
    ip: str
    groups: tuple[str, ...]
    db_host: str | None
    lab: Lab = field(repr=False, compare=False)
    kind: str = "bookworm"

    def exec(self, cmd: str | list[str], check: bool = True,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command inside the host (a string goes to /bin/sh -c)."""
        return self.lab.exec(self.name, cmd, check=check, input=input)


def plan_hosts(count: int, legacy: int = 0) -> list[dict]:
    """Names, roles, addresses and database links for `count` hosts and `legacy` more.

    Roles cycle app, db, aio (app1, db1, aio1, app2, ...). app<k> uses db<k>,
    else db1, else itself; aio hosts use their own local database. Legacy
    hosts (legacy1, ...) come after them and are app and database in one.
    """
    roles = [ROLES[index % len(ROLES)] for index in range(count)] + ["legacy"] * legacy
    hosts = []
    for index, role in enumerate(roles):
        name = f"{role}{roles[:index].count(role) + 1}"
        hosts.append({"name": name, "role": role, "groups": list(GROUPS[role]),
                      "kind": "legacy" if role == "legacy" else "bookworm",
                      "ip": f"{SUBNET}.{FIRST_HOST_IP + index}",
                      "netns": f"{NETNS_PREFIX}{name}", "veth": f"{VETH_PREFIX}{name}",
                      "volumes": [], "nics": [], "disks": [], "loops": [],
                      "running": False, "boot_pid": None, "init_pid": None})
    names = {h["name"] for h in hosts}
    for host in hosts:
        if host["role"] == "db":
            host["db_host"] = None
        elif host["role"] in ("aio", "legacy"):
            host["db_host"] = host["name"]
        else:
            same = "db" + host["name"][3:]
            host["db_host"] = same if same in names else ("db1" if "db1" in names else None)
    return hosts


# ------------------------------------------------------ host file provisioning

class Upper:
    """Writes a host's own files into its overlay upper dir before it boots.

    Directories created on the way copy owner and mode from the image, since
    an upper directory's attributes win over the image's in the merged view.
    """

    def __init__(self, image: Path, upper: Path) -> None:
        self.image = image
        self.upper = upper
        self.users = self._ids(image / "etc/passwd", 2)
        self.groups = self._ids(image / "etc/group", 2)

    @staticmethod
    def _ids(path: Path, column: int) -> dict[str, int]:
        ids = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if len(fields) > column:
                ids[fields[0]] = int(fields[column])
        return ids

    def owner(self, user: str, group: str | None = None) -> tuple[int, int]:
        """uid/gid of the image's accounts (they differ from this machine's)."""
        return self.users[user], self.groups[group or user]

    def path(self, rel: str) -> Path:
        """The upper path of an image path, with its parent directories made."""
        parts = rel.strip("/").split("/")
        for depth in range(1, len(parts)):
            sub = "/".join(parts[:depth])
            target = self.upper / sub
            if target.is_dir():
                continue
            target.mkdir()
            lower = self.image / sub
            if lower.is_dir() and not lower.is_symlink():
                info = lower.stat()
                os.chown(target, info.st_uid, info.st_gid)
                os.chmod(target, stat.S_IMODE(info.st_mode))
        return self.upper / rel.strip("/")

    def write(self, rel: str, text: str, mode: int = 0o644, user: str = "root",
              group: str | None = None) -> None:
        """Create a file with the given owner and mode."""
        target = self.path(rel)
        target.write_text(text, encoding="utf-8")
        os.chown(target, *self.owner(user, group))
        os.chmod(target, mode)

    def remove(self, rel: str) -> None:
        """Hide an image file or directory (an overlayfs whiteout)."""
        target = self.path(rel)
        os.mknod(target, stat.S_IFCHR, os.makedev(0, 0))

    def disable_service(self, name: str) -> None:
        """What `update-rc.d NAME disable` does: S links of runlevels 2-5 become K links."""
        for level in "2345":
            rc_dir = self.image / f"etc/rc{level}.d"
            for link in rc_dir.glob(f"S??{name}"):
                self.remove(f"etc/rc{level}.d/{link.name}")
                os.symlink(f"../init.d/{name}", self.path(f"etc/rc{level}.d/K01{name}"))

    def drop_service(self, name: str) -> None:
        """Remove an init script with all its rc links."""
        self.remove(f"etc/init.d/{name}")
        for link in self.image.glob(f"etc/rc?.d/[SK]??{name}"):
            self.remove(str(link.relative_to(self.image)))


def _password(length: int = 24) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def pg_settings(host: dict) -> str:
    """The tuning and pgBadger-friendly logging an LPSE DBA sets (Kind.pg_settings)."""
    listen = "*" if host["role"] == "db" else "localhost"
    return f"""# SPSE database settings ({host['name']})
listen_addresses = '{listen}'
port = 5432
max_connections = 200
shared_buffers = 128MB
work_mem = 8MB
maintenance_work_mem = 128MB
effective_cache_size = 1GB
timezone = 'Asia/Jakarta'
log_timezone = 'Asia/Jakarta'
lc_messages = 'C'
# logging for pgBadger
logging_collector = on
log_destination = 'stderr'
log_directory = 'log'
log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'
log_rotation_age = 1d
log_rotation_size = 100MB
log_min_duration_statement = 0
log_line_prefix = '%t [%p]: user=%u,db=%d,app=%a,client=%h '
log_checkpoints = on
log_connections = on
log_disconnections = on
log_lock_waits = on
log_temp_files = 0
log_autovacuum_min_duration = 0
"""


def application_conf(host: dict, db_ip: str | None, db_pass: str, file_store: str) -> str:
    """webapp/conf/application.conf as SPSE 4 ships it (Play key=value lines)."""
    db_addr = "localhost" if db_ip is None else db_ip
    return f"""# This is the main configuration file for the application SPSE 4.
# ~~~~~
application.name=spse4
application.mode=prod
%prod.application.mode=prod
# Secret key: keep it secret (signs sessions).
application.secret={secrets.token_urlsafe(48)[:64]}
application.lang=id
date.format=dd-MM-yyyy

# Server configuration
http.port=9009
http.path=/eproc4
jvm.memory=-Xmx2048m -Xms1024m

# Database configuration
db.url=jdbc:postgresql://{db_addr}:5432/epns_prod
db.driver=org.postgresql.Driver
db.user=epns
db.pass={db_pass}
db.pool.maxSize=60
db.pool.minSize=5

# SPSE
spse.version=4.5.20240601
spse.lpse.kode=999
spse.host={host['name']}
sikap.url=https://sikap.lkpp.go.id
spse3.url=http://localhost/eproc
file.path={file_store}
"""


def make_volume(image_file: Path, size_mb: int, label: str, source: Path | None = None,
                owner: tuple[int, int] = (0, 0)) -> None:
    """A sparse ext4 image, optionally filled from a folder (no mount needed)."""
    with open(image_file, "wb") as fh:
        fh.truncate(size_mb * 1024 * 1024)
    cmd = ["mkfs.ext4", "-q", "-F", "-L", label, "-E", f"root_owner={owner[0]}:{owner[1]}"]
    if source is not None:
        cmd += ["-d", str(source)]
    run([*cmd, str(image_file)])


def _comm(pid: int) -> str:
    """A process's name for messages ('?' once it is gone)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return "?"


# ------------------------------------------------------------------- the lab

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
        netns_ids = set()
        with contextlib.suppress(OSError):
            for entry in os.scandir("/run/netns"):
                wanted = (entry.name == f"{NETNS_PREFIX}{host}" if host
                          else entry.name.startswith(NETNS_PREFIX))
                if wanted:
                    with contextlib.suppress(OSError):
                        netns_ids.add(os.stat(entry.path).st_ino)
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
                               + ", ".join(f"{pid} ({_comm(pid)})" for pid in pids))
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._wait_gone(pids, 1.0)

    def _loop_table(self) -> dict[str, tuple[str, bool]]:
        """Loop devices backed by files of this lab: device -> (backing file, deleted)."""
        out = run(["losetup", "--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"],
                  check=False).stdout
        prefix = str(self.dir) + "/"
        loops = {}
        for line in out.splitlines():
            name, _, back = line.partition(" ")
            back = back.replace("\\x20", " ")
            deleted = back.endswith(" (deleted)")
            back = back.removesuffix(" (deleted)")
            if back.startswith(prefix):
                loops[name] = (back, deleted)
        return loops

    def _loops(self) -> dict[str, str]:
        """Loop devices backed by files of this lab: device -> backing file."""
        return {dev: back for dev, (back, _) in self._loop_table().items()}

    # ------------------------------------------------------------ lifecycle

    def up(self, count: int = 3, legacy: int = 0) -> Path:
        """Start `count` hosts and `legacy` legacy hosts (after clearing any old or stale lab).

        Returns the inventory.
        """
        if not 0 <= count <= MAX_HOSTS or not 0 <= legacy <= MAX_HOSTS - count or not count + legacy:
            raise LabError(f"host counts must be 0..{MAX_HOSTS} in all and not both 0, "
                           f"not {count} and {legacy} legacy", 2)
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
        kinds = {"bookworm"} if count else set()
        kinds |= {"legacy"} if legacy else set()
        images = {name: str(ensure_image(KINDS[name])) for name in sorted(kinds)}
        built = time.monotonic()
        for sub in ("hosts", "cp", "ansible/tmp"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "spse-lab", "-f", str(self.key)])
        hosts = plan_hosts(count, legacy)
        state = {"version": 2, "recipe": lab_recipe(), "images": images, "bridge": BRIDGE,
                 "started": time.time(), "hosts": {h["name"]: h for h in hosts}}
        self.save(state)
        self._bridge_up()
        db_passwords = {h["name"]: _password() for h in hosts if "spse_db" in h["groups"]}
        pubkey = self.key.with_suffix(".pub").read_text(encoding="utf-8")
        with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
            list(pool.map(lambda h: self._create(h, state, pubkey, db_passwords), hosts))
        for host in hosts:
            self._spawn(host, Path(images[host["kind"]]))
        self.save(state)
        self._await_boot(hosts)
        self.save(state)
        self._write_access_files(hosts)
        log(f"{len(hosts)} hosts up in {time.monotonic() - built:.1f} s"
            + (f" (image {built - started:.0f} s)" if built - started > 5 else ""))
        return self.inventory

    def _bridge_up(self) -> None:
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])

    def _create(self, host: dict, state: dict, pubkey: str, db_passwords: dict[str, str]) -> None:
        """Write a host's identity and role files and volumes, and wire its network."""
        name, kind = host["name"], KINDS[host["kind"]]
        image = Path(state["images"][kind.name])
        hostdir = self.dir / "hosts" / name
        for sub in ("upper", "work", "merged", "vol"):
            (hostdir / sub).mkdir(parents=True)
        upper = Upper(image, hostdir / "upper")
        others = "".join(f"{h['ip']}\t{h['name']}\n" for h in state["hosts"].values())
        upper.write("etc/hostname", f"{name}\n")
        upper.write("etc/hosts", f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n{others}")
        upper.write("etc/machine-id", secrets.token_hex(16) + "\n", 0o444)
        for key_type in ("rsa", "ecdsa", "ed25519"):
            run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", f"root@{name}",
                 "-f", str(upper.path(f"etc/ssh/ssh_host_{key_type}_key"))])
        upper.write("home/ansible/.ssh/authorized_keys", pubkey, 0o600, "ansible")
        if "spse_db" in host["groups"]:
            self._create_db(host, kind, upper, image, db_passwords[name])
        else:
            upper.disable_service("postgresql")
            upper.remove("etc/postgresql/15/main")
            upper.remove("var/lib/postgresql/15")
        if "spse_app" in host["groups"]:
            db_host = host["db_host"]
            db_ip = None if db_host in (None, name) else state["hosts"][db_host]["ip"]
            self._create_app(host, kind, upper, image, db_ip, db_passwords.get(db_host or "", ""))
        else:
            upper.disable_service("apache2")
            upper.drop_service("spse4")
            upper.remove("home/appserv/spse")
            upper.remove("home/file")
            upper.remove("etc/apache2/sites-enabled/spse.conf")
        self._network(host)

    def _create_db(self, host: dict, kind: Kind, upper: Upper, image: Path, password: str) -> None:
        """PostgreSQL settings, the epns password, and the data volume with .pgpass.

        The settings go to their own file, or are appended to postgresql.conf
        when it lives in the data directory (the PGDG layout), on the volume.
        """
        upper.write("etc/spse-lab/firstboot.sql",
                    "SET log_statement = 'none';\nSET log_min_duration_statement = -1;\n"
                    f"ALTER ROLE epns PASSWORD '{password}';\n", 0o600)
        hostdir = upper.upper.parent
        staging = hostdir / "vol" / "pgdata.d"
        run(["cp", "-a", str(image / kind.pg_seed.lstrip("/")), str(staging)])
        settings = Path(kind.pg_settings)
        if settings.is_relative_to(kind.pg_volume):
            with open(staging / settings.relative_to(kind.pg_volume), "a", encoding="utf-8") as conf:
                conf.write("\n" + pg_settings(host))
        else:
            upper.write(str(settings), pg_settings(host), 0o644, "postgres")
        pgpass = staging / ".pgpass"
        pgpass.write_text(f"localhost:5432:epns_prod:epns:{password}\n"
                          f"*:*:epns_prod:epns:{password}\n*:*:epns_lat:epns:{password}\n",
                          encoding="utf-8")
        os.chown(pgpass, *upper.owner("postgres"))
        os.chmod(pgpass, 0o600)
        volume = hostdir / "vol" / "pgdata.img"
        make_volume(volume, PG_VOLUME_MB, "pgdata", staging, upper.owner("postgres"))
        shutil.rmtree(staging)
        host["volumes"].append({"image": str(volume), "mountpoint": kind.pg_volume})

    def _create_app(self, host: dict, kind: Kind, upper: Upper, image: Path, db_ip: str | None,
                    db_pass: str) -> None:
        """application.conf, the HTTPS certificate, and the file_prod volume."""
        name = host["name"]
        upper.write("home/appserv/spse/webapp/conf/application.conf",
                    application_conf(host, db_ip, db_pass, kind.file_store), 0o640, "appserv")
        if (image / "etc/apache2/conf-available").is_dir():
            upper.write("etc/apache2/conf-available/servername.conf", f"ServerName {name}\n")
        key = upper.path(kind.tls_key)
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "825", "-subj",
             f"/O=LPSE Lab/CN={name}", "-addext", f"subjectAltName=DNS:{name},IP:{host['ip']}",
             "-keyout", str(key), "-out", str(upper.path(kind.tls_cert))])
        os.chmod(key, 0o600)
        volume = self.dir / "hosts" / name / "vol" / "file_prod.img"
        make_volume(volume, FILE_VOLUME_MB, "file_prod", image / kind.file_store.lstrip("/"),
                    upper.owner("appserv"))
        host["volumes"].append({"image": str(volume), "mountpoint": kind.file_store})

    def _network(self, host: dict) -> None:
        """A network namespace with eth0 on the lab bridge and a default route to it."""
        netns, veth = host["netns"], host["veth"]
        run(["ip", "netns", "add", netns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
        run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
        for cmd in (["link", "set", "lo", "up"], ["addr", "add", f"{host['ip']}/24", "dev", "eth0"],
                    ["link", "set", "eth0", "up"], ["route", "add", "default", "via", GATEWAY]):
            run(["ip", "-n", netns, *cmd])

    def _spawn(self, host: dict, image: Path) -> None:
        """Start the host: namespaces, overlay and volumes, then chroot + exec init."""
        hostdir = self.dir / "hosts" / host["name"]
        boot = [sys.executable, str(Path(__file__).resolve()), "_boot",
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

    def _release_loops(self, prefix: str, timeout: float = 5.0) -> list[str]:
        """Wait for the kernel to free auto-clear loop devices; return those it did not.

        A loop device of a host goes away by itself when the last mount of its
        file system does (the host's mount namespace ends with its processes).
        One still there after that is detached by hand; if that does not free
        it, its file system is still mounted somewhere and it is returned.
        A loop whose file is already deleted is a leak of an earlier lab: no
        waiting for those.
        """
        deadline = time.monotonic() + timeout
        detached = False
        while True:
            table = self._loop_table()
            left = [dev for dev, (back, _) in table.items() if back.startswith(prefix)]
            if not left:
                return []
            if detached or time.monotonic() > deadline or all(table[d][1] for d in left):
                if detached:
                    return [f"{dev} ({table[dev][0]}{' (deleted)' if table[dev][1] else ''})"
                            for dev in left]
                for dev in left:
                    run(["losetup", "-d", dev], check=False)
                detached = True
                deadline = time.monotonic() + 1.0
                time.sleep(0.2)
                continue
            time.sleep(0.05)

    @staticmethod
    def _leak_report(loops: list[str]) -> str:
        """Say what is left and which processes may pin it."""
        devices = {entry.split()[0] for entry in loops}
        holders, detached = [], []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError):
                if not Path(f"/proc/{entry}/cmdline").read_bytes():
                    continue  # kernel thread or zombie
                mountinfo = Path(f"/proc/{entry}/mountinfo").read_text()
                if not mountinfo:
                    detached.append(f"{entry} ({_comm(int(entry))})")
                elif any(line.split(" - ")[-1].split()[1:2] == [dev]
                         for line in mountinfo.splitlines() for dev in devices):
                    holders.append(f"{entry} ({_comm(int(entry))})")
        if holders:
            hint = f"mounted in the mount namespace of: {', '.join(holders)}"
        elif detached:
            hint = f"maybe by a process with a detached root (empty mountinfo): {', '.join(detached)}"
        else:
            hint = ("no process shows it: look for a mount namespace kept by an nsfs bind mount "
                    "or an open /proc/PID/ns/mnt")
        return (f"loop devices still in use after the lab went down: {', '.join(loops)}; "
                f"their file systems are still mounted ({hint})")

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
        leaked = self._release_loops(str(self.dir) + "/")
        for netns in run(["ip", "netns", "list"], check=False).stdout.split("\n"):
            name = netns.split(" ")[0]
            if name.startswith(NETNS_PREFIX):
                run(["ip", "netns", "delete", name], check=False)
        for link in json.loads(run(["ip", "-j", "link", "show"]).stdout or "[]"):
            if link["ifname"] == BRIDGE or link["ifname"].startswith(VETH_PREFIX):
                run(["ip", "link", "delete", link["ifname"]], check=False)
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
                raise LabError(self._leak_report(leaked))
            log(f"warning: {self._leak_report(leaked)}")

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
        leaked = self._release_loops(str(self.dir / "hosts" / name) + "/")
        if leaked:  # booting it again would mount the same ext4 image twice
            raise LabError(self._leak_report(leaked))

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
        name = getattr(name, "name", name)
        state = self._state()
        host = self._host(state, name)
        links = json.loads(run(["ip", "-n", host["netns"], "-j", "link", "show"]).stdout)
        used = {link["ifname"] for link in links}
        index = next(i for i in range(1, 100) if f"eth{i}" not in used)
        nic, peer = f"eth{index}", f"{VETH_PREFIX}{name}-e{index}"
        run(["ip", "link", "add", peer, "type", "veth", "peer", "name", nic, "netns", host["netns"]])
        run(["ip", "-n", host["netns"], "link", "set", nic, "up"])
        run(["ip", "link", "set", peer, "up"])
        info = json.loads(run(["ip", "-n", host["netns"], "-j", "link", "show", nic]).stdout)[0]
        entry = {"name": nic, "peer": peer, "mac": info["address"]}
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
        run(["ip", "-n", host["netns"], "link", "delete", entry["name"]])
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
        loops = [dev for dev, back in self._loops().items() if back == str(image)]
        entry = {"image": str(image), "mountpoint": mountpoint, "size_mb": size_mb,
                 "device": loops[0] if loops else None}
        host["disks"].append(entry)
        host["loops"] += loops
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
        leaked = self._release_loops(entry["image"])
        if leaked:
            raise LabError(self._leak_report(leaked))
        Path(entry["image"]).unlink(missing_ok=True)
        host["disks"].remove(entry)
        host["loops"] = [dev for dev in host["loops"] if dev != entry.get("device")]
        self.save(state)
        return entry


# ------------------------------------------------------------ hidden helpers

def boot(lower: str, upper: str, work: str, merged: str, volumes: list[list[str]]) -> None:
    """Inside the host's new namespaces: mount its root and volumes, become its init."""
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={lower},upperdir={upper},workdir={work}", merged])
    for image, mountpoint in volumes:
        target = Path(merged) / mountpoint.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        run(["mount", "-o", "loop", image, str(target)])
    os.chroot(merged)
    os.chdir("/")
    os.execve("/sbin/init", ["/sbin/init"], CLEAN_ENV)


# ------------------------------------------------------------------- the CLI

class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input in one line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"lab: {message} (see: tests/lab/lab --help)", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tests/lab/lab", description="SPSE test lab: hosts that look like "
                     "SPSE servers, reachable by Ansible over SSH.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    up = sub.add_parser("up", help="start N hosts (default 3); print the inventory path")
    up.add_argument("count", nargs="?", type=int, default=3)
    up.add_argument("--legacy", type=int, default=0, metavar="M",
                    help="also start M legacy hosts (Debian bullseye laid out like CentOS 7, "
                         "Python 2.7 only)")
    sub.add_parser("down", help="stop all hosts and remove everything the lab made")
    sub.add_parser("status", help="list hosts and their state")
    for verb in ("stop", "start"):
        sub.add_parser(verb, help=f"{verb} one host").add_argument("host")
    ex = sub.add_parser("exec", help="run a command inside a host")
    ex.add_argument("host")
    ex.add_argument("argv", nargs=argparse.REMAINDER)
    sub.add_parser("add-nic", help="plug a new NIC into a host").add_argument("host")
    rn = sub.add_parser("remove-nic", help="unplug an added NIC (default: the last)")
    rn.add_argument("host")
    rn.add_argument("nic", nargs="?")
    ad = sub.add_parser("add-disk", help="attach and mount a new ext4 disk")
    ad.add_argument("host")
    ad.add_argument("size_mb", type=int)
    rd = sub.add_parser("remove-disk", help="unmount and delete an added disk (default: the last)")
    rd.add_argument("host")
    rd.add_argument("mountpoint", nargs="?")
    return parser


def _hidden(argv: list[str]) -> int:
    """Entry points that labctl runs in new namespaces (not for people)."""
    if argv[0] == "_image-setup":
        image_setup(KINDS[argv[1]], Path(argv[2]))
        return 0
    parser = _Parser(prog="labctl _boot")
    for option in ("--lower", "--upper", "--work", "--merged"):
        parser.add_argument(option, required=True)
    parser.add_argument("--volume", nargs=2, action="append", default=[])
    args = parser.parse_args(argv[1:])
    boot(args.lower, args.upper, args.work, args.merged, args.volume)
    return 1


def _cli(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    lab = Lab()
    if args.command == "up":
        print(lab.up(args.count, args.legacy))
    elif args.command == "down":
        lab.down()
        log("lab is down")
    elif args.command == "status":
        rows = lab.status()
        if not rows:
            print("no lab is up")
        for row in rows:
            extra = " ".join([*row["nics"], *row["disks"]])
            print(f"{row['name']:<8} {row['role']:<6} {row['ip']:<14} {row['state']:<8} "
                  f"{row['pid'] or '-':<8} {extra}".rstrip())
    elif args.command == "stop":
        lab.stop(args.host)
        print(f"{args.host}: stopped")
    elif args.command == "start":
        lab.start(args.host)
        print(f"{args.host}: running")
    elif args.command == "exec":
        if not args.argv:
            raise LabError("exec needs a command", 2)
        argv = lab.exec_argv(args.host, args.argv)
        sys.stdout.flush()
        os.execvp(argv[0], argv)
    elif args.command == "add-nic":
        nic = lab.add_nic(args.host)
        print(f"{args.host}: added {nic['name']} (mac {nic['mac']}, peer {nic['peer']})")
    elif args.command == "remove-nic":
        nic = lab.remove_nic(args.host, args.nic)
        print(f"{args.host}: removed {nic['name']}")
    elif args.command == "add-disk":
        disk = lab.add_disk(args.host, args.size_mb)
        print(f"{args.host}: added {disk['size_mb']} MB ext4 disk {disk['device']} "
              f"mounted at {disk['mountpoint']}")
    elif args.command == "remove-disk":
        disk = lab.remove_disk(args.host, args.mountpoint)
        print(f"{args.host}: removed disk {disk['mountpoint']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the `lab` command; errors are one line on stderr, never a traceback."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] in ("_boot", "_image-setup"):
            return _hidden(argv)
        return _cli(argv)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
