"""SPSE test lab, the `tests/lab/lab` command (see tests/lab/README.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lab_base import LabError, log
from lab_hosts import boot
from lab_image import KINDS, image_setup
from lab_timeserver import serve
from labctl import Lab


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
    if argv[0] == "_timeserver":  # argv: _timeserver ADDRESS LAB_DIR (the lab dir marks it)
        serve(argv[1])
        return 1
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
        if argv and argv[0] in ("_boot", "_image-setup", "_timeserver"):
            return _hidden(argv)
        return _cli(argv)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
