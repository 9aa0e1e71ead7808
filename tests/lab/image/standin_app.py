#!/usr/bin/python3
"""Stand-in for the SPSE 4 Play application on a lab host.

It behaves like the real application where the toolkit can see it: it reads
webapp/conf/application.conf, listens on http.port under http.path, sends
real SQL to PostgreSQL with db.user/db.pass (so the database log has real
traffic), and writes Play/log4j lines (``HH:mm:ss,SSS LEVEL ~ message``,
stack traces after errors) to webapp/logs/spse4.log.
"""

import datetime
import html
import os
import re
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

WEBAPP = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(WEBAPP, "conf", "application.conf")
LOG = os.path.join(WEBAPP, "logs", "spse4.log")
HOME_SQL = "SELECT count(*) AS jumlah_paket, coalesce(sum(pkt_hps), 0) AS total_hps FROM paket"
LELANG_SQL = "SELECT count(*) AS jumlah_lelang FROM lelang WHERE lls_status = 1"
ERROR_SQL = "SELECT pkt_id FROM paket_arsip WHERE pkt_id = 1"
_log_lock = threading.Lock()


def read_conf(path: str) -> dict[str, str]:
    """Parse Play's ``key=value`` lines, ignoring comments."""
    conf: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            conf[key.strip()] = value.strip()
    return conf


def log(level: str, message: str) -> None:
    """Append one Play-style line (and any following lines) to spse4.log."""
    stamp = datetime.datetime.now().strftime("%H:%M:%S,%f")[:-3]
    with _log_lock, open(LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp} {level:<5} ~ {message}\n")


def java_trace(exc: Exception, sql: str) -> str:
    """Render a failure the way Play prints a JavaExecutionException."""
    cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return "\n".join([
        "",
        "@7h3k2m1 Internal Server Error (500) for request GET /eproc4/error",
        "",
        "Execution exception (In /app/controllers/BerandaCtr.java around line 88)",
        f"PersistenceException occured : org.hibernate.exception.SQLGrammarException: {cause}",
        "",
        "play.exceptions.JavaExecutionException: org.hibernate.exception.SQLGrammarException: "
        "could not extract ResultSet",
        "\tat play.mvc.ActionInvoker.invoke(ActionInvoker.java:237)",
        "\tat Invocation.HTTP Request(Play!)",
        f"Caused by: org.postgresql.util.PSQLException: ERROR: {cause}",
        f"  Query: {sql}",
        "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2553)",
        "\tat org.postgresql.jdbc.PgStatement.executeQuery(PgStatement.java:224)",
        "\tat controllers.BerandaCtr.error(BerandaCtr.java:88)",
        "\t... 1 more",
    ])


class Database:
    """One connection per request: simple, and every query reaches the log."""

    def __init__(self, conf: dict[str, str]) -> None:
        match = re.match(r"jdbc:postgresql://([^:/]+)(?::(\d+))?/(\w+)", conf.get("db.url", ""))
        if not match:
            raise SystemExit(f"unsupported db.url in {CONF}")
        self.params = {
            "host": match.group(1),
            "port": int(match.group(2) or 5432),
            "dbname": match.group(3),
            "user": conf.get("db.user", "epns"),
            "password": conf.get("db.pass", ""),
            "application_name": conf.get("application.name", "spse4"),
            "connect_timeout": 5,
        }

    def query(self, sql: str) -> list[tuple]:
        """Run one statement and return its rows."""
        with psycopg2.connect(**self.params) as conn, conn.cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchall()
        conn.close()
        return rows


class Handler(BaseHTTPRequestHandler):
    """Answers GET under http.path like the SPSE home page."""

    server_version = "Play! Framework;1.3.3;prod"
    db: Database
    base: str
    name: str

    def log_message(self, format: str, *args: object) -> None:
        """Keep the default stderr access log quiet; requests are logged in spse4.log."""

    def send_page(self, status: int, body: str) -> None:
        """Write a small HTML response."""
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """Route: <path>/error fails on purpose, anything else under <path> is the home page."""
        started = time.monotonic()
        path = self.path.split("?", 1)[0]
        if path != self.base and not path.startswith(self.base + "/"):
            status = 404
            self.send_page(status, "<html><body><h1>Not found</h1></body></html>")
        elif path.rstrip("/").endswith("/error"):
            status = self.failing_page()
        else:
            status = self.home_page()
        elapsed = int((time.monotonic() - started) * 1000)
        log("INFO", f"{self.command} {self.path} {status} {elapsed}ms")

    def home_page(self) -> int:
        """Show counts read from the database (real SQL for the PostgreSQL log)."""
        try:
            (paket, hps), = self.db.query(HOME_SQL)
            (lelang,), = self.db.query(LELANG_SQL)
        except psycopg2.Error as exc:
            log("ERROR", f"Database error on {self.path}" + java_trace(exc, HOME_SQL))
            self.send_page(500, f"<html><body><h1>{self.name}</h1><p>database error</p></body></html>")
            return 500
        self.send_page(200, (
            f"<html><head><title>{html.escape(self.name)}</title></head><body>"
            f"<h1>SPSE 4 - {html.escape(self.name)}</h1>"
            f"<p id=\"paket\">jumlah paket: {paket}</p>"
            f"<p id=\"hps\">total HPS: {hps}</p>"
            f"<p id=\"lelang\">lelang aktif: {lelang}</p>"
            "</body></html>"
        ))
        return 200

    def failing_page(self) -> int:
        """Query a table that does not exist: an ERROR in both logs."""
        try:
            self.db.query(ERROR_SQL)
        except psycopg2.Error as exc:
            log("ERROR", f"Error on {self.path}" + java_trace(exc, ERROR_SQL))
            self.send_page(500, "<html><body><h1>Oops: PersistenceException</h1></body></html>")
            return 500
        self.send_page(200, "<html><body>unexpected success</body></html>")
        return 200


def main() -> int:
    """Serve forever on http.port, the way `play start` leaves the app running."""
    conf = read_conf(CONF)
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    port = int(conf.get("http.port", "9000"))
    Handler.db = Database(conf)
    Handler.base = "/" + conf.get("http.path", "/").strip("/")
    Handler.name = conf.get("application.name", "spse4")
    log("INFO", f"Starting {WEBAPP}")
    log("INFO", f"Application '{Handler.name}' is now started, mode={conf.get('application.mode', 'dev')}")
    try:
        server = ThreadingHTTPServer((conf.get("http.address", "0.0.0.0"), port), Handler)
    except OSError as exc:
        log("ERROR", f"Could not bind on port {port}\n{traceback.format_exc().rstrip()}")
        print(exc, file=sys.stderr)
        return 1
    log("INFO", f"Listening for HTTP on port {port} ...")
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
