"""Asking a running PostgreSQL about itself, without ever building a script from host data.

Every query is one psql process with an argument list: the database name
goes in a libpq connection string built here with libpq's own quoting, never
into a psql script (a name holding a newline and ``\\!`` would otherwise run a
command as the postgres OS user). psql runs with ``-X`` (no ~/.psqlrc) and
``ON_ERROR_STOP``, and connects as ``application_name=spse-change`` so its
queries can be told apart in the server's log.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

APPLICATION_NAME = "spse-change"
CLUSTER_DB = "postgres"  # the database the cluster query connects to

# One row with everything a baseline keeps about a cluster, and the extensions of CLUSTER_DB
# (one psql fewer). ``row_to_json`` of pg_settings keeps the query the same on every version
# since 9.4 (``pending_restart`` came in 9.5).
EXTENSIONS_SQL = "SELECT json_object_agg(extname, extversion) FROM pg_extension"
CLUSTER_SQL = """
SELECT json_build_object(
  'extensions', (""" + EXTENSIONS_SQL + """),
  'server_version', current_setting('server_version'),
  'server_version_num', current_setting('server_version_num')::int,
  'settings', (SELECT json_object_agg(s.name, row_to_json(s)) FROM pg_settings s
    WHERE s.source NOT IN ('client', 'session') AND s.name <> 'application_name'),
  'databases', (SELECT json_object_agg(datname, json_build_object(
      'owner', pg_get_userbyid(datdba), 'encoding', pg_encoding_to_char(encoding),
      'connectable', datallowconn AND NOT datistemplate, 'size_bytes', pg_database_size(oid)))
    FROM pg_database))
"""
SETTING_FIELDS = ("setting", "unit", "source", "sourcefile", "pending_restart")


def conninfo_quote(value):
    # type: (str) -> str
    """A libpq connection-string value: single-quoted, backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def psql_argv(runuser, psql, os_user, port, dbname, sql, socket_dir=None):
    # type: (str, str, str, str, str, str, object) -> list
    """The argument list of one psql query as ``os_user`` over the local socket.

    ``dbname`` is data from the host: it only ever appears quoted inside the ``-d`` connection
    string (psql reads a ``-d`` value holding ``=`` as one), so no name can add an option, a
    psql meta-command or a second statement. ``sql`` must be one of this module's constants.
    """
    conninfo = "dbname=%s application_name=%s" % (conninfo_quote(dbname),
                                                   conninfo_quote(APPLICATION_NAME))
    argv = [runuser, "-u", os_user, "--", psql, "-X", "-A", "-t", "-q",
            "-v", "ON_ERROR_STOP=1", "-p", port]
    if socket_dir:
        argv += ["-h", socket_dir]
    return argv + ["-d", conninfo, "-c", sql]


def settings(rows, scrubber):
    # type: (dict, object) -> dict
    """pg_settings rows as a baseline keeps them: values through the scrubber, fields that every
    version has (and pending_restart where it exists); the line number is left out, since a
    comment added above a setting would read as a change."""
    result = {}
    for name, row in sorted((rows or {}).items()):
        entry = dict((field, row[field]) for field in SETTING_FIELDS if field in row)
        if entry.get("setting"):
            entry["setting"] = scrubber.value(name, entry["setting"])
        result[name] = entry
    return result


# jdbc:postgresql://host:port/db, postgres://user:pass@host:port/db, postgresql://[::1]:5433/db
_URL = re.compile(r"^\s*(?:jdbc:)?postgres(?:ql)?://(?:[^@/]*@)?(\[[^\]]*\]|[^:/?,]*)(?::(\d+))?")


def url_port(url):
    # type: (str) -> object
    """The port a PostgreSQL URL (JDBC or libpq) names, 5432 when it names none; None if no URL."""
    match = _URL.match(url or "")
    if not match:
        return None
    return match.group(2) or "5432"


def spse_ports(play_confs):
    # type: (list) -> list
    """Ports of the databases the SPSE instances use, from their parsed application.conf
    (``db.url``, newer builds' ``db=postgres://...``, also behind a ``%prod.`` prefix)."""
    ports = []
    for keys in play_confs:
        for key, value in sorted(keys.items()):
            if re.sub(r"^%[^.]*\.", "", key) in ("db.url", "db"):
                port = url_port(value)
                if port and port not in ports:
                    ports.append(port)
    return ports


def main_port(ports, wanted):
    # type: (list, list) -> object
    """The cluster that stays at data ``database``: the one the SPSE instance uses, else the one
    on 5432, else the only one (else the lowest port, so the choice never flips)."""
    for port in list(wanted) + ["5432"]:
        if port in ports:
            return port
    return sorted(ports, key=int)[0] if ports else None
