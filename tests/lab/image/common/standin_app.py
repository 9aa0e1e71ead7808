"""Stand-in for the SPSE 4 Play application on a lab host.

It behaves like the real application where the toolkit can see it: it reads
webapp/conf/application.conf, listens on http.port under http.path, sends
real SQL to PostgreSQL as db.user with db.pass (through ``psql``, so the
database log has real traffic from application ``spse4``), and writes
Play/log4j lines (``HH:mm:ss,SSS LEVEL ~ message``, stack traces after
errors) to webapp/logs/spse4.log.

It runs on Python 3 (bookworm hosts) and on Python 2.7 (legacy hosts, whose
only Python that is, as on CentOS 7): hence no f-strings and the imports
below.
"""
# ruff: noqa: UP010, UP020, UP024, UP031, RUF005 (this file runs on Python 2.7 too)
from __future__ import absolute_import, division, print_function, unicode_literals

import datetime
import io
import os
import re
import subprocess
import sys
import threading
import time
import traceback
from xml.sax.saxutils import escape

try:
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from socketserver import ThreadingMixIn
except ImportError:  # Python 2.7
    from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer
    from SocketServer import ThreadingMixIn

WEBAPP = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(WEBAPP, "conf", "application.conf")
LOG = os.path.join(WEBAPP, "logs", "spse4.log")
HOME_SQL = "SELECT count(*) AS jumlah_paket, coalesce(sum(pkt_hps), 0) AS total_hps FROM paket"
LELANG_SQL = "SELECT count(*) AS jumlah_lelang FROM lelang WHERE lls_status = 1"
ERROR_SQL = "SELECT pkt_id FROM paket_arsip WHERE pkt_id = 1"
_log_lock = threading.Lock()


def read_conf(path):
    """Parse Play's ``key=value`` lines, ignoring comments."""
    conf = {}
    with io.open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            conf[key.strip()] = value.strip()
    return conf


def log(level, message):
    """Append one Play-style line (and any following lines) to spse4.log."""
    stamp = datetime.datetime.now().strftime("%H:%M:%S,%f")[:-3]
    with _log_lock, io.open(LOG, "a", encoding="utf-8") as fh:
        fh.write("%s %-5s ~ %s\n" % (stamp, level, message))


def java_trace(cause, sql):
    """Render a failure the way Play prints a JavaExecutionException."""
    return "\n".join([
        "",
        "@7h3k2m1 Internal Server Error (500) for request GET /eproc4/error",
        "",
        "Execution exception (In /app/controllers/BerandaCtr.java around line 88)",
        "PersistenceException occured : org.hibernate.exception.SQLGrammarException: " + cause,
        "",
        "play.exceptions.JavaExecutionException: org.hibernate.exception.SQLGrammarException: "
        "could not extract ResultSet",
        "\tat play.mvc.ActionInvoker.invoke(ActionInvoker.java:237)",
        "\tat Invocation.HTTP Request(Play!)",
        "Caused by: org.postgresql.util.PSQLException: ERROR: " + cause,
        "  Query: " + sql,
        "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2553)",
        "\tat org.postgresql.jdbc.PgStatement.executeQuery(PgStatement.java:224)",
        "\tat controllers.BerandaCtr.error(BerandaCtr.java:88)",
        "\t... 1 more",
    ])


class DatabaseError(Exception):
    """A statement or connection failed; the message is PostgreSQL's first line."""


class Database:
    """One connection per query (a psql run): simple, and every query reaches the log."""

    def __init__(self, conf):
        match = re.match(r"jdbc:postgresql://([^:/]+)(?::(\d+))?/(\w+)", conf.get("db.url", ""))
        if not match:
            raise SystemExit("unsupported db.url in " + CONF)
        self.argv = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "|",
                     "-h", match.group(1), "-p", match.group(2) or "5432",
                     "-U", conf.get("db.user", "epns"), "-d", match.group(3)]
        self.env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                    "PGPASSWORD": conf.get("db.pass", ""),
                    "PGAPPNAME": conf.get("application.name", "spse4"),
                    "PGCONNECT_TIMEOUT": "5"}

    def query(self, sql):
        """Run one statement and return its rows as tuples of strings."""
        proc = subprocess.Popen(self.argv + ["-c", sql], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out, err = proc.communicate()
        if proc.returncode != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines() or ["psql failed"]
            raise DatabaseError(re.sub(r"^(psql: )?(error: )?(ERROR: +)?", "", lines[0]))
        return [tuple(line.split("|")) for line in out.decode("utf-8").splitlines() if line]


class Handler(BaseHTTPRequestHandler):
    """Answers GET under http.path like the SPSE home page."""

    server_version = "Play! Framework;1.3.3;prod"
    db = None
    base = "/"
    name = "spse4"

    def log_message(self, format, *args):
        """Keep the default stderr access log quiet; requests are logged in spse4.log."""

    def send_page(self, status, body):
        """Write a small HTML response."""
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        """Route: <path>/error fails on purpose, anything else under <path> is the home page."""
        started = time.time()
        path = self.path.split("?", 1)[0]
        if path != self.base and not path.startswith(self.base + "/"):
            status = 404
            self.send_page(status, "<html><body><h1>Not found</h1></body></html>")
        elif path.rstrip("/").endswith("/error"):
            status = self.failing_page()
        else:
            status = self.home_page()
        elapsed = int((time.time() - started) * 1000)
        log("INFO", "%s %s %d %dms" % (self.command, self.path, status, elapsed))

    def home_page(self):
        """Show counts read from the database (real SQL for the PostgreSQL log)."""
        try:
            (paket, hps), = self.db.query(HOME_SQL)
            (lelang,), = self.db.query(LELANG_SQL)
        except DatabaseError as exc:
            log("ERROR", "Database error on %s%s" % (self.path, java_trace(exc.args[0], HOME_SQL)))
            self.send_page(500, "<html><body><h1>%s</h1><p>database error</p></body></html>"
                           % escape(self.name))
            return 500
        name = escape(self.name)
        self.send_page(200, (
            "<html><head><title>%s</title></head><body>" % name
            + "<h1>SPSE 4 - %s</h1>" % name
            + "<p id=\"paket\">jumlah paket: %s</p>" % paket
            + "<p id=\"hps\">total HPS: %s</p>" % hps
            + "<p id=\"lelang\">lelang aktif: %s</p>" % lelang
            + "</body></html>"
        ))
        return 200

    def failing_page(self):
        """Query a table that does not exist: an ERROR in both logs."""
        try:
            self.db.query(ERROR_SQL)
        except DatabaseError as exc:
            log("ERROR", "Error on %s%s" % (self.path, java_trace(exc.args[0], ERROR_SQL)))
            self.send_page(500, "<html><body><h1>Oops: PersistenceException</h1></body></html>")
            return 500
        self.send_page(200, "<html><body>unexpected success</body></html>")
        return 200


class Server(ThreadingMixIn, HTTPServer):
    """A thread per request, like Play's pool; threads do not hold up exit."""

    daemon_threads = True


def main():
    """Serve forever on http.port, the way `play start` leaves the app running."""
    conf = read_conf(CONF)
    if not os.path.isdir(os.path.dirname(LOG)):
        os.makedirs(os.path.dirname(LOG))
    port = int(conf.get("http.port", "9000"))
    Handler.db = Database(conf)
    Handler.base = "/" + conf.get("http.path", "/").strip("/")
    Handler.name = conf.get("application.name", "spse4")
    log("INFO", "Starting " + WEBAPP)
    log("INFO", "Application '%s' is now started, mode=%s"
        % (Handler.name, conf.get("application.mode", "dev")))
    try:
        server = Server((conf.get("http.address", "0.0.0.0"), port), Handler)
    except (OSError, IOError) as exc:
        log("ERROR", "Could not bind on port %d\n%s" % (port, traceback.format_exc().rstrip()))
        print(exc, file=sys.stderr)
        return 1
    log("INFO", "Listening for HTTP on port %d ..." % port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
