"""Pages per second as an operator would measure them: the real server under concurrent clients.

    .venv/bin/python bench/load.py                      # PostgreSQL at 127.0.0.1:5432/test, 30 s per page
    .venv/bin/python bench/load.py --quick              # 1,000 enterprises, 20,000 hazards, 10 s per page
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://USER@HOST/DB --clients 20,50
    .venv/bin/python bench/load.py --cold               # nothing kept: every figure and row counted each time
    .venv/bin/python bench/load.py --redis redis://127.0.0.1:6379/15   # kept in Redis, as deployed

In a schema of its own (bench/common.py) the migrations run, the demo is seeded and a generated
district is added under 天津市: 20 streets, 10,000 enterprises, 200,000 hazards and an 应急管理局 that
supervises hazchem and industry-trade enterprises (bulk Core inserts, then VACUUM ANALYZE). Then
gunicorn serves the portal (gunicorn.conf.py, WEB_WORKERS workers, default 2) and, on another port
with the same settings, bench/bare_app.py: a bare Flask + Jinja page of 50 rows, the yardstick.
Several roles log in through the login form (district admins, a street's staff, a department's
inspector, an enterprise's principal), and wrk drives each page the users open most with N
concurrent connections for the given seconds, cycling through the roles' requests. Printed per
page: pages/s, its ratio to the bare page's pages/s measured just before it (the machine may be
shared), p50/p95/p99 in ms, and
errors (any answer but 200, socket errors and timeouts). No verdicts.

Needs wrk (Debian: apt-get install wrk).
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common import ROOT, fresh_app, timed
from hazards_ledger import analyze, insert_hazards

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "Bench#2024x"
DEMO_PASSWORD = "Anquan@2023"
USER_AGENT = "bench-load/1"  # the login session is bound to address and browser (session_protection)
STREETS = 20
INDUSTRIES = ("hazchem", "construction", "gas", "industry_trade", "commerce", "fire")
WRK_TIMEOUT = "10s"

LUA = r"""
local requests = {%(requests)s}
local threads = {}
local n = 0
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; n = math.random(#requests) end
function request() n = n %% #requests + 1; return requests[n] end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, reqs)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "seconds": %%f, "p50": %%f, "p95": %%f, "p99": %%f, ' ..
    '"bad": %%d, "socket": %%d}\n', summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, b,
    e.connect + e.read + e.write + e.timeout))
end
"""


def generate(n_enterprises: int, n_hazards: int, seed: int = 2026) -> dict:
    """The district under the demo's 天津市; return the ids and paths the pages need."""
    from sqlalchemy import select

    from portal.extensions import db
    from tenants.models import Tenant
    from tenants.paths import insert_nodes, node_row, reserve_ids

    rng = random.Random(seed)
    city = db.session.execute(select(Tenant).where(Tenant.code == "12")).scalar_one()
    next_id = reserve_ids()
    rows = []

    def node(parent, kind, name, **fields):
        nonlocal next_id
        row = node_row(next_id, parent["id"], f"{parent['path']}{next_id}/", parent["depth"] + 1, kind=kind,
                       name=name, **fields)
        next_id += 1
        rows.append(row)
        return row

    district = node(dict(id=city.id, path=city.path, depth=city.depth), "district", "基准区")
    department = node(district, "department", "基准区应急管理局", supervised_industries=["hazchem", "industry_trade"])
    enterprises, streets = [], []
    for s in range(STREETS):
        street = node(district, "street", f"基准区第{s}街道")
        streets.append(street)
        for e in range(n_enterprises // STREETS):
            industry = INDUSTRIES[e % len(INDUSTRIES)]
            enterprises.append(node(street, "enterprise", f"基准区第{s}街道第{e}号企业", industry=industry,
                                    credit_code=f"91BLOAD{street['id']:05d}{e:06d}", high_risk=industry == "hazchem"))
    insert_nodes(rows)
    db.session.commit()
    insert_hazards(enterprises, n_hazards, rng, district["id"])
    analyze(("tenants", "hazards"))
    return dict(district=district, department=department, street=streets[0], enterprise=enterprises[0])


def populate(n_enterprises: int, n_hazards: int) -> tuple[dict, float]:
    """Demo, generated district, bench users; (the ids the pages need, seconds it took)."""
    from sqlalchemy import select

    from portal.auth import service as auth
    from portal.demo import seed
    from portal.dispatch.models import ReportDefinition
    from portal.dispatch.service import refresh_rollups
    from portal.extensions import db
    from tenants.models import Tenant
    from tenants.scope import unscoped

    started = time.perf_counter()
    with unscoped():
        seed()
        db.session.commit()
        ids = generate(n_enterprises, n_hazards)
        for username, node, role in (("bench_admin", "district", "admin"), ("bench_staff", "street", "staff"),
                                     ("bench_inspector", "department", "inspector"),
                                     ("bench_principal", "enterprise", "principal")):
            user = auth.create_user(db.session.get(Tenant, ids[node]["id"]), username=username,
                                    display_name="基准用户", password=PASSWORD, role=role)
            auth.accept_password(user)  # measured pages, not the forced first change
        db.session.commit()
        by_code = {t.code: t for t in db.session.execute(select(Tenant).where(Tenant.code.in_(
            ("120102", "120105")))).scalars()}
        national = db.session.execute(select(ReportDefinition).where(ReportDefinition.by_level.is_(True))
                                      .order_by(ReportDefinition.id)).scalars().first()
        ids.update(hedong=by_code["120102"].id, hebei=by_code["120105"].id, national=national.id)
        # The dispatch figures as the schedule keeps them (every 30 s in production).
        refresh_rollups()
        db.session.remove()
    return ids, time.perf_counter() - started


def pages(ids: dict) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """(page, [(user, path, HTMX?)]): each page as several roles open it."""
    big, hedong = ids["district"]["id"], ids["hedong"]
    dispatch = f"/dispatch/{ids['national']}/units"
    return [
        # The floor: no page work, only what every logged-in request costs (session, user and
        # memberships, scope, log line). No page can serve more than this.
        ("登录后 /healthz", [("bench_admin", "/healthz", False), ("hedong_staff", "/healthz", False)]),
        ("首页", [("bench_admin", "/", False), ("hedong_admin", "/", False), ("hedong_staff", "/", False),
                ("bench_inspector", "/", False), ("bench_principal", "/", False)]),
        ("隐患台账（整页）", [("bench_admin", "/hazards/", False), ("bench_inspector", "/hazards/", False),
                       ("hedong_admin", "/hazards/", False), ("bench_staff", "/hazards/", False)]),
        ("隐患台账 HTMX 行", [("bench_admin", "/hazards/?page=3", True),
                        ("bench_inspector", "/hazards/?status=rectifying&page=2", True),
                        ("bench_admin", "/hazards/?sort=recent&level=major", True),
                        ("hedong_admin", "/hazards/?status=pending", True),
                        ("bench_staff", "/hazards/?page=2", True)]),
        ("隐患台账 存量与趋势", [("bench_admin", "/hazards/figures", True), ("hedong_admin", "/hazards/figures", True),
                        ("bench_staff", "/hazards/figures", True)]),
        ("任务看板", [("hedong_admin", "/tasks/", False), ("bench_admin", "/tasks/", False),
                  ("dongli_admin", "/tasks/", False), ("hedong_staff", "/tasks/", False)]),
        ("清单总览", [("bench_admin", "/checklists/overview", False), ("hedong_admin", "/checklists/overview", False),
                  ("hedong_staff", "/checklists/overview", False), ("bench_inspector", "/checklists/overview", False)]),
        ("单位页", [("bench_admin", f"/tenants/{big}", False), ("hedong_admin", f"/tenants/{hedong}", False),
                 ("bench_staff", f"/tenants/{ids['street']['id']}", False)]),
        ("调度表（区县）", [("bench_admin", f"{dispatch}/{big}", False), ("hedong_admin", f"{dispatch}/{hedong}", False),
                      ("hebei_admin", f"{dispatch}/{ids['hebei']}", False)]),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_spec: str, port: int, workers: int, log: Path, pythonpath: str | None = None,
          **settings: str) -> subprocess.Popen:
    env = dict(os.environ, BIND=f"127.0.0.1:{port}", WEB_WORKERS=str(workers), SECURE_COOKIES="0",
               LOG_LEVEL="warning", **settings)
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
    if pythonpath:
        cmd += ["--pythonpath", pythonpath]
    proc = subprocess.Popen([*cmd, app_spec], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn {app_spec} 未能启动，见 {log}")
            time.sleep(0.3)
    raise SystemExit(f"gunicorn {app_spec} 60 秒内未就绪，见 {log}")


def login(base: str, username: str, password: str) -> str:
    """Sign in through the form as a browser does; the session cookie ("name=value")."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(dict(username=username, password=password, csrf_token=token)).encode()
    landed = opener.open(f"{base}/login", data=data)
    if urllib.parse.urlparse(landed.url).path == "/login":
        raise SystemExit(f"{username} 登录失败")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def check(base: str, cookie: str, path: str, htmx: bool) -> int:
    """One request as wrk will send it: must answer 200 with the page, not a login form. Its size."""
    headers = {"User-Agent": USER_AGENT, "Cookie": cookie, **({"HX-Request": "true"} if htmx else {})}
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=60) as response:
        body = response.read()
    if response.status != 200 or urllib.parse.urlparse(response.url).path != urllib.parse.urlparse(path).path:
        raise SystemExit(f"{path} 答复 {response.status} {response.url}")
    return len(body)


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def drive(url: str, requests: list[tuple[str, dict]], clients: int, seconds: int, workdir: Path) -> dict:
    """wrk with `clients` connections cycling through (path, headers); its figures."""
    listed = ", ".join(f"wrk.format(\"GET\", {lua_string(path)}, {{{', '.join(f'[{lua_string(k)}] = {lua_string(v)}' for k, v in headers.items())}}})"
                       for path, headers in requests)
    script = workdir / "requests.lua"
    script.write_text(LUA % {"requests": listed})
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT, "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out.split("RESULT ", 1)[1])
    result["rate"] = result["requests"] / result["seconds"]
    result["errors"] = result["bad"] + result["socket"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="整站负载基准：gunicorn + PostgreSQL，多角色并发打开常用页面。")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE),
                        help=f"数据库（默认 {DEFAULT_DATABASE}；在其中新建并最后删除一个模式）")
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--hazards", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, help="每页每种并发的时长（秒，默认 30，--quick 为 10）")
    parser.add_argument("--clients", default="20,50", help="并发连接数，逗号分隔")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn 工作进程数")
    parser.add_argument("--only", help="只测名称含此文字的页面")
    parser.add_argument("--redis", metavar="URL", help="门户使用的 Redis（REDIS_URL，如部署时：统计数字各进程共用），默认不用")
    parser.add_argument("--cold", action="store_true", help="不保留统计数字和台账行（FIGURES_CACHE_SECONDS=0），每次请求都重新计算")
    parser.add_argument("--quick", action="store_true", help="1,000 家企业、20,000 条隐患、每页 10 秒")
    args = parser.parse_args()
    if args.quick:
        args.enterprises, args.hazards = 1_000, 20_000
    args.seconds = args.seconds or (10 if args.quick else 30)
    if shutil.which("wrk") is None:
        raise SystemExit("需要 wrk：apt-get install wrk")
    clients = [int(c) for c in args.clients.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    with fresh_app("load", args.database_url) as (app, label, migrate_s):
        from portal.extensions import db
        ids, populate_s = populate(args.enterprises, args.hazards)
        db.engine.dispose()
        log = workdir / "gunicorn.log"
        portal_port, bare_port = free_port(), free_port()
        servers = []
        try:
            # --cold: nothing kept between requests (portal.cache), every figure and row counted each time.
            servers.append(serve("wsgi:app", portal_port, args.workers, log,
                                 **({"FIGURES_CACHE_SECONDS": "0"} if args.cold else {}),
                                 **({"REDIS_URL": args.redis} if args.redis else {})))
            servers.append(serve("bare_app:app", bare_port, args.workers, log, pythonpath=str(ROOT / "bench")))
            base = f"http://127.0.0.1:{portal_port}"
            users = {u for _, reqs in pages(ids) for u, _, _ in reqs}
            cookies = {u: login(base, u, PASSWORD if u.startswith("bench_") else DEMO_PASSWORD) for u in sorted(users)}
            plan = []
            for name, reqs in pages(ids):
                if args.only and args.only not in name:
                    continue
                requests = [(path, {"User-Agent": USER_AGENT, "Cookie": cookies[user],
                                    **({"HX-Request": "true"} if htmx else {})}) for user, path, htmx in reqs]
                sizes, single = [], []
                for user, path, htmx in reqs:
                    check(base, cookies[user], path, htmx)  # warm: templates compile, caches fill
                    (size, ms) = timed(lambda: check(base, cookies[user], path, htmx))
                    sizes.append(size)
                    single.append(ms * 1000)
                plan.append((name, requests, sum(single) / len(single), sum(sizes) // len(sizes)))

            print(f"数据库：{label}；迁移 {migrate_s:.1f} 秒，演示数据 + 生成数据 {populate_s:.1f} 秒。")
            print(f"生成的区县：{args.enterprises:,} 家企业、{args.hazards:,} 条隐患；gunicorn {args.workers} 个工作进程"
                  f"{'，不保留统计数字（--cold）' if args.cold else '，统计数字和台账行按 portal.cache 保留'}"
                  f"{f'（Redis：{args.redis}）' if args.redis and not args.cold else ''}，"
                  f"wrk 2 线程，每项 {args.seconds} 秒，超时 {WRK_TIMEOUT}。")
            print("单个请求（无并发，各角色平均）：" + "；".join(f"{name} {ms:.0f} ms" for name, _, ms, _ in plan))
            # The machine may be shared: each page is compared to the bare page measured just before it.
            bare_seconds = min(args.seconds, 10)
            for n in clients:
                print(f"\n== {n} 个并发连接 ==（空白页：Flask + Jinja 50 行，在每页之前测 {bare_seconds} 秒）")
                print(f"{'页面':<16}{'页/秒':>8}{'空白页/秒':>10}{'÷空白页':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'错误':>6}")
                for name, requests, _, _ in plan:
                    bare = drive(f"http://127.0.0.1:{bare_port}", [("/", {"User-Agent": USER_AGENT})], n,
                                 bare_seconds, workdir)
                    r = drive(base, requests, n, args.seconds, workdir)
                    print(f"{name:<16}{r['rate']:>9.1f}{bare['rate']:>11.0f}{r['rate'] / bare['rate']:>10.3f}"
                          + "".join(f"{r[p]:>10.1f}" if r["requests"] else f"{'—':>10}" for p in ("p50", "p95", "p99"))
                          + f"{r['errors']:>8}", flush=True)
        finally:
            for server in servers:
                server.terminate()
                server.wait(30)
    print("（错误：非 200 的答复、连接错误和超过 10 秒未答的请求；— 为测量期间没有一个请求完成。）")
    print(f"服务器日志：{log}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    main()
