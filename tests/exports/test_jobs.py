"""Exports run in the background with progress: a thread pool by default, RQ on Redis when set.
A job's state is in the database, so a dead worker's job is handed over again or failed, and a
failed one can be retried."""
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.exports import access, jobs, service
from portal.exports.models import ExportDocument
from portal.extensions import db
from tenants import service as tenants_service
from tenants.models import Membership, Tenant
from tenants.paths import attach
from tenants.clock import now
from tenants.scope import Scope, unscoped
from tests.conftest import PASSWORD, login, post, results_at_once, unique

REDIS_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[2]


def _district_with_admin(app):
    with app.app_context(), unscoped():
        from portal.auth import service as auth
        root = attach(Tenant(kind="national", name=unique("根")), None)
        district = attach(Tenant(kind="district", name="后台区"), attach(Tenant(kind="province", name="某省"), root))
        tenants_service.create_child(district, kind="street", name="后台街道")
        admin = auth.create_user(district, username=unique("bg"), display_name="后台管理员", password=PASSWORD,
                                 role="admin")
        auth.accept_password(admin)
        db.session.commit()
        membership = db.session.execute(select(Membership).where(Membership.user_id == admin.id)).scalar_one()
        ids = district.id, admin, membership.id
        db.session.expunge_all()
        return ids


def _wait_done(client, url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        if "下载 PDF" in html or "生成失败" in html:
            return html
        assert "every 1s" in html and "<progress" in html  # still polling, with a progress bar
        time.sleep(0.2)
    raise AssertionError("export did not finish")


def test_roster_export_runs_in_a_background_thread(committed_app):
    district_id, admin, _ = _district_with_admin(committed_app)
    client = committed_app.test_client()
    login(client, admin)
    r = post(client, f"/tenants/{district_id}/roster")
    assert r.status_code == 303
    html = _wait_done(client, r.headers["Location"])
    assert "下载 PDF" in html
    pdf = client.get(r.headers["Location"] + ".pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_roster_export_runs_on_an_rq_worker(committed_app):
    district_id, admin, membership_id = _district_with_admin(committed_app)
    committed_app.config["REDIS_URL"] = REDIS_URL
    redis = Redis.from_url(REDIS_URL)
    queue = Queue("exports", connection=redis)
    queue.empty()
    try:
        client = committed_app.test_client()
        login(client, admin)
        r = post(client, f"/tenants/{district_id}/roster")
        doc_id = int(r.headers["Location"].rsplit("/", 1)[1])
        assert queue.count == 1
        assert "排队中" in client.get(r.headers["Location"]).get_data(as_text=True)
        jobs._worker_app = committed_app  # the worker process would build its own app
        SimpleWorker([queue], connection=redis).work(burst=True)
        with committed_app.app_context(), unscoped():
            doc = db.session.get(ExportDocument, doc_id)
            assert (doc.status, doc.progress) == ("done", 100) and doc.content.startswith(b"%PDF")
            db.session.remove()
    finally:
        committed_app.config["REDIS_URL"] = None
        jobs._worker_app = None
        queue.empty()


def test_a_failing_export_says_so_in_chinese_and_writes_no_audit_event(session, tree):
    @service.builder("broken", readers=access.ANYONE_IN_SCOPE)
    def broken(tenant, params):
        raise RuntimeError("boom")
    try:
        doc = service.request_export(tree["a"], kind="broken", title="坏的导出")
        session.commit()
        service.run_export(doc.id, Scope.of(tree["a"], "admin"))
        doc = session.get(ExportDocument, doc.id)
        assert doc.status == "failed" and "生成失败" in doc.error and doc.content is None
        events = session.execute(select(AuditEvent).where(AuditEvent.action == "export.created",
                                                          AuditEvent.object_id == doc.id)).all()
        assert events == []
    finally:
        service._builders.pop("broken")
        access.declare("broken", None)


def test_unknown_export_kind_is_refused(session, tree):
    with pytest.raises(service.ExportError, match="未知的导出类型"):
        service.request_export(tree["a"], kind="nope", title="x")


def test_an_unfinished_export_redirects_instead_of_downloading(client, session, tree, make_user):
    admin = make_user(tree["a"])
    doc = service.request_export(tree["a"], kind="roster", title="未完成")
    session.commit()
    login(client, admin)
    r = client.get(f"/exports/{doc.id}.pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/exports/{doc.id}")
    page = client.get(f"/exports/{doc.id}")
    assert "排队中" in page.get_data(as_text=True) and "every 1s" in page.get_data(as_text=True)
    # The page's poll is not the user's activity: it does not refresh the login session's idle
    # timer (no cookie), while the page view does.
    assert "Set-Cookie" in page.headers
    poll = client.get(f"/exports/{doc.id}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "Set-Cookie" not in poll.headers


def _stale_running(session, tree, make_user, *, attempts):
    """A roster job whose worker went silent long ago, as a killed worker leaves it."""
    admin = make_user(tree["a"])
    membership = session.execute(select(Membership).where(Membership.user_id == admin.id)).scalar_one()
    doc = service.request_export(tree["a"], kind="roster", title="甲区花名册")
    doc.status, doc.progress, doc.attempts, doc.membership_id = "running", 30, attempts, membership.id
    doc.heartbeat_at = now() - timedelta(minutes=5)
    session.commit()
    return doc, admin


def test_a_job_whose_worker_died_is_handed_over_again_and_finishes(session, tree, app, make_user):
    doc, _ = _stale_running(session, tree, make_user, attempts=1)
    assert jobs.recover() == {doc.id: "queued"}
    session.refresh(doc)
    # The suite runs jobs inline: the hand-over ran it to the end.
    assert (doc.status, doc.attempts) == ("done", 2) and doc.content.startswith(b"%PDF")
    assert jobs.recover() == {}


def test_after_the_last_attempt_the_job_fails_in_chinese_and_the_user_retries_it(client, session, tree, app,
                                                                                 make_user):
    doc, admin = _stale_running(session, tree, make_user, attempts=app.config["EXPORT_MAX_ATTEMPTS"])
    login(client, admin)
    # The waiting page itself finds the dead worker: never 生成中 forever, and the poll stops.
    html = client.get(f"/exports/{doc.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "生成进程多次中断（共尝试 3 次）" in html and "every 1s" not in html and "重新生成" in html
    session.refresh(doc)
    assert doc.status == "failed"
    r = post(client, f"/exports/{doc.id}/retry")
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "下载 PDF" in html and "every 1s" not in html
    session.refresh(doc)
    assert (doc.status, doc.attempts) == ("done", 1)


def _worker_env(app, queue_name):
    """The environment an operator gives `rq worker`: the app's database and Redis."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options")
    if options:  # PostgreSQL: the test's own schema
        url += ("&" if "?" in url else "?") + "options=" + urllib.parse.quote(options)
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "RQ_QUEUE": queue_name,
            "EXPORT_HEARTBEAT_SECONDS": "0.5", "PYTHONPATH": str(ROOT)}


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _start_worker(env, queue_name, log):
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "rq"), "worker", queue_name, "--url", REDIS_URL],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


class _Answer:
    def __init__(self, status, headers, data):
        self.status_code, self.headers, self.data = status, headers, data

    def get_data(self, as_text=False):
        return self.data.decode() if as_text else self.data


class _Browser:
    """A client of a real server over HTTP, keeping its cookies (the Flask test client's calls)."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())
        self.token = None

    def open(self, method, path, data=None, headers=None):
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=120) as r:
                answer = _Answer(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            answer = _Answer(e.code, e.headers, e.read())
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"',
                          answer.get_data(as_text=True)) if answer.headers.get_content_type() == "text/html" else None
        if found:
            self.token = found.group(1) or found.group(2)
        return answer

    def get(self, path, headers=None):
        return self.open("GET", path, headers=headers)

    def post(self, path, data):
        return self.open("POST", path, data)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_rq_worker_killed_mid_job_is_replaced_and_the_pdf_is_still_produced(committed_app, tmp_path):
    """The issue's acceptance run: gunicorn with two workers and an RQ worker on the test's
    database and the machine's Redis; the RQ worker dies in the middle of a PDF, another starts,
    and the user still gets the PDF from the same progress page."""
    district_id, admin, _ = _district_with_admin(committed_app)
    with committed_app.app_context(), unscoped():
        # A roster long enough (400 units) that the worker is killed during layout.
        district = db.session.get(Tenant, district_id)
        for i in range(400):
            attach(Tenant(kind="street", name=f"长名册街道{i:04d}"), district)
        db.session.commit()
        db.session.remove()
    queue_name = f"exports-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = {**_worker_env(committed_app, queue_name), "EXPORT_STALE_SECONDS": "3", "SECRET_KEY": uuid.uuid4().hex}
    port = _free_port()
    log = open(tmp_path / "servers.log", "w")
    web = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
                           cwd=ROOT, env={**env, "BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "2",
                                                 "SECURE_COOKIES": "0"},  # plain HTTP on loopback
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    first = _start_worker(env, queue_name, log)
    second = None
    try:
        browser = _Browser(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        while True:
            try:
                if browser.get("/readyz").status_code == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.5)
        browser.get("/login")
        assert browser.post("/login", {"username": admin.username, "password": PASSWORD}).status_code == 302
        browser.get("/")
        r = browser.post(f"/tenants/{district_id}/roster", {})
        assert r.status_code == 303
        page = urllib.parse.urlsplit(r.headers["Location"]).path
        doc_id = int(page.rsplit("/", 1)[1])

        def state():
            with committed_app.app_context(), unscoped():
                doc = db.session.get(ExportDocument, doc_id)
                try:
                    return doc.status, doc.progress, doc.attempts
                finally:
                    db.session.remove()

        deadline = time.monotonic() + 180
        while state()[:2] != ("running", 30):
            assert time.monotonic() < deadline and state()[0] != "done", state()
            time.sleep(0.1)
        # The worker and the work horse it forked for the job (in a session of its own), as when
        # the host dies or systemd kills the unit's control group.
        for pid in [first.pid, *_children(first.pid)]:
            os.kill(pid, signal.SIGKILL)
        first.wait()
        killed = time.monotonic()
        second = _start_worker(env, queue_name, log)
        html = _wait_done(browser, page, seconds=240)
        recovery = time.monotonic() - killed
        assert "下载 PDF" in html, html
        assert state() == ("done", 100, 2)
        pdf = browser.get(page + ".pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        print(f"job recovered and finished {recovery:.1f} s after its worker was killed")
    finally:
        for process in (web, first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
        log.close()
        Queue(queue_name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


def test_two_recoverers_at_once_hand_a_dead_job_over_once(committed_app):
    """The progress page and the scheduler (or two hosts' schedulers) may find the same dead job
    together: it is queued again once, counted once."""
    district_id, _, membership_id = _district_with_admin(committed_app)
    queue_name = f"exports-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    committed_app.config.update(REDIS_URL=REDIS_URL, EXPORTS_QUEUE=queue_name)
    queue = Queue(queue_name, connection=Redis.from_url(REDIS_URL))
    try:
        with committed_app.app_context(), unscoped():
            doc = service.request_export(db.session.get(Tenant, district_id), kind="roster", title="无人生成")
            doc.status, doc.attempts, doc.membership_id = "running", 1, membership_id
            doc.heartbeat_at = now() - timedelta(minutes=5)
            db.session.commit()
            doc_id = doc.id
            db.session.remove()
        outcomes = results_at_once(committed_app, jobs.recover)
        assert sorted(outcomes, key=len) == [{}, {doc_id: "queued"}]
        assert queue.count == 1
        with committed_app.app_context(), unscoped():
            doc = db.session.get(ExportDocument, doc_id)
            assert (doc.status, doc.attempts) == ("queued", 2)
            db.session.remove()
    finally:
        committed_app.config.update(REDIS_URL=None, EXPORTS_QUEUE="exports")
        queue.delete(delete_jobs=True)
