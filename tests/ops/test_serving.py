"""Liveness and readiness, Prometheus metrics, and one JSON log line per request with its id."""
import json
import logging

from portal.exports import service as exports
from portal.schedule import service as schedule
from portal.serving import access_log
from tests.conftest import login
from tests.schedule.test_schedule import AT

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_readyz_reports_the_database_redis_and_the_queue(client, session, tree, app, monkeypatch):
    exports.request_export(tree["a"], kind="roster", title="排队中")
    session.commit()
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["database"] == "ok" and r.json["queue"]["queued"] >= 1
    assert "未配置" in r.json["redis"]
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "EXPORTS_QUEUE", "exports-readyz-test")
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["redis"] == "ok" and r.json["queue"]["redis"] == 0
    # Redis down: not ready (the load balancer stops sending), while the process is alive.
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json["status"] == "unavailable" and "Connection" in r.json["error"]
    assert client.get("/healthz").status_code == 200


def test_metrics_show_request_latency_by_endpoint_queue_depth_and_scheduler_runs(client, session, tree):
    exports.request_export(tree["a"], kind="roster", title="排队中")
    session.commit()
    schedule.run_due(AT)
    client.get("/login")
    body = client.get("/metrics").get_data(as_text=True)
    assert 'portal_request_seconds_count{endpoint="auth.login",method="GET"}' in body
    assert 'portal_export_queue_depth{state="queued"}' in body
    assert 'portal_schedule_last_run_seconds{job="dispatch-rollup",result="ok"}' in body


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(record.getMessage()))


def test_each_request_logs_one_json_line_with_its_request_id(client, session, tree, make_user):
    lines = _Lines()
    access_log.addHandler(lines)
    try:
        admin = make_user(tree["a"])
        login(client, admin)
        r = client.get("/", headers={"X-Request-ID": "nginx-4f2a9c"})
        assert r.headers["X-Request-ID"] == "nginx-4f2a9c"
        line = lines.lines[-1]
        assert line["request_id"] == "nginx-4f2a9c" and line["endpoint"] == "home.index" and line["status"] == 200
        assert line["user_id"] == admin.id and line["tenant_id"] == tree["a"].id and line["ms"] >= 0
        # An id that could forge a log line is replaced by one of ours.
        r = client.get("/", headers={"X-Request-ID": "x\" injected"})
        assert r.headers["X-Request-ID"] != "x\" injected" and len(r.headers["X-Request-ID"]) == 32
        assert len(lines.lines) == 4  # login page, login, two pages: one line each
    finally:
        access_log.removeHandler(lines)
