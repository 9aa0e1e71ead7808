"""Parsers for the configuration files captured from SPSE servers.

Runs on the managed host inside the spse_baseline_facts module (bundled by
AnsiballZ), so: Python 2.7 and 3.6+, standard library only, no I/O; text in,
text out (the caller decodes).  Each parser turns a file's text into a
JSON-ready dict whose values are strings as written (or lists and dicts of
them), with no comment text, so that a baseline diff shows real changes only.
Every captured value goes through the scrubber (``spse_secrets.SecretScrubber``:
by key name and by value shape) before the dict is returned: the clear secret
never leaves the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# A "line" below is (first physical line number, logical line text); a "tree" a JSON-ready dict.


class ParseError(Exception):
    """The file's text is not of the kind we expected; the caller keeps a keyed hash only.

    Messages give a line number and a reason, never the line's text: it may hold a secret.
    """


# -- shared helpers -------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][\w.-]*$")
_WORD = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\S+")


def _lines(text, comment="#", inline=False, quote="", join=False):
    # type: (str, str, bool, str, bool) -> list
    """Stripped, non-blank lines without comments, as (first physical line number, text).

    ``comment``: characters that start a comment line; with ``inline`` they also start a comment
    mid-line, outside ``quote`` characters.  ``join``: a line ending in an odd number of
    backslashes continues on the next one, whose leading blanks are dropped (Java properties;
    Apache arguments are whitespace-normalised anyway).  Comment lines are never continued.
    """
    result = []
    pending = None
    for number, raw in enumerate(text.lstrip(u"\ufeff").replace("\r\n", "\n").split("\n"), 1):
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


def _cut_comment(line, comment, quote):
    # type: (str, str, str) -> str
    quoted = False
    for index, char in enumerate(line):
        if char in quote:
            quoted = not quoted
        elif char in comment and not quoted:
            return line[:index]
    return line


def _unique(tree, key):
    # type: (dict, str) -> str
    """``key``, or ``key #n`` for its n-th occurrence, so repeated records keep their own entry."""
    candidate, count = key, 1
    while candidate in tree:
        count += 1
        candidate = "%s #%d" % (key, count)
    return candidate


def _unquote(value):
    # type: (str) -> str
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _directive(line, separator=r"\s+"):
    # type: (tuple, str) -> tuple
    """(name, arguments) of a ``Name args`` line; arguments whitespace-normalised, quotes kept."""
    number, text = line
    parts = re.split(separator, text, maxsplit=1)
    if not _NAME.match(parts[0]):
        raise ParseError("line %d: not a directive" % number)
    return parts[0], " ".join(_WORD.findall(parts[1] if len(parts) > 1 else ""))


def directive_values(tree, name):
    # type: (dict, str) -> list
    """Every argument string of directive ``name`` (any case) anywhere in a nested tree."""
    found = []
    for key, value in sorted(tree.items()):
        if isinstance(value, dict):
            found.extend(directive_values(value, name))
        elif key.lower() == name.lower():
            found.extend(value)
    return found


# -- parsers --------------------------------------------------------------------------------------


class Parser:
    """One kind of configuration file; ``parse`` returns its settings with secrets scrubbed."""

    kind = ""
    description = ""

    def parse(self, text, scrubber):
        # type: (str, SecretScrubber) -> dict
        raise NotImplementedError


class PlayConf(Parser):
    """SPSE ``webapp/conf/application.conf`` (Play 1.x, read as Java properties).

    Flat ``{key: value}``, last occurrence wins as in Play.  ``%prod.`` framework-id prefixes stay
    in the key; the scrubber judges secrecy with and without it (``%prod.db.pass``).
    """

    kind = "play_conf"
    description = "Play Framework application.conf (SPSE webapp/conf)"
    _LINE = re.compile(r"([^=:\s]+)\s*[=:]\s*(.*)$")

    def parse(self, text, scrubber):
        result = {}
        for number, line in _lines(text, "#!", join=True):
            match = self._LINE.match(line)
            if not match:
                raise ParseError("line %d: not a key=value line" % number)
            key, value = match.groups()
            result[key] = scrubber.value(key, value)
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

    def parse(self, text, scrubber):
        result = {}
        for number, line in _lines(text):
            match = self._LINE.match(line)
            if not match:
                raise ParseError("line %d: not a 'name = value' line" % number)
            name, value = match.group(1).lower(), self._unquote(match.group(2))
            if name in self.INCLUDES:
                result[_unique(result, name)] = value
            else:
                result[name] = scrubber.value(name, value)
        return result

    def _unquote(self, value):
        # type: (str) -> str
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

    def parse(self, text, scrubber):
        rules = {}
        lines = _lines(text, inline=True, quote='"', join=True)
        for order, (number, line) in enumerate(lines, 1):
            words = self._WORD.findall(line) or [""]
            if words[0] in PostgresqlConf.INCLUDES:
                if len(words) != 2:
                    raise ParseError("line %d: include takes one path" % number)
                rules[_unique(rules, " ".join(words))] = {"order": order,
                                                          "path": _unquote(words[1])}
                continue
            if words[0] not in self.TYPES:
                raise ParseError("line %d: unknown connection type" % number)
            if words[0] == "local":
                method_at, address = 3, "-"
            else:
                with_mask = (len(words) > 4 and "/" not in words[3]
                             and bool(self._MASK.match(words[4])))
                method_at = 5 if with_mask else 4
                address = " ".join(words[3:method_at])
            if len(words) <= method_at:
                raise ParseError("line %d: too few fields" % number)
            options = {}
            for word in words[method_at + 1:]:
                name, equals, value = word.partition("=")
                if not equals:
                    raise ParseError("line %d: option not in name=value form" % number)
                options[name] = scrubber.value(name, _unquote(value))
            key = _unique(rules, " ".join(words[:3] + [address]))
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

    def parse(self, text, scrubber):
        entries = {}
        for number, line in _lines(text):
            match = self._LINE.match(line)
            if not match:
                raise ParseError("line %d: not host:port:database:user:password" % number)
            key = _unique(entries, ":".join(match.groups()[:4]))
            entries[key] = scrubber.hash(re.sub(r"\\(.)", r"\1", match.group(5)))
        return {"entries": entries}


class ApacheConf(Parser):
    """Apache httpd files (``httpd.conf``, ``conf.d/spse.conf``, ``ssl.conf``, sites).

    Nested dict mirroring the sections: ``"<Name> <args>"`` (no angle brackets) maps to the
    section's own dict, a directive name (case as written) to the list of its argument strings in
    file order, whitespace-normalised with quotes kept.  A repeated section gets `` #2``.
    ``ServerTokens`` stays readable: the scrubber knows it names no secret.
    """

    kind = "apache_conf"
    description = "Apache httpd configuration"

    def parse(self, text, scrubber):
        root = {}
        stack = [("", root)]
        for number, line in _lines(text, join=True):
            if line.startswith("</"):
                if not line.endswith(">") or len(stack) == 1 \
                        or line[2:-1].strip().lower() != stack[-1][0].lower():
                    raise ParseError("line %d: unbalanced section end" % number)
                stack.pop()
            elif line.startswith("<"):
                words = _WORD.findall(line[1:-1])
                if not line.endswith(">") or not words or not _NAME.match(words[0]):
                    raise ParseError("line %d: malformed section start" % number)
                section = {}
                stack[-1][1][_unique(stack[-1][1], " ".join(words))] = section
                stack.append((words[0], section))
            else:
                name, args = _directive((number, line))
                stack[-1][1].setdefault(name, []).append(scrubber.value(name, args))
        if len(stack) > 1:
            raise ParseError("%d section(s) not closed at end of file" % (len(stack) - 1))
        return root


class Sysctl(Parser):
    """``/etc/sysctl.conf`` and ``sysctl.d``: flat ``{key: value}`` in dotted form, last wins.

    A leading ``-`` (ignore errors) is dropped; a key whose first separator is ``/`` has its
    slashes and dots swapped, as sysctl does, so both spellings give the same key.
    """

    kind = "sysctl"
    description = "kernel parameters"
    _SWAP = {".": "/", "/": "."}

    def parse(self, text, scrubber):
        result = {}
        for number, line in _lines(text, "#;"):
            key, equals, value = (line[1:] if line.startswith("-") else line).partition("=")
            key = key.strip()
            if not equals or not key or re.search(r"\s", key):
                raise ParseError("line %d: not a key = value line" % number)
            separator = re.search(r"[./]", key)
            if separator and separator.group() == "/":
                key = "".join(self._SWAP.get(char, char) for char in key)
            result[key] = scrubber.value(key, value.strip())
        return result


class Limits(Parser):
    """``/etc/security/limits.conf`` and ``limits.d``: ``{"<domain> <type> <item>": value}``."""

    kind = "limits"
    description = "PAM resource limits"

    def parse(self, text, scrubber):
        result = {}
        for number, line in _lines(text, inline=True):
            fields = line.split()
            if len(fields) != 4 or fields[1] not in ("soft", "hard", "-"):
                raise ParseError("line %d: not '<domain> <type> <item> <value>'" % number)
            result[" ".join(fields[:3])] = scrubber.value(fields[2], fields[3])
        return result


class Crontab(Parser):
    """System and user crontabs (``/etc/crontab``, ``/etc/cron.d``, spool files).

    ``{"env": {NAME: value}, "entries": [line, ...]}``: entries whitespace-normalised in file
    order (several may be identical).  Secret env values are hashed; command lines go through the
    scrubber's line rules (``PGPASSWORD=...`` assignments, credential flags, URLs).
    """

    kind = "crontab"
    description = "cron table"
    _ENV = re.compile(r"([A-Za-z_]\w*)\s*=\s*(.*)$")
    _TIME = re.compile(r"[\w*/,-]+$")
    _NICKNAMES = ("@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily",
                  "@midnight", "@hourly")

    def parse(self, text, scrubber):
        env = {}
        entries = []
        for number, line in _lines(text):
            words = line.split()
            if words[0] in self._NICKNAMES:
                schedule = 1
            elif all(self._TIME.match(word) for word in words[:5]) and words[0][0] in "0123456789*":
                schedule = 5
            else:
                match = self._ENV.match(line)
                if not match:
                    raise ParseError("line %d: neither a cron entry nor NAME=value" % number)
                name, value = match.group(1), _unquote(match.group(2))
                env[name] = scrubber.value(name, value)
                continue
            if len(words) <= schedule:
                raise ParseError("line %d: cron entry without a command" % number)
            entries.append(scrubber.line(" ".join(words)))
        return {"env": env, "entries": entries}


class ShellScript(Parser):
    """Boot and start scripts (``/etc/rc.d/rc.local``, an SPSE instance's ``spse4``).

    ``{"lines": [line, ...]}``: the script's command lines in order, continuations joined, through
    the scrubber's line rules, since they may carry credentials (``PGPASSWORD=...``, ``-p...``).
    """

    kind = "shell_script"
    description = "shell script run at boot or to start a service"

    def parse(self, text, scrubber):
        if "\x00" in text:
            raise ParseError("binary content, not a shell script")
        return {"lines": [scrubber.line(line) for _number, line in _lines(text, join=True)]}


class SshdConfig(Parser):
    """``/etc/ssh/sshd_config`` and ``sshd_config.d``: ``{keyword: [args, ...]}``.

    Keywords lowercased; always lists in file order, since several keywords repeat (``Port``,
    ``HostKey``, ``AllowUsers``...) and for the others sshd uses the first value.  A ``Match``
    block becomes a nested dict ``"match <criteria>"`` holding the keywords up to the next
    ``Match``.  ``PasswordAuthentication`` and ``PermitEmptyPasswords`` stay readable: the
    scrubber knows they are hardening facts, not secrets.
    """

    kind = "sshd_config"
    description = "OpenSSH server configuration"

    def parse(self, text, scrubber):
        top = {}
        block = top
        for line in _lines(text):
            name, args = _directive(line, r"\s*=\s*|\s+")
            name = name.lower()
            if not args:
                raise ParseError("line %d: keyword without a value" % line[0])
            if name == "match":
                block = top[_unique(top, "match " + args)] = {}
            else:
                block.setdefault(name, []).append(scrubber.value(name, args))
        return top


class ChronyConf(Parser):
    """``chrony.conf``: ``{directive: [args, ...]}``, every occurrence in file order."""

    kind = "chrony_conf"
    description = "chrony time synchronisation"
    comment = "#!;%"
    inline = False

    def parse(self, text, scrubber):
        result = {}
        for line in _lines(text, self.comment, self.inline):
            name, args = _directive(line)
            result.setdefault(name, []).append(scrubber.value(name, args))
        return result


class NtpConf(ChronyConf):
    """``ntp.conf``: same shape as chrony; ``#`` starts a comment anywhere on a line."""

    kind = "ntp_conf"
    description = "ntpd time synchronisation"
    comment = "#"
    inline = True


PARSERS = dict(
    (parser.kind, parser)
    for parser in (PlayConf(), PostgresqlConf(), PgHba(), Pgpass(), ApacheConf(), Sysctl(),
                   Limits(), Crontab(), ShellScript(), SshdConfig(), ChronyConf(), NtpConf()))
