#!/usr/bin/env python3
"""Server time and weight of each console page at the demo's size (issue 16: under 200 ms, and a
page's own weight without map tiles under 500 KB).

    python3 benches/pages.py                    # SQLite in a temporary directory
    PAGES_DB=postgres python3 benches/pages.py  # PostgreSQL (PG_URL, default the local server)

A fresh database with the demo (`jemput demo --json`, which prints the demo's sign-ins), `jemput
serve` (release build; JEMPUT_BIN, built if missing), the coordinator, manager and field member
signed in through /app/login; then every page is fetched ROUNDS times (default 21) after one
warm-up request and the median and worst of the time to the last byte are printed, with the
HTML's bytes and the page's weight: the HTML plus the stylesheets and scripts it links (what the
browser fetches from jemput; tiles come from the tile server and are not counted).
"""
import http.cookiejar
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("JEMPUT_BIN", os.path.join(ROOT, "target/release/jemput"))
ROUNDS = int(os.environ.get("ROUNDS", "21"))
WEEK = "2026-W50"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session(base, username, password):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    html = opener.open(base + "/app/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode(
        {"username": username, "password": password, "csrf": csrf, "next": "/app"}
    ).encode()
    try:
        opener.open(base + "/app/login", body)
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise
    return opener


def fetch(opener, url):
    start = time.perf_counter()
    with opener.open(url) as r:
        body = r.read()
        status = r.status
    return time.perf_counter() - start, body, status


def main():
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="jemput-pages.")
    port = free_port()
    env = dict(os.environ)
    env.update({
        "JEMPUT_CONFIG_DIR": os.path.join(ROOT, "config"),
        "JEMPUT__EMAIL__FILE_DIR": os.path.join(tmp, "mail"),
        "JEMPUT__SERVER__PORT": str(port),
        "JEMPUT__AUTH__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # The demo's week, whatever today is.
        "JEMPUT__CLOCK__FIXED": "2026-12-03T02:00:00Z",
    })
    pg_db = None
    if os.environ.get("PAGES_DB") == "postgres":
        pg = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        pg_db = f"jemput_pages_{os.getpid()}"
        subprocess.run(["psql", pg, "-qc", f"create database {pg_db}"], check=True)
        env["JEMPUT__DATABASE__URL"] = pg.rsplit("/", 1)[0] + "/" + pg_db
    else:
        env["JEMPUT__DATABASE__URL"] = f"sqlite://{tmp}/jemput.db?mode=rwc"
    server = None
    try:
        demo = subprocess.run([BIN, "demo", "--json"], env=env, check=True,
                              capture_output=True, text=True)
        report = json.loads(demo.stdout)
        accounts = {a["role"]: (a["username"], a["password"]) for a in report["accounts"]}
        plan = report["emails"]["plan_id"]
        server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health")
                break
            except Exception:
                time.sleep(0.1)
        who = {role: session(base, *accounts[role]) for role in ("coordinator", "manager", "field")}
        pages = [
            ("sign-in", None, "/app/login"),
            ("region", "coordinator", "/app/region/35.09"),
            ("priorities", "coordinator", f"/app/region/35.09/priorities?week={WEEK}"),
            ("week", "coordinator", f"/app/plans/{plan}"),
            ("emails", "coordinator", "/app/region/35.09/emails"),
            ("review", "manager", "/app/region/35.09/review"),
            ("report", "manager", f"/app/region/35.09/report?week={WEEK}"),
            ("audit", "manager", "/app/region/35.09/audit"),
            ("my-week", "field", f"/app/my-week?week={WEEK}"),
        ]
        anonymous = urllib.request.build_opener(NoRedirect)
        asset_size = {}
        print(f"{'page':<12} {'median ms':>9} {'worst ms':>9} {'first ms':>9} {'HTML KB':>8} {'weight KB':>9}")
        for name, role, path in pages:
            opener = who[role] if role else anonymous
            first, body, status = fetch(opener, base + path)
            assert status == 200, (path, status)
            times = [fetch(opener, base + path)[0] for _ in range(ROUNDS)]
            html = body.decode()
            weight = len(body)
            for asset in re.findall(r'(?:href|src)="(/app/assets/[^"]+)"', html):
                if asset not in asset_size:
                    asset_size[asset] = len(fetch(anonymous, base + asset)[1])
                weight += asset_size[asset]
            print(f"{name:<12} {statistics.median(times) * 1000:>9.1f} {max(times) * 1000:>9.1f} "
                  f"{first * 1000:>9.1f} {len(body) / 1024:>8.1f} {weight / 1024:>9.1f}")
    finally:
        if server:
            server.terminate()
            server.wait()
        if pg_db:
            subprocess.run(["psql", pg, "-qc", f"drop database if exists {pg_db} with (force)"])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
