"""psql argument lists, URL ports and the choice of the main cluster (module_utils/spse_postgres)."""

from __future__ import annotations

import re

import pytest
from ansible.module_utils import spse_postgres as pg
from ansible.module_utils.spse_secrets import SecretScrubber

EVIL = 'x"\n\\! touch /tmp/pwned\n'


def libpq_values(conninfo: str) -> dict[str, str]:
    """The keyword=value pairs of a connection string, by libpq's documented rules (values in
    single quotes, backslash escapes the next character)."""
    pairs = re.findall(r"(\w+)\s*=\s*'((?:[^'\\]|\\.)*)'", conninfo, re.S)
    assert "".join(f"{k}='{v}'" for k, v in pairs) == re.sub(r"\s+(?=\w+=')", "", conninfo)
    return {key: re.sub(r"\\(.)", r"\1", value, flags=re.S) for key, value in pairs}


@pytest.mark.parametrize("name", ["epns_prod", EVIL, "o'brien\\db", "host=evil port=1", "-c", "$HOME ~"])
def test_psql_argv_passes_a_database_name_as_data_only(name: str) -> None:
    argv = pg.psql_argv("/sbin/runuser", "/usr/pgsql-10/bin/psql", "postgres", "5433", name,
                        pg.EXTENSIONS_SQL, "/var/run/postgresql")
    assert argv == ["/sbin/runuser", "-u", "postgres", "--", "/usr/pgsql-10/bin/psql",
                    "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-p", "5433",
                    "-h", "/var/run/postgresql", "-d", argv[16], "-c", pg.EXTENSIONS_SQL]
    # every other argument is fixed; the name is inside the connection string and reads back whole
    assert libpq_values(argv[16]) == {"dbname": name, "application_name": "spse-change"}


def test_psql_argv_without_socket_folder_uses_the_default() -> None:
    argv = pg.psql_argv("runuser", "psql", "pgsql", "5432", "postgres", pg.CLUSTER_SQL)
    assert "-h" not in argv
    assert argv[2] == "pgsql"
    assert argv[-2:] == ["-c", pg.CLUSTER_SQL]


@pytest.mark.parametrize("url, port", [
    ("jdbc:postgresql://localhost/epns_prod", "5432"),
    ("jdbc:postgresql://127.0.0.1:5433/epns_prod?ssl=false", "5433"),
    ("postgres://epns:secret:hmac-sha256:0123456789abcdef0123456789abcdef@db:6432/epns_prod", "6432"),
    ("postgresql://[::1]:5434/epns", "5434"),
    ("mysql://localhost:3306/x", None),
    ("", None),
])
def test_url_port(url: str, port: str | None) -> None:
    assert pg.url_port(url) == port


def test_spse_ports_read_db_url_and_db_keys_also_behind_a_framework_id() -> None:
    confs = [{"db.url": "jdbc:postgresql://localhost:5433/epns_prod", "db.user": "epns"},
             {"%prod.db": "postgres://epns@localhost:5434/epns_lat", "http.port": "9000"},
             {"mail.url": "postgres://x@y:1/z"}]
    assert pg.spse_ports(confs) == ["5433", "5434"]


@pytest.mark.parametrize("ports, wanted, main", [
    (["5432", "5433"], ["5433"], "5433"),  # the SPSE instance's database
    (["5432", "5433"], ["6000"], "5432"),  # else the one on 5432
    (["5433"], [], "5433"),  # else the only one
    (["5440", "5433"], [], "5433"),  # else the lowest, so the choice never flips
    ([], ["5432"], None),
])
def test_main_port(ports: list[str], wanted: list[str], main: str | None) -> None:
    assert pg.main_port(ports, wanted) == main


def test_settings_keep_stable_fields_and_scrub_values() -> None:
    scrubber = SecretScrubber(b"k" * 32, ["*password*"])
    rows = {
        "work_mem": {"name": "work_mem", "setting": "16384", "unit": "kB", "source": "configuration file",
                     "sourcefile": "/var/lib/pgsql/10/data/postgresql.conf", "sourceline": 127,
                     "pending_restart": False, "boot_val": "4096"},
        "ldap_password": {"setting": "S3cret", "unit": None, "source": "configuration file"},
        "search_path": {"setting": "", "unit": None, "source": "default"},  # 9.4: no pending_restart
    }
    assert pg.settings(rows, scrubber) == {
        "work_mem": {"setting": "16384", "unit": "kB", "source": "configuration file",
                     "sourcefile": "/var/lib/pgsql/10/data/postgresql.conf", "pending_restart": False},
        "ldap_password": {"setting": scrubber.hash("S3cret"), "unit": None,
                          "source": "configuration file"},
        "search_path": {"setting": "", "unit": None, "source": "default"},
    }
