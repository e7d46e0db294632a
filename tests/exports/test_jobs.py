"""Exports run in the background with progress: a thread pool by default, RQ on Redis when set."""
import time

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
from tenants.scope import Scope, unscoped
from tests.conftest import PASSWORD, login, post, unique

REDIS_URL = "redis://127.0.0.1:6379/15"


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
    assert "排队中" in client.get(f"/exports/{doc.id}").get_data(as_text=True)
