"""Secret scrubbing on the managed host (roles/spse_baseline/module_utils/spse_secrets.py).

Tested against the corpus in fixtures/secret_corpus.yml with the name patterns the role SHIPS
(roles/spse_baseline/defaults/main.yml), so a pattern dropped from the defaults fails here.
"""

import importlib.util
import json
import random
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MODULE = ROOT / "roles/spse_baseline/module_utils/spse_secrets.py"
_spec = importlib.util.spec_from_file_location("spse_secrets", MODULE)
spse_secrets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(spse_secrets)

_DEFAULTS = yaml.safe_load((ROOT / "roles/spse_baseline/defaults/main.yml").read_text())
SHIPPED_PATTERNS = (_DEFAULTS["spse_baseline_secret_patterns"]
                    + _DEFAULTS["spse_baseline_extra_secret_patterns"])
_CORPUS = yaml.safe_load((Path(__file__).with_name("fixtures") / "secret_corpus.yml").read_text())
SECRETS = _CORPUS["secrets"]
PLAIN = _CORPUS["plain"]
KINDS = {"play_conf", "postgresql_conf", "pg_hba", "pgpass", "apache_conf", "crontab", "script",
         "sshd_config", "generic"}
KEY = b"k" * 32


def _text(entry):
    return entry["line"] if entry["name"] is None else entry["value"]


def scrub(scrubber, entry, text=None):
    """What the collector stores for this entry: value() for a named value, line() for a line."""
    text = _text(entry) if text is None else text
    return scrubber.line(text) if entry["name"] is None else scrubber.value(entry["name"], text)


def _ids(entries):
    return [entry["id"] for entry in entries]


@pytest.fixture
def scrubber():
    return spse_secrets.SecretScrubber(KEY, SHIPPED_PATTERNS)


def test_corpus_is_well_formed():
    assert len(SECRETS) >= 40 and len(PLAIN) >= 15
    ids = _ids(SECRETS) + _ids(PLAIN)
    assert len(ids) == len(set(ids))
    for entry in SECRETS + PLAIN:
        assert entry["kind"] in KINDS, entry["id"]
        assert ("line" in entry) == (entry["name"] is None), entry["id"]
    for entry in SECRETS:  # else the "secret is gone" test would pass vacuously
        assert entry["secret"] and entry["secret"] in _text(entry), entry["id"]


@pytest.mark.parametrize("entry", SECRETS, ids=_ids(SECRETS))
def test_secret_never_survives(scrubber, entry):
    scrubbed = scrub(scrubber, entry)
    assert entry["secret"] not in scrubbed
    assert spse_secrets.MARKER_RE.search(scrubbed)


@pytest.mark.parametrize("entry", SECRETS, ids=_ids(SECRETS))
def test_changed_secret_changes_only_its_marker(scrubber, entry):
    before = scrub(scrubber, entry)
    changed = entry["secret"] + "9x"
    after = scrub(scrubber, entry, _text(entry).replace(entry["secret"], changed))
    assert after != before and changed not in after
    assert spse_secrets.MARKER_RE.sub("M", after) == spse_secrets.MARKER_RE.sub("M", before)


@pytest.mark.parametrize("entry", PLAIN, ids=_ids(PLAIN))
def test_look_alike_survives_unchanged(scrubber, entry):
    assert scrub(scrubber, entry) == _text(entry)


@pytest.mark.parametrize("entry", SECRETS + PLAIN, ids=_ids(SECRETS + PLAIN))
def test_scrubbing_is_idempotent(scrubber, entry):
    once = scrub(scrubber, entry)
    assert scrub(scrubber, entry, once) == once


@pytest.mark.parametrize(("text", "expected", "secrets"), [
    ("db=postgres://epns:Ur1P4ss@localhost:5432/epns_prod",
     "db=postgres://epns:{}@localhost:5432/epns_prod", ["Ur1P4ss"]),
    ("jdbc:postgresql://h/epns_prod?user=epns&password=Jdbc&ssl=false",
     "jdbc:postgresql://h/epns_prod?user=epns&password={}&ssl=false", ["Jdbc"]),
    ("host=a user=rep password='a b' sslmode=require", "host=a user=rep password='{}' sslmode=require",
     ["a b"]),
    ("-o username=backup,password=Cifs4Pw,uid=0", "-o username=backup,password={},uid=0", ["Cifs4Pw"]),
    ("PGPASSWORD=Pw1 pg_dump -p 5432 epns_prod", "PGPASSWORD={} pg_dump -p 5432 epns_prod", ["Pw1"]),
    # a bare value ends at a blank only: ";" may be part of a conninfo password
    ("PGPASSWORD=Pw1; pg_dump epns_prod", "PGPASSWORD={} pg_dump epns_prod", ["Pw1;"]),
    ("host=a password=Pw;x=1&y sslmode=require", "host=a password={} sslmode=require", ["Pw;x=1&y"]),
    ("mysql -uroot -pMyPw epns && mysqldump -pOther x", "mysql -uroot -p{} epns && mysqldump -p{} x",
     ["MyPw", "Other"]),
    ("localhost:5432:epns_prod:epns:Pg#Pw", "localhost:5432:epns_prod:epns:{}", ["Pg#Pw"]),
    ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n",
     "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n", ["MHcCAQEE"]),
])
def test_in_place_replacement_keeps_the_rest_readable(scrubber, text, expected, secrets):
    assert scrubber.line(text) == expected.format(*(scrubber.hash(secret) for secret in secrets))


def test_markers_are_keyed_and_deterministic():
    one, same = (spse_secrets.SecretScrubber(KEY, SHIPPED_PATTERNS) for _ in range(2))
    other = spse_secrets.SecretScrubber(b"another key", SHIPPED_PATTERNS)
    for entry in SECRETS:
        assert scrub(one, entry) == scrub(same, entry)
        assert scrub(one, entry) != scrub(other, entry), entry["id"]


def test_marker_format(scrubber):
    marker = scrubber.hash("S3cr3t!")
    assert marker.startswith(spse_secrets.MARKER_PREFIX)
    assert spse_secrets.MARKER_RE.fullmatch(marker)
    assert scrubber.bytes_hash(b"S3cr3t!") == marker
    assert len(scrubber.hmac_hex(b"file content")) == 64


def test_empty_key_is_refused():
    with pytest.raises(ValueError):
        spse_secrets.SecretScrubber(b"", SHIPPED_PATTERNS)


@pytest.mark.parametrize("name", [
    "db.pass", "%prod.db.pass", "mail.smtp.pass", "%prod.mail.smtp.pass", "application.secret",
    "securedb", "%prod.securedb", "ldapbindpasswd", "radiussecrets", "AuthLDAPBindPassword",
    "ssl_passphrase_command", "SMTP_PASS", "MYSQL_PWD", "inaproc.token", "db.password",
])
def test_shipped_patterns_name_secrets(scrubber, name):
    assert scrubber.is_secret_name(name)


@pytest.mark.parametrize("name", [
    "PasswordAuthentication", "PermitEmptyPasswords", "KerberosOrLocalPasswd", "ServerTokens",
    "SSLPassPhraseDialog", "password_encryption", "passwordcheck.minimum_length",
    "ssl_passphrase_command_supports_reload", "ProxyPass", "SSLCertificateKeyFile", "ssl_key_file",
    "passfile", "password_file", "PWD", "OLDPWD", "http.path", "db.user", "db.url",
])
def test_shipped_patterns_leave_other_names(scrubber, name):
    assert not scrubber.is_secret_name(name)


def test_value_scrubs_trees(scrubber):
    marker = scrubber.hash("x")
    assert scrubber.value("db.pass", marker) == marker
    assert scrubber.value("db.pass", None) is None
    assert scrubber.value("http.port", 9009) == 9009
    assert scrubber.value("pin.pass", 1234) == scrubber.hash("1234")
    assert scrubber.value("AuthLDAPBindPassword", ["Ld4p"]) == [scrubber.hash("Ld4p")]
    tree = {"db": "postgres://u:Pw1@h/db", "smtp": {"pass": "Pw2", "host": "mail"}, "on": True}
    assert scrubber.value("settings", tree) == {
        "db": "postgres://u:" + scrubber.hash("Pw1") + "@h/db",
        "smtp": {"pass": scrubber.hash("Pw2"), "host": "mail"}, "on": True}
    assert scrubber.value("secrets", {"a": "Pw3"}) == {"a": scrubber.hash("Pw3")}


def test_shapes_are_declared_units_each_needed(scrubber, monkeypatch):
    """Every shape has an id and a description, and alone removes some corpus secret."""
    shapes = spse_secrets.SHAPES
    assert len({shape.id for shape in shapes}) == len(shapes)
    by_shape = [entry for entry in SECRETS if not scrubber.is_secret_name(entry["name"] or "")]
    for shape in shapes:
        assert shape.description and shape.hints
        monkeypatch.setattr(spse_secrets, "SHAPES", (shape,))
        assert any(entry["secret"] not in scrub(scrubber, entry) for entry in by_shape), shape.id


def test_many_look_alike_lines_in_one_text_are_unchanged(scrubber):
    """A whole script or file goes through line() at once: line-anchored shapes must hold."""
    text = ("\n".join(_text(entry) for entry in PLAIN if entry["name"] is None) + "\n") * 50
    assert scrubber.line(text) == text


def test_secret_lines_in_one_text_all_scrubbed(scrubber):
    entries = [entry for entry in SECRETS if entry["name"] is None]
    scrubbed = scrubber.line("\n".join(entry["line"] for entry in entries))
    assert not [entry["id"] for entry in entries if entry["secret"] in scrubbed]


# -- random passwords: no piece of one survives, whatever characters its context allows -----------

_PRINTABLE = string.ascii_letters + string.digits + string.punctuation


def _but(excluded, space=False):
    return "".join(c for c in _PRINTABLE + (" " if space else "") if c not in excluded)


_SHELL_WORD = _but(";&|<>()$`'\"\\")
CONTEXTS = [  # (line with {} for the password, characters a password may hold there)
    ("host=a user=b password='{}' sslmode=require", _but("'\\", space=True)),
    ("host=a user=b password={} sslmode=require", _but("'\"\\")),
    ("primary_conninfo = 'host=a user=b password={}'", _but("'\"\\")),
    ("jdbc:postgresql://h:5432/db?user=x&password={}&ssl=true", _but("&'\"")),
    ("db=postgres://epns:{}@localhost:5432/epns_prod", _but("\"")),
    ("ProxyPass /x http://u:{}@h:8080/x", _but("\"")),
    ("PGPASSWORD='{}' pg_dump -U epns epns_prod", _but("'", space=True)),
    ("PGPASSWORD={} pg_dump -U epns epns_prod", _SHELL_WORD),
    ("mysql -uroot -p'{}' epns", _but("'", space=True)),
    ("mysqldump -uroot -p{} epns", _SHELL_WORD),
    ("pg_dump --password='{}' epns", _but("'", space=True)),
    ("/usr/local/bin/sync --token {} --quiet", _SHELL_WORD),
    ("curl -u 'user:{}' https://x", _but("'", space=True)),
    ("sshpass -p {} ssh x", _SHELL_WORD),
    ("echo '{}' | passwd --stdin root", _but("'", space=True)),
    ("keytool -list -keystore k.jks -storepass {}", _SHELL_WORD),
    ('{{"db_password": "{}", "port": 5432}}', _but("\"\\", space=True)),
    ("host all all 10.0.0.0/8 ldap ldapserver=l ldapbindpasswd=\"{}\" ldaptls=1", _but("\"", space=True)),
    ("<password>{}</password>", _but("<&", space=True)),
    ("mount -t cifs //n/b /mnt -o username=b,password={},uid=0", _but(",'\"")),
    ("AuthLDAPBindPassword {}", _but("'\"")),
    ("-Ddb.pass={} -Xmx1g", _SHELL_WORD),
]


@pytest.mark.parametrize(("template", "chars"), CONTEXTS, ids=[c[0][:40] for c in CONTEXTS])
def test_random_passwords_never_leak(scrubber, template, chars):
    rnd = random.Random(template)
    for _ in range(150):
        password = "Q" + "".join(rnd.choice(chars) for _ in range(rnd.randint(4, 14))) + "Z"
        line = template.format(password)
        scrubbed = scrubber.line(line)
        rest = line.replace(password, "\0")
        pieces = {password[i:i + 4] for i in range(len(password) - 3)}
        assert not {p for p in pieces if p in scrubbed and p not in rest}, line
        assert scrubber.line(scrubbed) == scrubbed, line


# -- Python 2.7 / 3.6: the module runs on CentOS 7 -----------------------------------------------

def test_vermin_says_python_27_and_36():
    pytest.importorskip("vermin")
    vermin = shutil.which("vermin") or str(Path(sys.executable).with_name("vermin"))
    result = subprocess.run([vermin, "-q", "--no-tips", "-t=2.7-", "-t=3.6-", "--violations",
                             str(MODULE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


_OLD_PYTHON_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from spse_secrets import SecretScrubber
request = json.load(sys.stdin)
s = SecretScrubber(b"k" * 32, request["patterns"])
out = [s.line(t) if n is None else s.value(n, t) for n, t in request["entries"]]
sys.stdout.write(json.dumps(out))
"""


def _old_pythons():
    found = []
    for version in ("2.7", "3.6"):
        candidates = [shutil.which("python" + version)]
        candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python"))
        for exe in filter(None, candidates):
            if subprocess.run([exe, "-c", "pass"], capture_output=True, check=False).returncode == 0:
                found.append(exe)
                break
    return found


@pytest.mark.parametrize("exe", _old_pythons() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no Python 2.7 or 3.6 interpreter here"))])
def test_old_python_scrubs_the_corpus_the_same(scrubber, exe):
    entries = SECRETS + PLAIN
    request = {"patterns": SHIPPED_PATTERNS,
               "entries": [[entry["name"], _text(entry)] for entry in entries]}
    result = subprocess.run([exe, "-c", _OLD_PYTHON_SCRIPT, str(MODULE.parent)],
                            input=json.dumps(request), capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [scrub(scrubber, entry) for entry in entries]


LINES = [entry for entry in SECRETS if entry["name"] is None and entry["kind"] != "pgpass"]


@pytest.mark.parametrize("entry", LINES, ids=_ids(LINES))
def test_log_line_scrubs_what_line_scrubs(scrubber, entry):
    """report daily scrubs log lines through log_line's word filter: it must let every corpus
    line through to the shapes (a ~/.pgpass line quoted alone is the documented exception)."""
    assert scrubber.log_line(entry["line"]) == scrubber.line(entry["line"])


@pytest.mark.parametrize("text", ["--private-key=abc123", "PRIVATE-KEY: abc123", "pw=abc123"])
def test_log_line_knows_short_and_dashed_secret_names(text):
    """A configured name of two letters, or private-key spelt with a dash, still reaches the shapes."""
    scrubber = spse_secrets.SecretScrubber(KEY, [*SHIPPED_PATTERNS, "pw"])
    assert "abc123" not in scrubber.log_line(text)
