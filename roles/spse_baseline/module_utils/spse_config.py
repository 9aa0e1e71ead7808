"""Parsers for the configuration files captured from SPSE servers.

Runs on the managed host inside the spse_baseline_facts module (bundled by
AnsiballZ), so: Python 3.8 syntax, standard library only, no I/O.  Each parser
turns a file's text into a JSON-ready dict whose values are strings as written
(or lists and dicts of them), with no comment text, so that a baseline diff
shows real changes only.  Secret values are replaced by a keyed hash before the
dict is returned: the clear value never leaves the host.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import re
from typing import Any, Dict, Sequence, Tuple

Line = Tuple[int, str]  # (first physical line number, logical line text)
Tree = Dict[str, Any]


class ParseError(Exception):
    """The file's text is not of the kind we expected; the caller keeps a hash only.

    Messages give a line number and a reason, never the line's text: it may hold a secret.
    """


class Redactor:
    """Replaces secret values by a keyed hash so a change is detected but the value never leaves
    the host."""

    PREFIX = "secret:hmac-sha256:"

    def __init__(self, key: bytes, patterns: Sequence[str]) -> None:
        if not key:
            raise ValueError("the redaction key must not be empty")
        self._key = key
        self._patterns = tuple(pattern.lower() for pattern in patterns)

    def is_secret(self, name: str) -> bool:
        name = name.lower()
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self._patterns)

    def hash_bytes(self, data: bytes) -> str:
        """Marker for raw content (a whole secret-bearing file)."""
        return self.PREFIX + hmac.new(self._key, data, hashlib.sha256).hexdigest()[:32]

    def hash(self, value: str) -> str:
        return self.hash_bytes(value.encode("utf-8", "surrogateescape"))

    def redact(self, name: str, value: str) -> str:
        return self.hash(value) if self.is_secret(name) else value


# -- shared helpers -------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][\w.-]*$")
_WORD = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\S+")


def _lines(text: str, comment: str = "#", inline: bool = False, quote: str = "",
           join: bool = False) -> list[Line]:
    """Stripped, non-blank lines without comments, numbered by their first physical line.

    ``comment``: characters that start a comment line; with ``inline`` they also start a comment
    mid-line, outside ``quote`` characters.  ``join``: a line ending in an odd number of
    backslashes continues on the next one, whose leading blanks are dropped (Java properties;
    Apache arguments are whitespace-normalised anyway).  Comment lines are never continued.
    """
    result: list[Line] = []
    pending: Line | None = None
    for number, raw in enumerate(text.lstrip("\ufeff").replace("\r\n", "\n").split("\n"), 1):
        if pending is not None:
            number, raw = pending[0], pending[1] + raw.lstrip()
            pending = None
        elif not raw.strip() or raw.lstrip()[0] in comment:
            continue
        if join and (len(raw) - len(raw.rstrip("\\"))) % 2:
            pending = (number, raw[:-1])
            continue
        if inline:
            raw = _cut_comment(raw, comment, quote)
        if raw.strip():
            result.append((number, raw.strip()))
    if pending is not None and pending[1].strip():
        result.append((pending[0], pending[1].strip()))
    return result


def _cut_comment(line: str, comment: str, quote: str) -> str:
    quoted = False
    for index, char in enumerate(line):
        if char in quote:
            quoted = not quoted
        elif char in comment and not quoted:
            return line[:index]
    return line


def _unique(tree: Tree, key: str) -> str:
    """``key``, or ``key #n`` for its n-th occurrence, so repeated records keep their own entry."""
    candidate, count = key, 1
    while candidate in tree:
        count += 1
        candidate = f"{key} #{count}"
    return candidate


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _directive(line: Line, separator: str = r"\s+") -> tuple[str, str]:
    """(name, arguments) of a ``Name args`` line; arguments whitespace-normalised, quotes kept."""
    number, text = line
    parts = re.split(separator, text, maxsplit=1)
    if not _NAME.match(parts[0]):
        raise ParseError(f"line {number}: not a directive")
    return parts[0], " ".join(_WORD.findall(parts[1] if len(parts) > 1 else ""))


# -- parsers --------------------------------------------------------------------------------------


class Parser:
    """One kind of configuration file; ``parse`` returns its settings with secrets redacted."""

    kind = ""
    description = ""
    public: tuple[str, ...] = ()  # lowercased names that hold no secret though patterns match

    def parse(self, text: str, redactor: Redactor) -> Tree:
        raise NotImplementedError

    def redact(self, redactor: Redactor, name: str, value: str) -> str:
        return value if name.lower() in self.public else redactor.redact(name, value)


class PlayConf(Parser):
    """SPSE ``webapp/conf/application.conf`` (Play 1.x, read as Java properties).

    Flat ``{key: value}``, last occurrence wins as in Play.  ``%prod.`` framework-id prefixes stay
    in the key; secrecy is judged on the key with and without the prefix (``%prod.db.pass``).
    """

    kind = "play_conf"
    description = "Play Framework application.conf (SPSE webapp/conf)"
    _LINE = re.compile(r"([^=:\s]+)\s*[=:]\s*(.*)$")
    _FRAMEWORK_ID = re.compile(r"^%[^.]*\.")

    def parse(self, text: str, redactor: Redactor) -> Tree:
        result: Tree = {}
        for number, line in _lines(text, "#!", join=True):
            match = self._LINE.match(line)
            if not match:
                raise ParseError(f"line {number}: not a key=value line")
            key, value = match.groups()
            secret = redactor.is_secret(key) or redactor.is_secret(self._FRAMEWORK_ID.sub("", key))
            result[key] = redactor.hash(value) if secret else value
        return result


class PostgresqlConf(Parser):
    """``postgresql.conf``, ``conf.d/*.conf`` and ``postgresql.auto.conf``.

    Flat ``{name: value}`` with names lowercased and quoted values unquoted; last wins as in the
    server.  Include directives are kept (value = path) for the caller to follow; a repeated one
    becomes ``include #2`` so no path is lost.
    """

    kind = "postgresql_conf"
    description = "PostgreSQL server settings file"
    _LINE = re.compile(r"([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)*)(?:\s*=\s*|\s+)"
                       r"('(?:[^'\\]|''|\\.)*'|[^\s'#]+)\s*(?:#.*)?$")
    _ESCAPE = re.compile(r"''|\\(.)")
    _ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
    INCLUDES = ("include", "include_dir", "include_if_exists")

    def parse(self, text: str, redactor: Redactor) -> Tree:
        result: Tree = {}
        for number, line in _lines(text):
            match = self._LINE.match(line)
            if not match:
                raise ParseError(f"line {number}: not a 'name = value' line")
            name, value = match.group(1).lower(), self._unquote(match.group(2))
            if name in self.INCLUDES:
                result[_unique(result, name)] = value
            else:
                result[name] = self.redact(redactor, name, value)
        return result

    def _unquote(self, value: str) -> str:
        if not value.startswith("'"):
            return value
        return self._ESCAPE.sub(
            lambda m: "'" if m.group(1) is None else self._ESCAPES.get(m.group(1), m.group(1)),
            value[1:-1])


class PgHba(Parser):
    """``pg_hba.conf``: first matching rule wins, so each rule carries its ``order``.

    ``{"rules": {"<type> <database> <user> <address>": {"order", "method", "options"}}}``, address
    ``-`` for ``local`` and ``ADDRESS MASK`` when a mask is given.  Database and user fields keep
    their double quotes (quoting changes their meaning); option values are unquoted.  A repeated
    rule key gets `` #2``.  Include lines become ``"<directive> <path>": {"order", "path"}``.
    """

    kind = "pg_hba"
    description = "PostgreSQL client authentication rules"
    TYPES = ("local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")
    _WORD = re.compile(r"(?:\"[^\"]*\"|[^\s\"])+")
    _MASK = re.compile(r"[0-9A-Fa-f:.]*[.:][0-9A-Fa-f:.]*$")

    def parse(self, text: str, redactor: Redactor) -> Tree:
        rules: Tree = {}
        lines = _lines(text, inline=True, quote='"', join=True)
        for order, (number, line) in enumerate(lines, 1):
            words = self._WORD.findall(line) or [""]
            if words[0] in PostgresqlConf.INCLUDES:
                if len(words) != 2:
                    raise ParseError(f"line {number}: include takes one path")
                rules[_unique(rules, " ".join(words))] = {"order": order,
                                                          "path": _unquote(words[1])}
                continue
            if words[0] not in self.TYPES:
                raise ParseError(f"line {number}: unknown connection type")
            if words[0] == "local":
                method_at, address = 3, "-"
            else:
                with_mask = (len(words) > 4 and "/" not in words[3]
                             and bool(self._MASK.match(words[4])))
                method_at = 5 if with_mask else 4
                address = " ".join(words[3:method_at])
            if len(words) <= method_at:
                raise ParseError(f"line {number}: too few fields")
            options = {}
            for word in words[method_at + 1:]:
                name, equals, value = word.partition("=")
                if not equals:
                    raise ParseError(f"line {number}: option not in name=value form")
                options[name] = self.redact(redactor, name, _unquote(value))
            key = _unique(rules, " ".join([*words[:3], address]))
            rules[key] = {"order": order, "method": words[method_at], "options": options}
        return {"rules": rules}


class Pgpass(Parser):
    """``~/.pgpass`` of postgres, root and appserv: which accounts have a stored password.

    ``{"entries": {"host:port:db:user": marker}}``, key fields as written (escapes kept); the
    password is always hashed.  A repeated key gets `` #2`` (libpq uses the first match).
    """

    kind = "pgpass"
    description = "libpq password file"
    _FIELD = r"((?:[^:\\]|\\.)*)"
    _LINE = re.compile(r":".join([_FIELD] * 4) + r":(.*)$")

    def parse(self, text: str, redactor: Redactor) -> Tree:
        entries: Tree = {}
        for number, line in _lines(text):
            match = self._LINE.match(line)
            if not match:
                raise ParseError(f"line {number}: not host:port:database:user:password")
            key = _unique(entries, ":".join(match.groups()[:4]))
            entries[key] = redactor.hash(re.sub(r"\\(.)", r"\1", match.group(5)))
        return {"entries": entries}


class ApacheConf(Parser):
    """Apache httpd files (``httpd.conf``, ``conf.d/spse.conf``, ``ssl.conf``, sites).

    Nested dict mirroring the sections: ``"<Name> <args>"`` (no angle brackets) maps to the
    section's own dict, a directive name (case as written) to the list of its argument strings in
    file order, whitespace-normalised with quotes kept.  A repeated section gets `` #2``.
    ``ServerTokens`` is a hardening fact, not a secret, though ``*token*`` matches it.
    """

    kind = "apache_conf"
    description = "Apache httpd configuration"
    public = ("servertokens",)

    def parse(self, text: str, redactor: Redactor) -> Tree:
        root: Tree = {}
        stack: list[tuple[str, Tree]] = [("", root)]
        for number, line in _lines(text, join=True):
            if line.startswith("</"):
                if not line.endswith(">") or len(stack) == 1 \
                        or line[2:-1].strip().lower() != stack[-1][0].lower():
                    raise ParseError(f"line {number}: unbalanced section end")
                stack.pop()
            elif line.startswith("<"):
                words = _WORD.findall(line[1:-1])
                if not line.endswith(">") or not words or not _NAME.match(words[0]):
                    raise ParseError(f"line {number}: malformed section start")
                section: Tree = {}
                stack[-1][1][_unique(stack[-1][1], " ".join(words))] = section
                stack.append((words[0], section))
            else:
                name, args = _directive((number, line))
                stack[-1][1].setdefault(name, []).append(self.redact(redactor, name, args))
        if len(stack) > 1:
            raise ParseError(f"{len(stack) - 1} section(s) not closed at end of file")
        return root


class Sysctl(Parser):
    """``/etc/sysctl.conf`` and ``sysctl.d``: flat ``{key: value}`` in dotted form, last wins.

    A leading ``-`` (ignore errors) is dropped; a key whose first separator is ``/`` has its
    slashes and dots swapped, as sysctl does, so both spellings give the same key.
    """

    kind = "sysctl"
    description = "kernel parameters"

    def parse(self, text: str, redactor: Redactor) -> Tree:
        result: Tree = {}
        for number, line in _lines(text, "#;"):
            key, equals, value = (line[1:] if line.startswith("-") else line).partition("=")
            key = key.strip()
            if not equals or not key or re.search(r"\s", key):
                raise ParseError(f"line {number}: not a key = value line")
            separator = re.search(r"[./]", key)
            if separator and separator.group() == "/":
                key = key.translate(str.maketrans("./", "/."))
            result[key] = self.redact(redactor, key, value.strip())
        return result


class Limits(Parser):
    """``/etc/security/limits.conf`` and ``limits.d``: ``{"<domain> <type> <item>": value}``."""

    kind = "limits"
    description = "PAM resource limits"

    def parse(self, text: str, redactor: Redactor) -> Tree:
        result: Tree = {}
        for number, line in _lines(text, inline=True):
            fields = line.split()
            if len(fields) != 4 or fields[1] not in ("soft", "hard", "-"):
                raise ParseError(f"line {number}: not '<domain> <type> <item> <value>'")
            result[" ".join(fields[:3])] = self.redact(redactor, fields[2], fields[3])
        return result


class Crontab(Parser):
    """System and user crontabs (``/etc/crontab``, ``/etc/cron.d``, spool files).

    ``{"env": {NAME: value}, "entries": [line, ...]}``: entries whitespace-normalised in file
    order (several may be identical).  Secret env values are hashed, and so is the value of any
    ``…PASS…=``/``…SECRET…=``/``…TOKEN…=`` assignment inside a command (``PGPASSWORD=…``).
    """

    kind = "crontab"
    description = "cron table"
    _ENV = re.compile(r"([A-Za-z_]\w*)\s*=\s*(.*)$")
    _TIME = re.compile(r"[\w*/,-]+$")
    _NICKNAMES = ("@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily",
                  "@midnight", "@hourly")
    _INLINE_SECRET = re.compile(r"(?i)(\w*(?:pass|secret|token)\w*)=('[^']*'|\"[^\"]*\"|\S+)")

    def parse(self, text: str, redactor: Redactor) -> Tree:
        env: Tree = {}
        entries: list[str] = []
        for number, line in _lines(text):
            words = line.split()
            if words[0] in self._NICKNAMES:
                schedule = 1
            elif all(self._TIME.match(word) for word in words[:5]) and words[0][0] in "0123456789*":
                schedule = 5
            else:
                match = self._ENV.match(line)
                if not match:
                    raise ParseError(f"line {number}: neither a cron entry nor NAME=value")
                name, value = match.group(1), _unquote(match.group(2))
                env[name] = self.redact(redactor, name, value)
                continue
            if len(words) <= schedule:
                raise ParseError(f"line {number}: cron entry without a command")
            entries.append(self._INLINE_SECRET.sub(
                lambda m: m.group(1) + "=" + redactor.hash(m.group(2)), " ".join(words)))
        return {"env": env, "entries": entries}


class SshdConfig(Parser):
    """``/etc/ssh/sshd_config`` and ``sshd_config.d``: ``{keyword: [args, ...]}``.

    Keywords lowercased; always lists in file order, since several keywords repeat (``Port``,
    ``HostKey``, ``AllowUsers``…) and for the others sshd uses the first value.  A ``Match``
    block becomes a nested dict ``"match <criteria>"`` holding the keywords up to the next
    ``Match``.  ``PasswordAuthentication`` and ``PermitEmptyPasswords`` are hardening facts, not
    secrets, though ``*password*`` matches them.
    """

    kind = "sshd_config"
    description = "OpenSSH server configuration"
    public = ("passwordauthentication", "permitemptypasswords")

    def parse(self, text: str, redactor: Redactor) -> Tree:
        top: Tree = {}
        block = top
        for line in _lines(text):
            name, args = _directive(line, r"\s*=\s*|\s+")
            name = name.lower()
            if not args:
                raise ParseError(f"line {line[0]}: keyword without a value")
            if name == "match":
                block = top[_unique(top, "match " + args)] = {}
            else:
                block.setdefault(name, []).append(self.redact(redactor, name, args))
        return top


class ChronyConf(Parser):
    """``chrony.conf``: ``{directive: [args, ...]}``, every occurrence in file order."""

    kind = "chrony_conf"
    description = "chrony time synchronisation"
    comment = "#!;%"
    inline = False

    def parse(self, text: str, redactor: Redactor) -> Tree:
        result: Tree = {}
        for line in _lines(text, self.comment, self.inline):
            name, args = _directive(line)
            result.setdefault(name, []).append(self.redact(redactor, name, args))
        return result


class NtpConf(ChronyConf):
    """``ntp.conf``: same shape as chrony; ``#`` starts a comment anywhere on a line."""

    kind = "ntp_conf"
    description = "ntpd time synchronisation"
    comment = "#"
    inline = True


PARSERS: dict[str, Parser] = {
    parser.kind: parser
    for parser in (PlayConf(), PostgresqlConf(), PgHba(), Pgpass(), ApacheConf(), Sysctl(),
                   Limits(), Crontab(), SshdConfig(), ChronyConf(), NtpConf())
}
