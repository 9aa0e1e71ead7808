"""SPSE test lab, hosts: planning names and roles, writing each host's own files, booting it."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab_base import CLEAN_ENV, run
from lab_image import KINDS, Kind
from lab_network import FIRST_HOST_IP, NETNS_PREFIX, SUBNET, VETH_PREFIX, wire
from lab_volumes import FILE_VOLUME_MB, PG_VOLUME_MB, make_volume

if TYPE_CHECKING:
    from labctl import Lab

MAX_HOSTS = 200
ROLES = ("app", "db", "aio")  # of bookworm hosts, in turn; legacy hosts have role "legacy"
GROUPS = {"app": ("spse_app",), "db": ("spse_db",), "aio": ("spse_app", "spse_db"),
          "legacy": ("spse_app", "spse_db")}


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


def password(length: int = 24) -> str:
    """A random password without look-alike characters."""
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


def create_host(host: dict, state: dict, hostdir: Path, pubkey: str,
                db_passwords: dict[str, str]) -> None:
    """Write a host's identity and role files and volumes in hostdir, and wire its network."""
    name, kind = host["name"], KINDS[host["kind"]]
    image = Path(state["images"][kind.name])
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
        _create_db(host, kind, upper, image, db_passwords[name])
    else:
        upper.disable_service("postgresql")
        upper.remove("etc/postgresql/15/main")
        upper.remove("var/lib/postgresql/15")
    if "spse_app" in host["groups"]:
        db_host = host["db_host"]
        db_ip = None if db_host in (None, name) else state["hosts"][db_host]["ip"]
        _create_app(host, kind, upper, image, db_ip, db_passwords.get(db_host or "", ""))
    else:
        upper.disable_service("apache2")
        upper.drop_service("spse4")
        upper.remove("home/appserv/spse")
        upper.remove("home/file")
        upper.remove("etc/apache2/sites-enabled/spse.conf")
    wire(host)

def _create_db(host: dict, kind: Kind, upper: Upper, image: Path, password: str) -> None:
    """PostgreSQL settings, the epns password, and the data volume with .pgpass.

    The settings go to their own file, or are appended to postgresql.conf
    when it lives in the data directory (the PGDG layout), on the volume.
    """
    upper.write("etc/spse-lab/firstboot.sql",
                "SET log_statement = 'none';\nSET log_min_duration_statement = -1;\n"
                f"ALTER ROLE epns PASSWORD '{password}';\n", 0o600)
    hostdir = upper.upper.parent
    staging = hostdir / "vol" / "pgdata.d"
    run(["cp", "-a", str(image / kind.pg_volume.lstrip("/")), str(staging)])
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

def _create_app(host: dict, kind: Kind, upper: Upper, image: Path, db_ip: str | None,
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
    volume = upper.upper.parent / "vol" / "file_prod.img"
    make_volume(volume, FILE_VOLUME_MB, "file_prod", image / kind.file_store.lstrip("/"),
                upper.owner("appserv"))
    host["volumes"].append({"image": str(volume), "mountpoint": kind.file_store})


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
