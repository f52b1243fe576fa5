#!/usr/bin/python3
"""tscompose offline stand-in for hhyo/archery: an HTTP status page on $NGINX_PORT (9123).

GET / reports whether mysql (DATABASE_URL credentials, `select 1` on its database), redis
(CACHE_URL with its password: AUTH + PING) and goinception (GOINCEPTION_HOST:GOINCEPTION_PORT,
TCP connect) are reachable; as JSON for `?format=json` or `Accept: application/json`, else HTML.
Targets default to the compose service names (mysql, redis, goinception).
"""
import concurrent.futures
import html
import json
import os
import signal
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

STANDIN = "hhyo/archery:v1.14.0 stand-in (tscompose offline mode)"
TIMEOUT = float(os.environ.get("STANDIN_CHECK_TIMEOUT", "3"))


def database_target():
    u = urlsplit(os.environ.get("DATABASE_URL", "mysql://root:123456@mysql:3306/archery"))
    return {
        "host": u.hostname or "mysql",
        "port": u.port or 3306,
        "user": unquote(u.username or "root"),
        "password": unquote(u.password or ""),
        "database": u.path.lstrip("/") or None,
    }


def cache_target():
    u = urlsplit(os.environ.get("CACHE_URL", "redis://redis:6379/0"))
    q = {k.upper(): v[0] for k, v in parse_qs(u.query).items()}
    password = q.get("PASSWORD") or (unquote(u.password) if u.password else None)
    if password is None:
        password = os.environ.get("REDIS_PASSWORD") or None
    db = u.path.lstrip("/") or "0"
    return {"host": u.hostname or "redis", "port": u.port or 6379, "password": password, "db": db}


def resolve(host):
    try:
        return socket.gethostbyname(host)
    except OSError:
        return None


def check_mysql():
    t = database_target()
    target = f"{t['host']}:{t['port']}/{t['database'] or ''}"
    import pymysql  # Debian's python3-pymysql

    conn = pymysql.connect(
        host=t["host"],
        port=t["port"],
        user=t["user"],
        password=t["password"],
        database=t["database"],
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("select 1, version()")
            row = cur.fetchone()
    finally:
        conn.close()
    return target, t["host"], f"select 1 = {row[0]} as {t['user']}; server {row[1]}"


def resp_command(sock, *args):
    """Sends one RESP command and reads a one-line reply (+OK, -ERR, :1, $n...)."""
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        b = str(a).encode()
        out += f"${len(b)}\r\n".encode() + b + b"\r\n"
    sock.sendall(out)
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        buf += chunk
    return buf.decode(errors="replace").strip()


def check_redis():
    t = cache_target()
    target = f"{t['host']}:{t['port']}/{t['db']}"
    with socket.create_connection((t["host"], t["port"]), timeout=TIMEOUT) as s:
        if t["password"]:
            r = resp_command(s, "AUTH", t["password"])
            if r != "+OK":
                raise RuntimeError(f"AUTH: {r}")
        r = resp_command(s, "PING")
        if r != "+PONG":
            raise RuntimeError(f"PING: {r}")
        r = resp_command(s, "SELECT", t["db"])
        if r != "+OK":
            raise RuntimeError(f"SELECT {t['db']}: {r}")
    auth = "AUTH ok, " if t["password"] else ""
    return target, t["host"], f"{auth}PING = PONG"


def check_goinception():
    host = os.environ.get("GOINCEPTION_HOST", "goinception")
    port = int(os.environ.get("GOINCEPTION_PORT", "4000"))
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.settimeout(0.5)
        try:
            greeting = s.recv(512)
        except OSError:
            greeting = b""
    text = greeting[7:].decode(errors="replace") if greeting[4:5] == b"\xff" else ""
    detail = "TCP connect ok" + (f"; says: {text}" if text else "")
    return f"{host}:{port}", host, detail


CHECKS = {"mysql": check_mysql, "redis": check_redis, "goinception": check_goinception}


def run_check(name):
    start = time.monotonic()
    try:
        target, host, detail = CHECKS[name]()
        result = {"reachable": True, "target": target, "detail": detail}
    except Exception as e:  # report every failure as unreachable with its reason
        result = {"reachable": False, "target": None, "detail": f"{type(e).__name__}: {e}"}
        host = {
            "mysql": database_target()["host"],
            "redis": cache_target()["host"],
            "goinception": os.environ.get("GOINCEPTION_HOST", "goinception"),
        }[name]
    result["address"] = resolve(host)
    result["ms"] = round((time.monotonic() - start) * 1000)
    return name, result


def report():
    with concurrent.futures.ThreadPoolExecutor(len(CHECKS)) as ex:
        checks = dict(ex.map(run_check, CHECKS))
    return {
        "standin": STANDIN,
        "ok": all(c["reachable"] for c in checks.values()),
        "checks": checks,
    }


def render_html(r):
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td class={'ok' if c['reachable'] else 'bad'}>"
        f"{'reachable' if c['reachable'] else 'unreachable'}</td>"
        f"<td>{html.escape(str(c['target'] or ''))} {html.escape(str(c['address'] or ''))}</td>"
        f"<td>{html.escape(c['detail'])}</td></tr>"
        for n, c in r["checks"].items()
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Archery stand-in</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:.3em .8em;border-bottom:1px solid #ddd}}
.ok{{color:#070}} .bad{{color:#b00}} .note{{background:#ffe;padding:.5em;border:1px solid #cc9}}</style></head>
<body><h1>Archery stack status</h1>
<p class="note">This is <b>{html.escape(STANDIN)}</b>: the images were built from Debian packages
because this machine cannot reach Docker Hub. It checks the stack's services; it is not Archery.</p>
<p>Overall: <b class="{'ok' if r['ok'] else 'bad'}">{'all reachable' if r['ok'] else 'not all reachable'}</b></p>
<table><tr><th>service</th><th>status</th><th>target</th><th>detail</th></tr>{rows}</table>
<p>JSON: <a href="/?format=json">/?format=json</a></p></body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "archery-standin/1"

    def do_GET(self):
        u = urlsplit(self.path)
        if u.path not in ("/", "/status", "/index.html"):
            self.send(404, "text/plain; charset=utf-8", b"not found (archery stand-in)\n")
            return
        fmt = parse_qs(u.query).get("format", [""])[0]
        accept = self.headers.get("Accept", "")
        want_json = fmt == "json" or (fmt != "html" and "application/json" in accept)
        r = report()
        if want_json:
            self.send(200, "application/json", (json.dumps(r, indent=2) + "\n").encode())
        else:
            self.send(200, "text/html; charset=utf-8", render_html(r).encode())

    def send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} - {fmt % args}", flush=True)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("NGINX_PORT", "9123"))
    srv = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    srv.daemon_threads = True
    print(f"{STANDIN}: listening on 0.0.0.0:{port}", flush=True)
    try:
        srv.serve_forever()
    except SystemExit:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
