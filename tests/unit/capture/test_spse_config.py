"""Config-file parsers that run on the managed host (roles/spse_baseline/module_utils)."""

import json
from pathlib import Path

import pytest
from ansible.module_utils import spse_config
from ansible.module_utils.spse_secrets import SecretScrubber

FIXTURES = Path(__file__).with_name("fixtures")

PATTERNS = ["db.pass", "*password*", "*passwd*", "*secret*", "*token*", "*.key.pass*", "*secrets"]
KEY = b"k" * 32

# kind -> (fixture, planted clear-text secrets that must never appear in the output)
CASES = {
    "play_conf": ("application.conf",
                  ["S3cr3t!", "Latihan#2019", "Zq8mVx1PmK4rT0sLuA9bGd2Hf7Wj3Nc5"]),
    "postgresql_conf": ("postgresql.conf", []),
    "pg_hba": ("pg_hba.conf", ["Ld4pB1nd!"]),
    "pgpass": ("pgpass", ["Pg#Pa55w0rd", "c0l:on\\back", "c0l\\:on", "Latihan2019"]),
    "apache_conf": ("spse.conf", ["Ap4cheLd@p"]),
    "sysctl": ("sysctl.conf", []),
    "limits": ("limits.conf", []),
    "crontab": ("crontab", ["Cr0nP4ss", "B4ckupS3cret", "T0k3nXYZ"]),
    "shell_script": ("rc.local", ["RcL0calPw"]),
    "sshd_config": ("sshd_config", []),
    "chrony_conf": ("chrony.conf", []),
    "ntp_conf": ("ntp.conf", []),
}


@pytest.fixture
def scrubber():
    return SecretScrubber(KEY, PATTERNS)


def parse(kind, scrubber, text=None):
    if text is None:
        text = (FIXTURES / CASES[kind][0]).read_text()
    return spse_config.PARSERS[kind].parse(text, scrubber)


def marker(value, key=KEY):
    return SecretScrubber(key, PATTERNS).hash(value)


# -- registry


def test_registry_lists_every_kind_once():
    assert sorted(spse_config.PARSERS) == sorted(CASES)
    for kind, parser in spse_config.PARSERS.items():
        assert parser.kind == kind
        assert parser.description and parser.__doc__


# -- properties shared by every parser


@pytest.mark.parametrize("kind", sorted(CASES))
def test_no_planted_secret_leaves_the_parser(kind, scrubber):
    dumped = json.dumps(parse(kind, scrubber))
    for secret in CASES[kind][1]:
        assert secret not in dumped


@pytest.mark.parametrize("kind", sorted(CASES))
def test_output_is_deterministic_and_comment_free(kind, scrubber):
    first = parse(kind, scrubber)
    assert first == parse(kind, SecretScrubber(KEY, PATTERNS))
    assert json.dumps(first) == json.dumps(parse(kind, scrubber))
    dumped = json.dumps(first)
    for comment_text in ("legacy mask form", "change requires restart", "primary",
                         "play needs many files", "Example of job definition", "OpenBSD",
                         "konfigurasi", "pool.ntp.org project", "tuned by"):
        assert comment_text not in dumped


@pytest.mark.parametrize("kind", sorted(CASES))
def test_garbage_is_not_mistaken_for_a_config(kind, scrubber):
    with pytest.raises(spse_config.ParseError):
        parse(kind, scrubber, "\x00\x01 ((( not :: a [config] file =\n<<<\n")


def test_parse_error_never_quotes_the_line(scrubber):
    with pytest.raises(spse_config.ParseError) as error:
        parse("play_conf", scrubber, "db.user=epns\ndb.pass S3cr3t!\n")
    assert "S3cr3t" not in str(error.value)
    assert "line 2" in str(error.value)


# -- play_conf


def test_play_conf(scrubber):
    conf = parse("play_conf", scrubber)
    assert conf["http.port"] == "9010"  # duplicate key: last wins
    assert conf["http.path"] == "/eproc4"
    assert conf["db.url"] == "jdbc:postgresql://localhost/epns_prod"
    assert conf["db.user"] == "epns"
    assert conf["application.mode"] == "prod"
    assert conf["%prod.application.mode"] == "prod"
    assert conf["jvm.memory"] == "-Xmx2048m -Xms1024m"
    assert conf["db.pool.maxSize"] == "60"
    assert conf["db.pool.timeout"] == "1000"
    assert conf["spse3.url"] == "${application.baseUrl}/eproc"
    assert conf["application.langs"] == "id,en"  # backslash continuation joined
    assert conf["db.pass"] == marker("S3cr3t!")
    assert conf["%test.db.pass"] == marker("Latihan#2019")  # secret behind a framework id
    assert conf["application.secret"] == marker("Zq8mVx1PmK4rT0sLuA9bGd2Hf7Wj3Nc5")


def test_changed_secret_changes_only_its_marker(scrubber):
    text = (FIXTURES / "application.conf").read_text()
    before = parse("play_conf", scrubber, text)
    after = parse("play_conf", scrubber, text.replace("db.pass=S3cr3t!", "db.pass=N3wS3cr3t"))
    assert after["db.pass"] != before["db.pass"]
    assert {k: v for k, v in after.items() if k != "db.pass"} == {
        k: v for k, v in before.items() if k != "db.pass"}
    other_key = parse("play_conf", SecretScrubber(b"z" * 32, PATTERNS), text)
    assert other_key["db.pass"] != before["db.pass"]


# -- postgresql_conf


def test_postgresql_conf(scrubber):
    conf = parse("postgresql_conf", scrubber)
    assert conf["listen_addresses"] == "localhost"
    assert conf["port"] == "5432"
    assert conf["max_connections"] == "300"  # last wins
    assert conf["shared_buffers"] == "2GB"  # names lowercased
    assert conf["work_mem"] == "16MB"  # "name value" without '='
    assert conf["log_line_prefix"] == "%m [%p] %q%u@%d "
    assert conf["search_path"] == '"$user", public'
    assert conf["application_name"] == "it's # not a comment"
    assert conf["include_dir"] == "conf.d"
    assert conf["include_if_exists"] == "local.conf"
    assert conf["include"] == "tuning.conf"
    assert conf["include #2"] == "extra.conf"
    assert "superuser_reserved_connections" not in conf


def test_postgresql_conf_redacts_by_name(scrubber):
    conf = parse("postgresql_conf", scrubber, "ldap_password = 'p@ss'  # x\n")
    assert conf == {"ldap_password": marker("p@ss")}


def test_postgresql_conf_rejects_trailing_garbage(scrubber):
    with pytest.raises(spse_config.ParseError):
        parse("postgresql_conf", scrubber, "port = 5432 6543\n")


# -- pg_hba


def test_pg_hba(scrubber):
    rules = parse("pg_hba", scrubber)["rules"]
    assert list(rules) == [
        "local all postgres -",
        "local all all -",
        "host epns_prod,epns_lat epns 127.0.0.1/32",
        "host all all 127.0.0.1 255.255.255.255",
        'hostssl "all" +admins 10.10.0.0/16',
        "host all all ::1/128",
        "host all all ::1/128 #2",
        "hostnossl all all 0.0.0.0/0",
        "include_dir conf.d",
    ]
    assert rules["local all postgres -"] == {"order": 1, "method": "peer", "options": {}}
    assert rules["host all all 127.0.0.1 255.255.255.255"]["method"] == "scram-sha-256"
    assert rules["host all all ::1/128 #2"] == {"order": 7, "method": "trust", "options": {}}
    assert rules['hostssl "all" +admins 10.10.0.0/16'] == {
        "order": 5,
        "method": "ldap",
        "options": {
            "ldapserver": "ldap.lpse.example.go.id",
            "ldapbinddn": "cn=pg, dc=lpse",
            "ldapbindpasswd": marker("Ld4pB1nd!"),
        },
    }
    assert rules["include_dir conf.d"] == {"order": 9, "path": "conf.d"}


def test_pg_hba_radius_secrets_redacted(scrubber):
    text = "host all all 10.0.0.0/8 radius radiusservers=10.0.0.1 radiussecrets=R4d1us\n"
    options = parse("pg_hba", scrubber, text)["rules"]["host all all 10.0.0.0/8"]["options"]
    assert options == {"radiusservers": "10.0.0.1", "radiussecrets": marker("R4d1us")}


@pytest.mark.parametrize("line", [
    "local all all",
    "host all all 127.0.0.1/32",
    "host all all 127.0.0.1 255.255.255.255",
    "hostssl all all 10.0.0.0/8 md5 clientcert",
    "hots all all 10.0.0.0/8 md5",
])
def test_pg_hba_malformed_lines(line, scrubber):
    with pytest.raises(spse_config.ParseError):
        parse("pg_hba", scrubber, "local all postgres peer\n" + line + "\n")


# -- pgpass


def test_pgpass(scrubber):
    assert parse("pgpass", scrubber) == {"entries": {
        "localhost:5432:epns_prod:epns": marker("Pg#Pa55w0rd"),
        "localhost:5432:*:postgres": marker("c0l:on\\back"),  # escapes undone before hashing
        "10.10.0.5:5432:epns_lat:epns": marker("Latihan2019"),
    }}


def test_pgpass_hashes_whatever_the_patterns(scrubber):
    bare = SecretScrubber(KEY, [])
    assert parse("pgpass", bare, "h:5432:d:u:pw\n") == {"entries": {"h:5432:d:u": marker("pw")}}


# -- apache_conf


def test_apache_conf(scrubber):
    conf = parse("apache_conf", scrubber)
    assert conf["ServerTokens"] == ["Prod"]  # not a secret though "*token*" matches
    assert conf["IfModule mod_deflate.c"] == {
        "AddOutputFilterByType": ["DEFLATE text/html text/plain text/xml text/css "
                                  "application/javascript"]}
    assert conf["IfModule mod_evasive24.c"]["DOSPageCount"] == ["10"]
    assert conf["IfModule mod_evasive24.c"]["DOSBlockingPeriod"] == ["10"]
    vhost = conf["VirtualHost *:443"]
    assert vhost["SSLEngine"] == ["on"]
    assert vhost["SSLCertificateKeyFile"] == ["/etc/pki/tls/private/lpse.key"]
    assert vhost["ProxyPass"] == ["/eproc4 http://127.0.0.1:9009/eproc4",
                                  "/eproc http://127.0.0.1:9000/eproc"]
    assert vhost["Alias"] == ['/file_prod "/home/file/file_prod"']
    assert vhost['Directory "/home/file/file_prod"'] == {
        "Options": ["-Indexes"], "Require": ["all denied"]}
    assert vhost["IfModule security2_module"] == {
        "SecRuleEngine": ["On"], "SecRequestBodyLimit": ["10485760"]}
    assert vhost["Location /eproc4/admin"]["AuthLDAPBindPassword"] == [marker("Ap4cheLd@p")]
    assert conf["VirtualHost *:80"]["Redirect"] == ["permanent / https://lpse.example.go.id/"]


def test_apache_repeated_section_kept_apart(scrubber):
    text = "<IfModule a>\nX 1\n</IfModule>\n<IfModule a>\nX 2\n</IfModule>\n"
    assert parse("apache_conf", scrubber, text) == {
        "IfModule a": {"X": ["1"]}, "IfModule a #2": {"X": ["2"]}}


@pytest.mark.parametrize("text", [
    "<VirtualHost *:443>\nSSLEngine on\n",
    "<VirtualHost *:443>\n<IfModule x>\n</VirtualHost>\n</IfModule>\n",
    "SSLEngine on\n</VirtualHost>\n",
])
def test_apache_unbalanced_sections(text, scrubber):
    with pytest.raises(spse_config.ParseError):
        parse("apache_conf", scrubber, text)


# -- sysctl, limits


def test_sysctl(scrubber):
    assert parse("sysctl", scrubber) == {
        "vm.swappiness": "5",
        "vm.overcommit_memory": "2",
        "kernel.shmmax": "4294967295",
        "net.ipv4.tcp_syncookies": "1",
        "net.ipv4.conf.eth0/100.rp_filter": "1",  # slash form: slashes and dots swapped
        "fs.file-max": "65536",
    }


def test_limits(scrubber):
    assert parse("limits", scrubber) == {
        "appserv soft nofile": "100000",
        "appserv hard nofile": "65536",
        "postgres - nproc": "unlimited",
        "* hard core": "0",
        "@wheel soft nproc": "4096",
    }


# -- crontab


def test_crontab(scrubber):
    assert parse("crontab", scrubber) == {
        "env": {
            "SHELL": "/bin/bash",
            "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
            "MAILTO": "admin@lpse.example.go.id",
            "PGPASSWORD": marker("Cr0nP4ss"),
        },
        "entries": [
            "30 1 * * * postgres pg_dump -Fc epns_prod > /var/backups/epns_prod.dump",
            "0 2 * * * root PGPASSWORD=" + marker("B4ckupS3cret")
            + " pg_dump -h 127.0.0.1 -U epns -Fc epns_lat > /var/backups/epns_lat.dump",
            "*/15 * * * * root /usr/local/bin/check-spse.sh --token=" + marker("T0k3nXYZ"),
            "@reboot appserv /home/appserv/spse4/spse4 start",
            "0 3 * * sun root find /var/backups -name '*.dump' -mtime +7 -delete",
        ],
    }


def test_crontab_entry_without_command(scrubber):
    with pytest.raises(spse_config.ParseError):
        parse("crontab", scrubber, "30 1 * * *\n")


# -- shell_script


def test_shell_script_keeps_commands_and_hashes_credentials(scrubber):
    assert parse("shell_script", scrubber) == {"lines": [
        "touch /var/lock/subsys/local",
        "export JAVA_HOME=/usr/local/src/jdk1.8.0_202",
        'su - appserv -c "/home/appserv/spse4/spse4 start"',
        "PGPASSWORD=" + marker("RcL0calPw")
        + " pg_dump -h 127.0.0.1 -U epns -Fc epns_prod > /var/backups/epns_prod.dump",
    ]}


# -- sshd_config


def test_sshd_config(scrubber):
    conf = parse("sshd_config", scrubber)
    assert conf["port"] == ["22", "2222"]
    assert conf["hostkey"] == ["/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ed25519_key"]
    assert conf["acceptenv"] == ["LANG LC_CTYPE LC_NUMERIC", "LC_ALL"]
    assert conf["allowusers"] == ["admin appserv@10.10.0.0/16"]
    assert conf["subsystem"] == ["sftp /usr/libexec/openssh/sftp-server"]
    assert conf["clientaliveinterval"] == ["300"]  # Keyword=value
    assert conf["passwordauthentication"] == ["no"]  # a hardening fact, not a secret
    assert conf["permitrootlogin"] == ["no"]
    assert conf["include"] == ["/etc/ssh/sshd_config.d/*.conf"]
    assert conf["match Group sftponly"] == {
        "chrootdirectory": ["/home/file/%u"],
        "forcecommand": ["internal-sftp"],
        "x11forwarding": ["no"],
    }
    assert conf["match Address 10.10.0.0/16 User admin"] == {"passwordauthentication": ["yes"]}
    assert "x11forwarding" not in conf


# -- chrony_conf, ntp_conf


def test_chrony_conf(scrubber):
    assert parse("chrony_conf", scrubber) == {
        "server": ["0.id.pool.ntp.org iburst", "1.id.pool.ntp.org iburst"],
        "pool": ["time.bmkg.go.id iburst maxsources 2"],
        "driftfile": ["/var/lib/chrony/drift"],
        "makestep": ["1.0 3"],
        "rtcsync": [""],
        "keyfile": ["/etc/chrony.keys"],
        "logdir": ["/var/log/chrony"],
    }


def test_ntp_conf(scrubber):
    assert parse("ntp_conf", scrubber) == {
        "driftfile": ["/var/lib/ntp/drift"],
        "restrict": ["default nomodify notrap nopeer noquery", "127.0.0.1", "::1"],
        "server": ["0.id.pool.ntp.org iburst", "1.id.pool.ntp.org iburst"],
        "includefile": ["/etc/ntp/crypto/pw"],
        "keys": ["/etc/ntp/keys"],
    }
