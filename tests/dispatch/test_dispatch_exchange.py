"""Reporting up between platforms, with two app instances on two databases (two SQLite files, or
two PostgreSQL schemas) and the national one behind a real HTTP server: 天津市's platform sends
the table its leader approved; the national table counts it as if typed there, once however often
it arrives; a parent that is down is tried again later, and after the last attempt the province is
told; the parent refuses an unknown node or table, a token of another node and a changed table."""
import re
import socket
from types import SimpleNamespace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.api import service as api
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.dispatch import exchange, service
from portal.dispatch.models import DispatchReceipt, ReportDefinition, ReportSubmission, UpwardReport
from portal.extensions import db
from portal.plans.models import Notification
from portal.schedule import service as schedule
from tenants import clock
from tenants.models import Tenant
from tenants.scope import unscoped
from tests.conftest import (IsolatedClient, audited, fresh_app, login, post, race, refused, results_at_once,
                            serving)
from tests.dispatch.conftest import HEBEI_PROVINCE, TIANJIN, build_platform

STUDY = "lead.study_sessions"


@pytest.fixture
def platforms(committed_app):
    """天津市's platform (this test's committed database) and the national one (a database of its
    own), each as `setup init` and the admins leave it."""
    with fresh_app("national") as national:
        yield committed_app, build_platform(committed_app, national=False), national, \
            build_platform(national, national=True)


def _free_port() -> int:
    """A port nobody listens on (the parent, down), where it can be started later (back up)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connect(app, port: int, secret: str) -> None:
    """What the province's operator puts in /etc/anquan-portal/env."""
    app.config.update(PARENT_PLATFORM_URL=f"http://127.0.0.1:{port}", PARENT_PLATFORM_TOKEN=secret)


def _loaded(platform):
    definition = db.session.get(ReportDefinition, platform["definition_id"])
    return definition, service.parse_period(definition, platform["period"])


def _member(username):
    return db.session.execute(select(User).where(User.username == username)).scalar_one().memberships[0]


def _submit(app, p, study="3") -> int:
    """天津市's staff types its own figure and submits last month's national table."""
    with app.app_context(), unscoped():
        definition, period = _loaded(p)
        province, staff = db.session.get(Tenant, p["province_id"]), _member(p["accounts"]["staff"])
        service.save_manual(definition, province, period, {STUDY: study}, actor=staff)
        sub = service.submit(definition, province, period, staff)
        db.session.commit()
        return sub.id


def _approve(app, p, study="3") -> int:
    """Submitted, then approved by 天津市's leader (the level above works on the parent platform)."""
    sub_id = _submit(app, p, study)
    with app.app_context(), unscoped():
        service.approve(db.session.get(ReportSubmission, sub_id), _member(p["accounts"]["leader"]))
        db.session.commit()
        return service.upward_report(db.session.get(ReportSubmission, sub_id)).id


def _national_figures(app, n):
    with app.app_context(), unscoped():
        definition, period = _loaded(n)
        return service.table(definition, db.session.get(Tenant, n["root_id"]), period)


def _page(client, p) -> str:
    return client.get(f"/dispatch/{p['definition_id']}/units/{p['province_id']}?period={p['period']}") \
        .get_data(as_text=True)


def _client(app, username):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login(client, SimpleNamespace(username=username))
    return client


def test_a_province_table_goes_up_and_the_national_table_counts_it_once(platforms):
    province_app, p, national_app, n = platforms
    port = _free_port()
    _connect(province_app, port, n["secret"])
    report_id = _approve(province_app, p)
    with serving(national_app, port), province_app.app_context(), unscoped():
        assert exchange.deliver() == (1, 0)
        report = db.session.get(UpwardReport, report_id)
        assert (report.status, report.attempts, report.next_attempt_at) == ("sent", 1, None)
        body = exchange.payload(report)
        assert body["division"] == TIANJIN and body["table"] == service.NATIONAL_UID
        # The answer lost on its way back, the same table is sent again: recorded once.
        again = exchange.post(body)
        assert again["duplicate"] is True and again["digest"] == body["digest"]
        assert exchange.deliver(clock.now() + timedelta(days=1)) == (0, 0)
        assert list(db.session.execute(select(AuditEvent.action).where(
            AuditEvent.object_type == "UpwardReport").order_by(AuditEvent.id)).scalars()) == [
            "dispatch.upward_queued", "dispatch.upward_sent"]
        province_figures = service.thawed(report.submission.figures)

    figures = _national_figures(national_app, n)
    assert figures.total["hazards.self_found"] == province_figures.total["hazards.self_found"] == 1
    assert figures.total[STUDY] == 3 and figures.get(STUDY, "province") == 3
    with national_app.app_context(), unscoped():
        definition, period = _loaded(n)
        root, province = db.session.get(Tenant, n["root_id"]), db.session.get(Tenant, n["province_id"])
        (sub,) = db.session.execute(select(ReportSubmission).where(ReportSubmission.tenant_id == province.id)).scalars()
        receipt = db.session.execute(select(DispatchReceipt)).scalar_one()
        assert (sub.status, sub.period_end.isoformat(), sub.figures["total"]) == ("approved", n["period"],
                                                                                   body["figures"]["total"])
        assert (receipt.approved_by, receipt.digest, receipt.key) == ("副省长（分管安全生产）", body["digest"], body["key"])
        board = {row.unit.code: row.state for row in service.board(definition, root, period)}
        assert board[TIANJIN] == "submitted" and board[HEBEI_PROVINCE] != "submitted"
        # The parent audits the record once, and each of the two calls.
        assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "dispatch.received")).scalar() == 1
        assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "api.called", AuditEvent.tenant_id == province.id)).scalar() == 2
    # The national admin's page shows the province's figures.
    client = _client(national_app, n["accounts"]["admin"])
    page = client.get(f"/dispatch/{n['definition_id']}/units/{n['root_id']}?period={n['period']}")
    text = page.get_data(as_text=True)
    assert re.search(r'data-code="hazards.self_found"[^>]*>1<', text) and re.search(rf'data-code="{STUDY}"[^>]*>3<', text)
    # 天津市's own table there says where it came from, who approved it and its digest.
    text = client.get(f"/dispatch/{n['definition_id']}/units/{n['province_id']}?period={n['period']}") \
        .get_data(as_text=True)
    assert "由天津市的平台上报" in text and "审核人 副省长（分管安全生产）" in text and body["digest"] in text
    # A national figure's drill-down says whose records are kept on their own platform.
    text = client.get(f"/dispatch/{n['definition_id']}/units/{n['root_id']}/rows/hazards.self_found"
                      f"?period={n['period']}").get_data(as_text=True)
    assert "其中天津市的数字由其平台上报，记录保存在其平台上" in text


def test_a_parent_down_is_tried_again_later_by_the_scheduler_and_counted_once(platforms):
    province_app, p, national_app, n = platforms
    port = _free_port()
    _connect(province_app, port, n["secret"])
    sub_id = _submit(province_app, p)
    leader = _client(province_app, p["accounts"]["leader"])
    page = _page(leader, p)
    assert "本表报送上级平台，须经本单位领导审核通过后上报" in page and "审核通过并报上级平台" in page
    # Approved on the page while the parent is down: the page says when it is tried again.
    assert post(leader, f"/dispatch/submissions/{sub_id}/approve").status_code == 303
    page = _page(leader, p)
    with province_app.app_context(), unscoped():
        report = service.upward_report(db.session.get(ReportSubmission, sub_id))
        assert (report.status, report.attempts) == ("failed", 1)
        assert report.error == "无法连接上级平台：连接被拒绝，上级平台可能未在运行"
        assert report.next_attempt_at == report.last_attempt_at + exchange.BACKOFF[0]
        due = report.next_attempt_at
    assert f"失败，将于 {clock.local(due)} 重试" in page and "无法连接上级平台" in page
    with province_app.app_context(), unscoped():
        assert exchange.deliver(due - timedelta(seconds=1)) == (0, 0)  # not before its time
    with serving(national_app, port):
        with province_app.app_context():
            runs = {run.job: run.summary for run in schedule.run_due(due)}
        assert runs["dispatch-upward"] == "向上级平台上报调度表：成功 1，失败 0（失败的按间隔重试）"
        with province_app.app_context():
            runs = {run.job: run.summary for run in schedule.run_due(due + timedelta(hours=1))}
        assert runs["dispatch-upward"].startswith("向上级平台上报调度表：成功 0，失败 0")
    assert '<span class="badge " id="upward-status">已上报</span>' in _page(leader, p)
    assert _national_figures(national_app, n).total[STUDY] == 3
    with national_app.app_context(), unscoped():
        assert db.session.execute(select(func.count()).select_from(ReportSubmission)).scalar() == 1


def test_after_the_last_attempt_the_province_is_told_and_its_admin_sends_it_again(platforms):
    province_app, p, national_app, n = platforms
    port = _free_port()
    _connect(province_app, port, n["secret"])
    report_id = _approve(province_app, p)
    with province_app.app_context(), unscoped():
        at = clock.now()
        for attempt in range(1, exchange.MAX_ATTEMPTS + 1):
            assert exchange.deliver(at) == (0, 1)
            report = db.session.get(UpwardReport, report_id)
            assert report.attempts == attempt
            at = report.next_attempt_at or at
        assert (report.status, report.next_attempt_at) == ("failed", None)
        assert exchange.deliver(at + timedelta(days=2)) == (0, 0)  # no more by itself
        (told,) = db.session.execute(select(Notification).where(Notification.tenant_id == p["province_id"])).scalars()
        assert told.kind == "alert" and "向上级平台上报失败，已停止自动重试" in told.text
    leader = _client(province_app, p["accounts"]["leader"])
    assert "已停止自动重试，请处理后重新上报" in _page(leader, p)
    # A token of another province: the parent refuses, and nothing is tried again by itself.
    with serving(national_app, port):
        _connect(province_app, port, n["other_secret"])
        r = post(leader, f"/dispatch/submissions/{_sub_of(province_app, report_id)}/upward/retry")
        assert r.status_code == 303
        page = _page(leader, p)
        assert f"上级平台拒收（404）：区划代码“{TIANJIN}”不是本令牌所属单位或其下级单位。" in page
        # With 天津市's own token the admin's 重新上报 takes it up.
        _connect(province_app, port, n["secret"])
        assert post(leader, f"/dispatch/submissions/{_sub_of(province_app, report_id)}/upward/retry").status_code == 303
        assert '<span class="badge " id="upward-status">已上报</span>' in _page(leader, p)
    assert _national_figures(national_app, n).total["hazards.self_found"] == 1


def _sub_of(app, report_id):
    with app.app_context(), unscoped():
        return db.session.get(UpwardReport, report_id).submission_id


def _body(n, **changes):
    figures = {"total": {"hazards.self_found": "2", STUDY: "4"}, "by_level": {"province": {STUDY: "4"}},
               "manual": {"total": {STUDY: "4"}, "by_level": {"province": {STUDY: "4"}}}}
    body = {"key": "k-" + "1" * 30, "division": TIANJIN, "table": service.NATIONAL_UID, "period_end": n["period"],
            "figures": figures, "approved_by": "省领导", **changes}
    body.setdefault("digest", exchange.digest(body["division"], body["table"], body["period_end"], body["figures"]))
    return body


def _send(client, secret, body):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.post("/api/v1/dispatch/submissions", json=body, headers=headers)


def test_the_parent_refuses_unknown_nodes_and_tables_other_tokens_and_changed_figures(committed_app):
    n = build_platform(committed_app, national=True)
    committed_app.test_client_class = IsolatedClient
    client = committed_app.test_client()
    refused = [
        (None, _body(n), 401, "缺少或无效的接口令牌"),
        (n["secret"], _body(n, division="999999"), 404, "区划代码“999999”不是本令牌所属单位或其下级单位。"),
        (n["other_secret"], _body(n), 404, f"区划代码“{TIANJIN}”不是本令牌所属单位或其下级单位。"),
        (n["secret"], _body(n, table="no-such-table"), 404, "本平台没有标识为“no-such-table”的调度表。"),
        (n["secret"], _body(n, digest="0" * 64), 422, "摘要（digest）与上报内容不符"),
        (n["secret"], _body(n, period_end="2024-05-15"), 422, ""),
        (n["secret"], _body(n, figures={"total": {}}), 400, "figures 须含"),
        (n["secret"], _body(n, figures={"total": {"hazards.made_up": "1"}, "by_level": {},
                                        "manual": {"total": {}, "by_level": {}}}), 422, "hazards.made_up"),
        (n["secret"], {"key": "x" * 10}, 400, "division"),
    ]
    for secret, body, status, message in refused:
        r = _send(client, secret, body)
        assert r.status_code == status and r.is_json and message in r.json["error"]["message"], (body, r.json)
    with committed_app.app_context(), unscoped():
        assert db.session.execute(select(func.count()).select_from(ReportSubmission)).scalar() == 0
    r = _send(client, n["secret"], _body(n))
    assert r.status_code == 201 and r.json["duplicate"] is False and r.json["division"] == TIANJIN
    assert _send(client, n["secret"], _body(n)).json["duplicate"] is True
    # Another table for a period already recorded is refused, not added.
    r = _send(client, n["secret"], _body(n, key="k-" + "2" * 30))
    assert r.status_code == 409 and "已经上报过" in r.json["error"]["message"]
    # A token of the level above (the national office's own) may send for a province below it.
    with committed_app.app_context(), unscoped():
        root = db.session.get(Tenant, n["root_id"])
        secret = api.create(root, _member(n["accounts"]["admin"]), name="国家平台内部", role="staff")[1]
        db.session.commit()
    r = _send(client, secret, _body(n, key="k-" + "3" * 30, division=HEBEI_PROVINCE))
    assert r.status_code == 201, r.json
    assert _national_figures(committed_app, n).total["hazards.self_found"] == 4


def test_the_same_table_sent_twice_at_once_is_recorded_once(committed_app):
    n = build_platform(committed_app, national=True)
    body = _body(n)

    def send():
        committed_app.test_client_class = IsolatedClient
        return _send(committed_app.test_client(), n["secret"], body).status_code

    assert sorted(results_at_once(committed_app, send)) == [200, 201]
    with committed_app.app_context(), unscoped():
        assert db.session.execute(select(func.count()).select_from(DispatchReceipt)).scalar() == 1
        assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "dispatch.received")).scalar() == 1
    assert _national_figures(committed_app, n).total[STUDY] == 4


def test_two_admins_and_two_schedulers_at_once_send_it_once(platforms):
    """重新上报 pressed by two admins at once starts the attempts over once; two schedulers finding it
    due at once (two hosts) send it once: each claims it by compare-and-set before it goes."""
    province_app, p, national_app, n = platforms
    port = _free_port()
    _connect(province_app, port, n["secret"])
    report_id = _approve(province_app, p)
    with province_app.app_context(), unscoped():
        assert exchange.deliver() == (0, 1)  # the parent is down
        report, leader = db.session.get(UpwardReport, report_id), _member(p["accounts"]["leader"])
        outcomes = race((exchange.retry, report, leader), (exchange.retry, report, leader))
        # Whichever came second is told the report is 待上报 again (on SQLite, whose writers queue,
        # it reads that state; on PostgreSQL its compare-and-set finds it changed).
        (message,) = refused(outcomes)
        assert "当前为“待上报”" in message
        assert audited(report, "dispatch.upward_retried") == ["dispatch.upward_retried"]
        db.session.remove()

    def deliver():
        with unscoped():
            return exchange.deliver()

    with serving(national_app, port):
        assert sorted(results_at_once(province_app, deliver)) == [(0, 0), (1, 0)]
    with national_app.app_context(), unscoped():
        assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "api.called")).scalar() == 1
        assert db.session.execute(select(func.count()).select_from(ReportSubmission)).scalar() == 1


def test_a_tables_identifier_is_kept_by_its_versions_and_shown_to_its_admin(client, session, tree, campaign,
                                                                           make_user):
    weekly = service.create_definition(tree["a"], campaign, name="甲区周报", layout=service.HEBEI_LAYOUT,
                                       period="week", due_day=1)
    other = service.create_definition(tree["b"], campaign, name="乙区周报", layout=service.HEBEI_LAYOUT,
                                      period="week", due_day=1)
    assert weekly.uid != other.uid and len(weekly.uid) == 32
    period = service.period_of(weekly, campaign.starts_on)
    service.submit(weekly, tree["a_dept"], period, make_user(tree["a_dept"], role="staff").memberships[0])
    admin = make_user(tree["a"], role="admin")
    spec = service.spec_of(weekly)
    spec.period, spec.due_day = "week", 5
    changed = service.change_definition(weekly, spec, admin.memberships[0])
    assert (changed.version, changed.uid) == (2, weekly.uid)
    login(client, admin)
    page = client.get(f"/dispatch/definitions/{changed.id}/edit").get_data(as_text=True)
    assert f'<code id="table-uid">{weekly.uid}</code>' in page
