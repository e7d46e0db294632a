"""What a production server needs around the app: the reverse proxy's headers believed for the
configured number of hops (TRUSTED_PROXIES), liveness and readiness checks, Prometheus metrics,
and one JSON log line per request carrying its request id.

Metrics and several processes: gunicorn workers and RQ work horses are separate processes. With
PROMETHEUS_MULTIPROC_DIR set (an empty directory, the same for the web app and the workers of one
host; gunicorn.conf.py marks dead workers) /metrics adds up every process's counters; without it
each scrape sees one worker's. Queue depth and the scheduler's runs are read from the database
and Redis at scrape time, so they are right on any host and in any mode.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select, text
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.extensions import csrf, db
from tenants.scope import unscoped

bp = Blueprint("serving", __name__)
access_log = logging.getLogger("portal.access")

REQUEST_SECONDS = Histogram("portal_request_seconds", "Time to answer a request, by endpoint",
                            ["endpoint", "method"])
EXPORT_JOB_SECONDS = Histogram("portal_export_job_seconds", "Time an export job took on its worker",
                               ["kind", "result"], buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800))
# An id a proxy may hand us: short and printable, so it cannot forge a log line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def queue_depth() -> dict:
    """Export jobs waiting and running (the database is the truth), and waiting in Redis."""
    from portal.exports.models import ExportDocument
    with unscoped():
        by_status = dict(db.session.execute(select(ExportDocument.status, func.count()).where(
            ExportDocument.status.in_(("queued", "running"))).group_by(ExportDocument.status)).all())
    depth = {"queued": by_status.get("queued", 0), "running": by_status.get("running", 0)}
    if current_app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue
        depth["redis"] = Queue(current_app.config["EXPORTS_QUEUE"],
                               connection=Redis.from_url(current_app.config["REDIS_URL"])).count
    return depth


class _StateCollector:
    """Read at scrape time: queue depth and each scheduled job's last run."""

    def collect(self):
        from portal.schedule.models import ScheduleRun
        depth = GaugeMetricFamily("portal_export_queue_depth", "Export jobs by state", labels=["state"])
        for state, count in queue_depth().items():
            depth.add_metric([state], count)
        yield depth
        seconds = GaugeMetricFamily("portal_schedule_last_run_seconds", "Duration of each job's last run",
                                    labels=["job", "result"])
        finished = GaugeMetricFamily("portal_schedule_last_run_timestamp", "When each job's last run ended",
                                     labels=["job", "result"])
        latest = select(ScheduleRun.job, func.max(ScheduleRun.id).label("id")).where(
            ScheduleRun.finished_at.is_not(None)).group_by(ScheduleRun.job).subquery()
        for run in db.session.execute(select(ScheduleRun).join(latest, ScheduleRun.id == latest.c.id)).scalars():
            seconds.add_metric([run.job, run.result], run.seconds or 0)
            finished.add_metric([run.job, run.result], run.finished_at.timestamp())
        yield seconds
        yield finished


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. No database, so a database outage restarts nothing."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Readiness: the database and Redis answer; the export queue's depth for the load balancer
    and the operator."""
    checks, ready = {}, True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["queue"] = queue_depth()
        checks["redis"] = "ok" if current_app.config.get("REDIS_URL") else "未配置（导出在网站进程内运行）"
    except Exception as e:  # what failed is the answer; the probe must not crash on it
        db.session.rollback()
        ready = False
        checks["error"] = f"{type(e).__name__}: {e}"[:300]
    return {"status": "ok" if ready else "unavailable", **checks}, 200 if ready else 503


@bp.get("/metrics")
def metrics():
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        process = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY
        process = generate_latest(REGISTRY)
    state = CollectorRegistry()
    state.register(_StateCollector())
    return Response(process + generate_latest(state), mimetype="text/plain; version=0.0.4")


def _proxy_fix(app) -> None:
    plain = app.wsgi_app
    fixes: dict[int, ProxyFix] = {}

    # The hop count is read per request, not frozen at start-up, so one app object serves either
    # setting (the tests switch it without building a second app on the same database).
    def wsgi_app(environ, start_response):
        hops = app.config["TRUSTED_PROXIES"]
        if not hops:
            return plain(environ, start_response)
        if hops not in fixes:
            fixes[hops] = ProxyFix(plain, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        return fixes[hops](environ, start_response)

    app.wsgi_app = wsgi_app


def _request_log(app) -> None:
    if not access_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False

    @app.before_request
    def start():
        g.request_started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def finish(response):
        if "request_started" not in g:  # a request that failed before ours began
            return response
        seconds = time.perf_counter() - g.request_started
        endpoint = request.url_rule.endpoint if request.url_rule else "(no route)"
        REQUEST_SECONDS.labels(endpoint, request.method).observe(seconds)
        response.headers["X-Request-ID"] = g.request_id
        membership = g.get("membership")
        access_log.info(json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "request_id": g.request_id,
            "method": request.method, "path": request.path, "endpoint": endpoint,
            "status": response.status_code, "ms": round(seconds * 1000, 1), "client": request.remote_addr,
            "user_id": membership.user_id if membership is not None else None,
            "tenant_id": membership.tenant_id if membership is not None else None,
        }, ensure_ascii=False))
        return response


def init_app(app) -> None:
    _proxy_fix(app)
    _request_log(app)
    csrf.exempt(bp)
    app.register_blueprint(bp)
