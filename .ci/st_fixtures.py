"""Fixtures and the reach check for .ci/schemathesis.sh.

`fixtures BASE TOKEN OUTBOX_DIR BASE_CONFIG OUT_CONFIG`: read real ids from the running demo
(a plan and one of its stops, visits, a pending log, an email, a signed form link), make a draft
plan to publish, and write a schemathesis config that binds the write operations' ids and pin
fields to them, so that generated requests reach the handlers' work instead of "not found".

`reach HAR_FILE`: fail unless every write operation got at least one 2xx during the run.
"""

import datetime
import email
import email.policy
import json
import pathlib
import re
import sys
import urllib.parse
import urllib.request

WRITES = {
    ("POST", r"/api/v1/plans"): "createPlan",
    ("PUT", r"/api/v1/plans/\d+/pins"): "putPins",
    ("POST", r"/api/v1/plans/\d+/replan"): "replanPlan",
    ("POST", r"/api/v1/plans/\d+/publish"): "publishPlan",
    ("POST", r"/api/v1/plans/\d+/approve"): "approvePlan",
    ("POST", r"/api/v1/visits/\d+/logs"): "createVisitLog",
    ("POST", r"/api/v1/visit-logs/\d+/review"): "reviewLog",
    ("POST", r"/v/[^/?]+"): "visitFormSubmit",
}


def call(base, token, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.load(resp)


def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def fixtures(base, token, outbox_dir, base_config, out_config):
    plans = call(base, token, "GET", "/api/v1/plans?region=35.09")["items"]
    published = next(p["id"] for p in plans if p["status"] == "published")
    plan = call(base, token, "GET", f"/api/v1/plans/{published}")
    route = next(r for r in plan["routes"] if r["stops"])
    stop = route["stops"][0]
    draft = call(base, token, "POST", "/api/v1/plans",
                 {"region": "35.09", "week": plan["week"], "time_limit_s": 1})["id"]
    # A draft of the week after, for approvePlan alone: a re-plan of the week above makes a
    # newer version there, after which approving its older draft is rightly refused (409).
    later = datetime.date.fromisoformat(route["day"]) + datetime.timedelta(days=7)
    year, week, _ = later.isocalendar()
    to_approve = call(base, token, "POST", "/api/v1/plans",
                      {"region": "35.09", "week": f"{year}-W{week:02}", "time_limit_s": 1})["id"]
    visits = [v["id"] for v in call(base, token, "GET", "/api/v1/visits?region=35.09")["items"]]
    logged = call(base, token, "POST", f"/api/v1/visits/{visits[0]}/logs",
                  {"status": "selesai", "counts": {"ktp_el": 12}},
                  {"Idempotency-Key": "st-fixture-1"})["id"]
    emails = [e["id"] for e in call(base, token, "GET", "/api/v1/outbox?limit=5")["items"]]
    links = set()
    for eml in pathlib.Path(outbox_dir).rglob("*.eml"):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                links.update(re.findall(r"/v/([A-Za-z0-9_.~-]{20,})", part.get_content()))
    if not links:
        sys.exit(f"no signed form link in the emails under {outbox_dir}")
    config = pathlib.Path(base_config).read_text()
    config += f"""
# Written by .ci/st_fixtures.py from the running demo.
[dictionaries.plans]
values = {toml_list([published, draft])}
[dictionaries.draft]
values = [{draft}]
[dictionaries.to_approve]
values = [{to_approve}]
[dictionaries.pin_site]
values = [{stop["site_id"]}]
[dictionaries.pin_team]
values = [{route["team_id"]}]
[dictionaries.pin_day]
values = [{json.dumps(route["day"])}]
[dictionaries.visits]
values = {toml_list(visits[:10])}
[dictionaries.logs]
values = [{logged}]
[dictionaries.emails]
values = {toml_list(emails or [1])}
[dictionaries.links]
values = {toml_list(sorted(links)[:5])}

[[operations]]
include-operation-id = "putPins"
parameters = {{ "path.id" = {{ dictionary = "plans" }}, "body.pins[*].site_id" = {{ dictionary = "pin_site" }}, "body.pins[*].team_id" = {{ dictionary = "pin_team" }}, "body.pins[*].day" = {{ dictionary = "pin_day" }} }}

[[operations]]
include-operation-id = ["getPins", "replanPlan"]
parameters = {{ "path.id" = {{ dictionary = "plans" }} }}

[[operations]]
include-operation-id = "publishPlan"
parameters = {{ "path.id" = {{ dictionary = "draft" }} }}

[[operations]]
include-operation-id = "approvePlan"
parameters = {{ "path.id" = {{ dictionary = "to_approve" }} }}

[[operations]]
include-operation-id = ["getVisit", "listVisitLogs", "createVisitLog"]
parameters = {{ "path.id" = {{ dictionary = "visits" }} }}

[[operations]]
include-operation-id = "reviewLog"
parameters = {{ "path.id" = {{ dictionary = "logs" }} }}

[[operations]]
include-operation-id = "retryOutbox"
parameters = {{ "path.id" = {{ dictionary = "emails" }} }}

[[operations]]
include-operation-id = ["visitFormShow", "visitFormSubmit"]
parameters = {{ "path.token" = {{ dictionary = "links" }} }}
"""
    pathlib.Path(out_config).write_text(config)
    print(f"fixtures: plan {published} (draft {draft}, to approve {to_approve}), pin site {stop['site_id']} team "
          f"{route['team_id']} {route['day']}, {len(visits)} visits, log {logged}, "
          f"{len(emails)} emails, {len(links)} form links")


def reach(har_file):
    har = json.loads(pathlib.Path(har_file).read_text())
    ok = {name: 0 for name in WRITES.values()}
    seen = {name: 0 for name in WRITES.values()}
    for entry in har["log"]["entries"]:
        method = entry["request"]["method"]
        path = urllib.parse.urlsplit(entry["request"]["url"]).path
        status = entry["response"]["status"]
        for (m, pattern), name in WRITES.items():
            if m == method and re.fullmatch(pattern, path):
                seen[name] += 1
                ok[name] += 200 <= status < 300
    for name in WRITES.values():
        print(f"  {name:18} {ok[name]:4} succeeded of {seen[name]:4}")
    missed = [name for name in WRITES.values() if ok[name] == 0]
    if missed:
        sys.exit(f"FAIL: no request succeeded for {', '.join(missed)}")


if __name__ == "__main__":
    if sys.argv[1] == "fixtures":
        fixtures(*sys.argv[2:7])
    elif sys.argv[1] == "reach":
        reach(sys.argv[2])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
