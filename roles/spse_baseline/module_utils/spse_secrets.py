"""Secret scrubbing for everything captured from a host: by key name and by value shape.

Runs on the managed host inside the spse_baseline_facts module (bundled by AnsiballZ), so:
Python 2.7 and 3.6+, standard library only, no I/O.  A secret never leaves the host in clear:
it becomes ``secret:hmac-sha256:<32 hex>``, an HMAC keyed with the project's key, so a changed
secret still shows up as a change in a diff while its value stays unknown.

Two ways a value is found secret:

- its NAME (``db.pass``, ``%prod.mail.smtp.pass``, ``ldapbindpasswd``): the whole value is
  replaced (``SecretScrubber.value``);
- its SHAPE, whatever the name (``postgres://epns:pw@db/epns_prod``, ``host=a password=pw``,
  ``mysql -pPw``, a PEM private key): only the credential is replaced, in place, and the rest
  stays readable (``SecretScrubber.line``).  Shapes are declared in ``SHAPES``: one entry each.

Scrubbing is idempotent (a marker is never hashed again) and deterministic for one key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import fnmatch
import hashlib
import hmac
import re
import sys

MARKER_PREFIX = "secret:hmac-sha256:"
MARKER_RE = re.compile(r"secret:hmac-sha256:[0-9a-f]{32}")
_WHOLE_MARKER = re.compile(r"secret:hmac-sha256:[0-9a-f]{32}\Z")

_STRING_TYPES = (type(u""), type(""))  # unicode and str on Python 2, str on Python 3

# Names that match a secret pattern but never hold a secret: switches and settings ABOUT
# passwords, judged on the whole name (lowercase, without a ``%id.`` prefix), fnmatch globs.
ALLOWED_NAMES = (
    "passwordauthentication",      # sshd_config: yes/no
    "permitemptypasswords",        # sshd_config: yes/no
    "kerberosorlocalpasswd",       # sshd_config: yes/no
    "servertokens",                # Apache: Prod/OS/Full
    "sslpassphrasedialog",         # Apache: builtin | exec:/path (the path is not the passphrase)
    "password_encryption",         # PostgreSQL: md5 / scram-sha-256
    "passwordcheck.*",             # PostgreSQL passwordcheck extension settings
    "ssl_passphrase_command_supports_reload",  # PostgreSQL: on/off
    "*file",                       # a path (passfile, password_file, --token-file), not a secret
    "*_path",
    "*-path",
)

# ``name=value`` / ``name: value`` inside a value counts as a credential when the name is secret
# by the configured patterns OR ends in one of these words, so shapes work whatever the list.
_PARAM_NAME = re.compile(
    r"(?:[\w.%-]*?(?:password|passwd|passwort|passphrase|secrets?|token|api[-_]?key"
    r"|private[-_]?key|securedb)|(?:[\w.%-]*[._-])?pass|[\w.%-]*[._-]pwd)\Z", re.I)
_FRAMEWORK_ID = re.compile(r"%[^.]*\.")  # Play: %prod.db.pass is db.pass for instance "prod"
# A shell or Play expansion stands for a value held elsewhere; it is not itself the secret.
_EXPANSION = re.compile(r"\$(?:\{[\w.]+\}|\([^)]*\)|[A-Z_][A-Z0-9_]*)\Z")
# Clients whose --password takes no separate value (it prompts): the next word is no password.
_NO_VALUE_PASSWORD_CLIENTS = re.compile(
    r"(?:^|[\s/])(?:psql|pg_\w+|createdb|dropdb|createuser|dropuser|vacuumdb|reindexdb|clusterdb"
    r"|pgbench|mysql\w*|mariadb[\w-]*)(?=\s|$)")
_SEGMENT_ENDS = ";|&\n`("


def _value(tag):
    # type: (str) -> str
    """Regex for one option value: quoted, a ``$(...)`` expansion or a bare word.

    The content is captured in a group named ``<tag>_sq2`` (``''a b''`` inside a
    postgresql.conf string), ``<tag>_sq`` (single quotes), ``<tag>_dq`` (double quotes) or
    ``<tag>_w``.  A bare word ends at a blank or at the closing quote of an enclosing string
    only: ``;``, ``&``, ``|`` and ``,`` stay in (a conninfo password may hold them), so a
    password is never cut in two; ``?a=1&b=2`` and ``a=1,b=2`` lists have their own shapes.
    """
    return (r"(?:''(?P<{t}_sq2>[^'\n]+)''"  # doubled quotes inside a postgresql.conf string
            r"|'(?P<{t}_sq>[^'\n]*)'"
            r"|\"(?P<{t}_dq>(?:[^\"\\\n]|\\.)*)\""
            r"|(?P<{t}_w>\$\([^)\n]*\)|(?:[^\s'\"\\]|\\.)(?:[^\s\\]|\\.)*?)"
            r"(?=\s|\Z|['\"](?:[\s;&|)]|\Z)))").format(t=tag)


def _after(programs):
    # type: (str) -> str
    """Regex prefix: one of ``programs`` (a regex alternation), then anything up to the end of
    that command (``;``, ``|``, ``&``, new line), then a blank before the flag."""
    return r"(?<![\w.-])(?:{0})(?:[ \t][^;|&\n]*?)?[ \t]".format(programs)


_COMPILED = {}  # type: dict


class Shape(collections.namedtuple("Shape", "id description hints pattern flags secret_name unless")):
    """One credential shape.  ``hints``: lowercase substrings, one of which must be in the text
    for the regex to be tried (cheap pre-check).  Every named group of ``regex`` except ``name``
    is a secret part.  ``secret_name``: the match counts only when its ``name`` group is a secret
    name.  ``unless``: the match is skipped when this regex is found earlier in the same command.

    ``regex`` is compiled on first use: compiling all of them cost every host 9-13 ms at import
    (measured, Python 3.11 and 2.7) while most shapes' hints never occur in its files.
    """

    __slots__ = ()

    @property
    def regex(self):
        compiled = _COMPILED.get(self.id)
        if compiled is None:  # two threads may both compile it: same result
            compiled = _COMPILED[self.id] = re.compile(self.pattern, self.flags)
        return compiled


def _shape(id_, description, hints, pattern, flags=0, secret_name=False, unless=None):
    # type: (str, str, tuple, str, int, bool, object) -> Shape
    return Shape(id_, description, hints, pattern, flags, secret_name, unless)


SHAPES = (
    _shape("pem-private-key", "PEM private key block (RSA, EC, OpenSSH, PKCS#8, PGP): the body",
           ("private key",),
           r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----\s*(?P<body>\S.*?)\s*"
           r"(?=-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.S),
    _shape("query-param", "NAME=VALUE in a URL query whose name is secret: "
                          "jdbc:postgresql://h/db?user=x&password=VALUE&ssl=true",
           ("?",),
           r"(?<=[?&])(?P<name>[\w.%-]+)=(?P<pw>[^&\s'\"]+)", secret_name=True),
    _shape("url-userinfo", "password in a URL's user-info: scheme://user:PASSWORD@host",
           ("://",),
           r"\b[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s'\"]*:(?P<pw>[^\s\"]+)"
           r"@[^\s@/'\"]*(?=[/?#\s'\";,&)]|\Z)"),
    _shape("play-db-shorthand", "Play 1.x db=mysql:USER:PASSWORD@database",
           ("mysql:",),
           r"(?<![\w/])mysql:[^:@/\s'\"]+:(?P<pw>[^\s'\"]+)@[\w.-]+(?=[\s'\"]|\Z)"),
    _shape("pgpass", "~/.pgpass line host:port:database:user:PASSWORD",
           (":",),
           r"^(?:[^:\s\\]|\\.)+:(?:\d{1,5}|\*):(?:[^:\s\\]|\\.)+:(?:[^:\s\\]|\\.)+"
           r":(?P<pw>(?:[^:\n\\]|\\.)+)$", re.M),
    _shape("authorization-header", "HTTP Authorization header credentials (Basic, Bearer, Token)",
           ("authorization",),
           r"\bAuthorization\b['\"]?[ \t]*[:=]?[ \t]*['\"]?[ \t]*(?:Basic|Bearer|Token)[ \t]+"
           r"(?P<cred>[^\s'\",]+)", re.I),
    _shape("mysql-p", "mysql/mariadb client password glued to -p (-pPW; -p alone prompts; "
                      "for psql/pg_dump -p is the port and is left alone)",
           ("mysql", "mariadb"),
           _after(r"mysql\w*|mariadb[\w-]*") + r"-p" + _value("pw")),
    _shape("sshpass-p", "sshpass -p PASSWORD",
           ("sshpass",),
           _after(r"sshpass") + r"-p[ \t]*" + _value("pw")),
    _shape("redis-cli-a", "redis-cli -a PASSWORD",
           ("redis-cli",),
           _after(r"redis-cli") + r"(?:-a|--pass)[ \t]+" + _value("pw")),
    _shape("curl-user", "curl -u/--user USER:PASSWORD",
           ("curl",),
           _after(r"curl") + r"(?:-u|--user|-U|--proxy-user)(?:[ \t]+|=)?"
           r"(?:'[^':\n]*:(?P<pw_sq>[^'\n]*)'|\"[^\":\n]*:(?P<pw_dq>[^\"\n]*)\""
           r"|[^\s:'\"]*:(?P<pw_w>[^\s'\"]+))"),
    _shape("smbclient-user", "smbclient -U USER%PASSWORD",
           ("smbclient",),
           _after(r"smbclient") + r"(?:-U|--user)(?:[ \t]+|=)?['\"]?[^\s%'\"]*%(?P<pw>[^\s'\"]+)"),
    _shape("htpasswd-b", "htpasswd -b FILE USER PASSWORD",
           ("htpasswd",),
           r"(?<![\w.-])htpasswd(?:[ \t]+-[A-Za-z]+)*?[ \t]+-[A-Za-z]*b[A-Za-z]*"
           r"(?:[ \t]+-[A-Za-z]+)*[ \t]+\S+[ \t]+\S+[ \t]+" + _value("pw")),
    _shape("echo-to-passwd", "echo PASSWORD | passwd --stdin USER",
           ("passwd",),
           r"(?<![\w.-])echo[ \t]+(?:-[en]+[ \t]+)?"
           r"(?:'(?P<pw_sq>[^'\n]*)'|\"(?P<pw_dq>[^\"\n]*)\"|(?P<pw_w>[^\s'\"|]+))"
           r"[ \t]*\|[ \t]*(?:sudo[ \t]+)?(?:\S*/)?passwd[ \t]+--stdin\b"),
    _shape("echo-to-chpasswd", "echo USER:PASSWORD | chpasswd",
           ("chpasswd",),
           r"(?<![\w.-])echo[ \t]+(?:-[en]+[ \t]+)?"
           r"(?:'[^':\n]*:(?P<pw_sq>[^'\n]*)'|\"[^\":\n]*:(?P<pw_dq>[^\"\n]*)\""
           r"|[^\s:'\"|]*:(?P<pw_w>[^\s'\"|]+))"
           r"[ \t]*\|[ \t]*(?:sudo[ \t]+)?(?:\S*/)?chpasswd\b"),
    _shape("keytool-pass", "keytool/jarsigner -storepass VALUE, -keypass VALUE (Java keystores)",
           ("pass",),
           r"(?<![\w-])-(?:src|dest)?(?:store|key)pass[ \t]+(?!-)" + _value("pw")),
    _shape("archive-password", "zip -P PASSWORD, 7z -pPASSWORD",
           ("zip", "7z"),
           r"(?:" + _after(r"zip") + r"-P[ \t]+|" + _after(r"7za?|7zr") + r"-p)" + _value("pw")),
    _shape("sql-password", "SQL [ENCRYPTED] PASSWORD 'VALUE' (CREATE/ALTER ROLE/USER, as a server log "
                           "quotes a statement)",
           ("password",),
           r"(?<![\w.-])PASSWORD[ \t]+'(?P<pw>(?:[^'\n]|'')*)'", re.I),
    _shape("long-flag", "--password VALUE, --token VALUE, --api-key VALUE (blank-separated; "
                        "psql/pg_dump/mysql --password takes no value and is left alone)",
           ("--",),
           r"(?<![\w-])--(?!no-)(?:[\w-]*?(?:password|passwd|passphrase|secret|token|api-?key)"
           r"|(?:[\w-]*-)?(?:pass|pwd))[ \t]+(?!-)" + _value("pw"),
           re.I, unless=_NO_VALUE_PASSWORD_CLIENTS),
    _shape("directive", "a line 'Name VALUE' whose name is secret (AuthLDAPBindPassword x)",
           (" ", "\t"),
           r"^[ \t]*(?P<name>[A-Za-z_][\w.-]*)[ \t]+(?![=:])" + _value("pw"),
           re.M, secret_name=True),
    _shape("env-header-directive", "Apache SetEnv NAME VALUE, (Request)Header set NAME VALUE "
                                   "whose name is secret (also the arguments alone, as parsed)",
           ("set", "add", "append", "merge"),
           r"(?:(?<![\w-])SetEnv[ \t]+|(?:(?<![\w-])(?:Request)?Header[ \t]+|^)"
           r"(?:(?:always|onsuccess)[ \t]+)?(?:set|add|append|merge|setifempty)[ \t]+)"
           r"['\"]?(?P<name>[\w.-]+)['\"]?:?[ \t]+" + _value("pw"),
           re.I, secret_name=True),
    _shape("xml-element", "<password>VALUE</password>: an XML element whose name is secret",
           ("</",),
           r"<(?P<name>[A-Za-z_][\w.-]*)>(?P<pw>[^<]+)</(?P=name)>", secret_name=True),
    _shape("list-param", "NAME=VALUE in a comma list whose name is secret: "
                         "mount -o username=x,password=VALUE,uid=0",
           (",",),
           r"(?:(?<=,)|(?<=-o[ \t])|(?<=-o))(?P<name>[\w.%-]+)=(?P<pw>[^,\s'\"]+)(?=[,\s'\"]|\Z)",
           secret_name=True),
    _shape("param", "NAME=VALUE or NAME: VALUE whose name is secret: conninfo password=, JDBC "
                    "?password=, PGPASSWORD=, --password=, -Ddb.pass=, ldapbindpasswd=, pass:x, "
                    "JSON/YAML \"password\": VALUE",
           ("=", ":"),
           r"(?<![\w.%-])(?P<name>-{0,2}[A-Za-z_%][\w.%-]*)['\"]?[ \t]*(?:=|:(?!//))[ \t]*" + _value("pw"),
           secret_name=True),
)

# Any hint at all: most values ("128MB", "on", "localhost") are passed by one search.
_ANY_HINT = re.compile("|".join(sorted(set(re.escape(hint) for shape in SHAPES for hint in shape.hints))))
# A log line holds a credential only beside one of these words (a secret name's ending, a
# credential-bearing client, a URL's user-info, a key block); the shapes whose hints are mere
# punctuation need a secret name. Lines without any are not searched further: a server log has
# millions of lines, nearly all with "=" and ":" (measured: 1.9 MB/s through every shape).
# What this does not find in a log line: a ~/.pgpass line quoted alone (``pgpass``).
_LOG_WORDS = ("pass", "pwd", "secret", "token", "api", "private", "securedb", "authorization",
              "://", "mysql", "mariadb", "redis", "curl", "smbclient", "zip", "7z")


def _compile_globs(patterns):
    # type: (tuple) -> object
    """One case-insensitive regex for a list of fnmatch globs (fast on thousands of names)."""
    parts = []
    for pattern in patterns:
        regex = fnmatch.translate(pattern.lower())
        if regex.endswith("\\Z(?ms)"):  # Python 2 puts the flags last
            regex = regex[:-len("(?ms)")]
        parts.append("(?:%s)" % regex)
    return re.compile("|".join(parts) or r"(?!)", re.I | re.S)


def _to_bytes(text):
    # type: (object) -> bytes
    if isinstance(text, bytes):
        return text
    if sys.version_info[0] >= 3:
        return text.encode("utf-8", "surrogateescape")
    return text.encode("utf-8")


class SecretScrubber(object):
    """Replaces secrets by keyed markers, by name (``value``) and by shape (``line``).

    >>> s = SecretScrubber(b"key", ["*password*", "db.pass"])
    >>> s.line("db=postgres://epns:pw@localhost:5432/epns_prod")  # doctest: +ELLIPSIS
    'db=postgres://epns:secret:hmac-sha256:...@localhost:5432/epns_prod'
    """

    PREFIX = MARKER_PREFIX
    MARKER_RE = MARKER_RE

    def __init__(self, key, name_patterns):
        # type: (bytes, list) -> None
        if not key:
            raise ValueError("the secret key must not be empty")
        self._key = _to_bytes(key)
        self._names = _compile_globs(tuple(name_patterns))
        self._allowed = _compile_globs(ALLOWED_NAMES)
        words = set(_LOG_WORDS)
        for pattern in name_patterns:
            words.update(part for part in re.split(r"[*?\[\]]+", pattern.lower()) if part)
        # searched in the lowered line: an IGNORECASE alternation is ten times slower
        self._log_hint = re.compile("|".join(re.escape(word) for word in sorted(words)))

    def is_secret_name(self, name):
        # type: (str) -> bool
        """True when a value under this key name is secret as a whole.

        Judged on the name, on the name without a Play ``%id.`` prefix and on its last dotted
        component (``mail.smtp.pass`` -> ``pass``); names in ``ALLOWED_NAMES`` never are.
        """
        name = name.strip().lower()
        bare = _FRAMEWORK_ID.sub("", name, 1) if name.startswith("%") else name
        if self._allowed.match(bare):
            return False
        return bool(self._names.match(name) or self._names.match(bare)
                    or self._names.match(bare.rsplit(".", 1)[-1]))

    def hash(self, text):
        # type: (str) -> str
        """The marker for a secret: HMAC-SHA256 of its UTF-8 bytes, 32 hex digits."""
        return self.bytes_hash(_to_bytes(text))

    def bytes_hash(self, data):
        # type: (bytes) -> str
        """The marker for raw content (a whole secret-bearing file)."""
        return MARKER_PREFIX + self.hmac_hex(data)[:32]

    def hmac_hex(self, data):
        # type: (bytes) -> str
        """The full keyed digest (64 hex) of raw content, for a file entry's ``hmac``."""
        return hmac.new(self._key, _to_bytes(data), hashlib.sha256).hexdigest()

    def value(self, name, value):
        # type: (str, object) -> object
        """``value`` as it may leave the host: a marker when ``name`` is secret, else ``line``.

        Lists are scrubbed item by item under the same name, dicts value by value under their
        own keys (everything below a secret name is secret); a number under a secret name is
        hashed as text; None and booleans stay.
        """
        return self._scrub(value, self.is_secret_name(name))

    def _scrub(self, value, secret):
        # type: (object, bool) -> object
        if isinstance(value, _STRING_TYPES):
            if not secret:
                return self.line(value)
            return value if _WHOLE_MARKER.match(value) else self.hash(value)
        if isinstance(value, (list, tuple)):
            return [self._scrub(item, secret) for item in value]
        if isinstance(value, dict):
            return dict((key, self._scrub(item, secret or self.is_secret_name(key)))
                        for key, item in value.items())
        if secret and value is not None and not isinstance(value, bool):
            return self.hash(str(value))
        return value

    def line(self, text):
        # type: (str) -> str
        """``text`` with every credential found by shape replaced in place by its marker."""
        if not text or not isinstance(text, _STRING_TYPES):
            return text
        low = text.lower()
        if not _ANY_HINT.search(low):
            return text
        for shape in SHAPES:
            if any(hint in low for hint in shape.hints):
                text = self._apply(shape, text)
        return text

    def log_line(self, text):
        # type: (str) -> str
        """``line`` for one line of a log: only lines naming a credential word, a configured
        secret name's letters or a credential-bearing client go through the shapes."""
        if not text or not self._log_hint.search(text.lower()):
            return text
        return self.line(text)

    def _apply(self, shape, text):
        # type: (Shape, str) -> str
        markers = [match.span() for match in MARKER_RE.finditer(text)]
        spans = []
        pos = 0
        while True:
            match = shape.regex.search(text, pos)
            if match is None:
                break
            found = self._secret_spans(shape, match, text, markers)
            if found is None:
                pos = match.start() + 1
                continue
            spans.extend(found)
            pos = max(match.end(), match.start() + 1)
        if not spans:
            return text
        pieces = []
        last = 0
        for start, end in sorted(spans):
            pieces.append(text[last:start])
            pieces.append(self.hash(text[start:end]))
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def _is_secret_param(self, name):
        # type: (str) -> bool
        """A ``name`` in ``name=value`` inside a value: secret by the patterns or by its ending."""
        name = name.lstrip("-")
        if self._allowed.match(name.lower()):
            return False
        return self.is_secret_name(name) or bool(_PARAM_NAME.match(name))

    def _secret_spans(self, shape, match, text, markers):
        # type: (Shape, object, str, list) -> object
        """The spans to replace in one match, or None when the match is no credential."""
        if shape.secret_name and not self._is_secret_param(match.group("name")):
            return None
        if shape.unless is not None:
            start = max(text.rfind(char, 0, match.start()) for char in _SEGMENT_ENDS) + 1
            if shape.unless.search(text[start:match.start()]):
                return None
        spans = []
        for group in shape.regex.groupindex:
            start, end = match.span(group)
            if group == "name" or start == end:  # no such part, or an empty one: nothing to hide
                continue
            if not group.endswith("_sq") and _EXPANSION.match(match.group(group)):
                continue
            if any(m_start < end and start < m_end for m_start, m_end in markers):
                continue  # already scrubbed
            spans.append((start, end))
        return spans
