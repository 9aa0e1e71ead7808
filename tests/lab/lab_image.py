"""SPSE test lab, images: one cached, provisioned root file system per host kind.

A kind's bare Debian tree (mmdebstrap) is cached by its package list, the
provisioned image (image/common + image/<kind>, run by image/<kind>/setup.sh)
by its recipe hash, both under /var/cache/spse-lab.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lab_base import CLEAN_ENV, HERE, LAB_COMMAND, digest, log, remove_tree, run

RECIPE_DIR = HERE / "image"
CACHE_DIR = Path(os.environ.get("SPSE_LAB_CACHE", "/var/cache/spse-lab"))
MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class Kind:
    """One kind of lab host: its Debian suite and packages, and where its layout puts things."""

    name: str
    suite: str
    packages: tuple[str, ...]
    python: str | None  # the inventory's ansible_python_interpreter (None: Ansible discovers it)
    pg_volume: str  # the database volume's mount point, filled from the image's folder there
    pg_settings: str  # the file that gets the per-host PostgreSQL settings
    file_store: str
    tls_cert: str
    tls_key: str


KINDS = {kind.name: kind for kind in (
    Kind(name="bookworm", suite="bookworm", packages=(
        "openssh-server", "python3", "python3-apt", "python3-psycopg2", "sudo", "acl",
        "postgresql", "apache2", "libapache2-mod-security2", "libapache2-mod-evasive",
        "cron", "chrony", "openssl", "ca-certificates", "curl", "tzdata", "netbase",
        "iproute2", "iputils-ping", "procps", "kmod", "e2fsprogs", "util-linux", "less",
    ), python="/usr/bin/python3", pg_volume="/var/lib/postgresql",
        pg_settings="/etc/postgresql/15/main/conf.d/spse.conf", file_store="/home/file/file_prod",
        tls_cert="/etc/ssl/certs/spse.crt", tls_key="/etc/ssl/private/spse.key"),
    # Laid out like a CentOS 7 SPSE server; python2.7 is its only Python (no lsb-release:
    # it would pull in python3).
    Kind(name="legacy", suite="bullseye", packages=(
        "openssh-server", "python2.7", "sudo", "acl", "postgresql-13", "postgresql-client-13",
        "apache2", "libapache2-mod-security2", "cron", "chrony", "openssl", "ca-certificates",
        "curl", "tzdata", "netbase", "iproute2", "iputils-ping", "procps", "kmod", "e2fsprogs",
        "util-linux", "less", "init-system-helpers", "hostname",
    ), python=None, pg_volume="/var/lib/pgsql",
        pg_settings="/var/lib/pgsql/13/data/postgresql.conf", file_store="/home/file_prod",
        tls_cert="/etc/pki/tls/certs/spse.crt", tls_key="/etc/pki/tls/private/spse.key"),
)}


def base_hash(kind: Kind) -> str:
    """Identity of the bare Debian tree: only the suite and package set matter."""
    return digest([kind.suite.encode(), MIRROR.encode(), " ".join(kind.packages).encode()])


def recipe_hash(kind: Kind) -> str:
    """Identity of a provisioned image: this module plus the kind's and the common recipe files."""
    parts = [Path(__file__).resolve().read_bytes(), kind.name.encode()]
    for sub in ("common", kind.name):
        for path in sorted((RECIPE_DIR / sub).rglob("*")):
            if path.is_file():
                parts += [str(path.relative_to(RECIPE_DIR)).encode(), path.read_bytes(),
                          str(path.stat().st_mode & 0o777).encode()]
    return digest(parts)


def lab_recipe() -> str:
    """Identity of what `up` makes: every kind's image and the lab's code.

    A running lab is reused (by the pytest fixture) only when this is equal.
    """
    parts = [recipe_hash(kind).encode() for kind in KINDS.values()]
    return digest(parts + [path.read_bytes() for path in sorted(HERE.glob("lab*.py"))])


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
    recipe = recipe_hash(kind)
    image = CACHE_DIR / recipe / "rootfs"
    if image.is_dir():
        return image
    with cache_lock() as lock:
        if image.is_dir():
            return image
        started = time.monotonic()
        base = ensure_base(kind, lock)
        tmp = CACHE_DIR / f".tmp-{recipe}"
        remove_tree(tmp)
        tmp.mkdir()
        log(f"provisioning {kind.name} image {recipe}")
        run(["cp", "-a", str(base), str(tmp / "rootfs")])
        run(["unshare", "--mount", "--pid", "--net", "--uts", "--ipc", "--fork",
             "--propagation", "private", sys.executable, str(LAB_COMMAND),
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
