"""Where export jobs run, and how their state stays true when a worker dies.

RQ workers when REDIS_URL is set (production: `rq worker exports --url $REDIS_URL`), otherwise a
small thread pool in the web process (an embedded install has no Redis). EXPORTS_INLINE runs them
inside the request. A heavy job without Redis runs in a process of its own, so the memory layout
takes is returned to the system when it ends.

A job's whole state is its export_documents row. Handing it to a worker counts an attempt and
stamps `heartbeat_at`; the worker claims it (queued → running) and stamps `heartbeat_at` every
EXPORT_HEARTBEAT_SECONDS while it works. A running job silent for EXPORT_STALE_SECONDS lost its
worker (killed, host restarted), and a queued one nobody took within EXPORT_QUEUED_SECONDS was lost
with the web process that held it: `recover` hands either to a worker again, up to
EXPORT_MAX_ATTEMPTS, then fails it with a message in Chinese. The progress page recovers the job it
shows; the scheduler recovers the rest.
"""
from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from portal.database import compare_and_set, mark_read_only, reset_read_only
from portal.errors import Refused
from portal.exports import service
from portal.exports.models import ExportDocument
from portal.extensions import db
from tenants.clock import now
from tenants.models import Membership
from tenants.scope import Scope, unscoped

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="export")
_worker_app = None
GAVE_UP = "生成进程多次中断（共尝试 {attempts} 次），文件未能生成。请点击“重新生成”；如仍失败，请联系管理员。"


def _scope_of(membership_id: int) -> Scope:
    with unscoped():
        m = db.session.execute(select(Membership).where(Membership.id == membership_id)).scalar_one()
        return Scope.of(m.tenant, m.role)


def run(doc_id: int, membership_id: int) -> None:
    """Run one export as the member who asked for it (inside an app context)."""
    service.run_export(doc_id, _scope_of(membership_id))


def _claim(doc_id: int) -> bool:
    """queued → running, by exactly one worker: a job handed over twice (a recovery racing a slow
    worker) runs once."""
    with unscoped():
        doc = db.session.get(ExportDocument, doc_id)
        if doc is None or doc.status != "queued":
            return False
        try:
            compare_and_set(doc, "status", "", status="running", heartbeat_at=now())
        except Refused:
            db.session.rollback()
            return False
    db.session.commit()
    return True


@contextmanager
def _heartbeat(app, doc_id: int):
    """Stamp the job alive from a thread of its own: layout of a long PDF commits nothing for
    minutes, and silence is what tells a dead worker from a busy one."""
    stop = threading.Event()

    def beat():
        with app.app_context():
            try:
                while not stop.wait(app.config["EXPORT_HEARTBEAT_SECONDS"]):
                    try:
                        with unscoped():
                            db.session.execute(update(ExportDocument).where(
                                ExportDocument.id == doc_id, ExportDocument.status == "running")
                                .values(heartbeat_at=now()).execution_options(synchronize_session=False))
                        db.session.commit()
                    except Exception:  # a missed beat is retried; the job itself goes on
                        app.logger.exception("export %s heartbeat failed", doc_id)
                        db.session.rollback()
            finally:
                db.session.remove()

    thread = threading.Thread(target=beat, name=f"export-heartbeat-{doc_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _run_in(app, doc_id: int, membership_id: int) -> None:
    from portal.serving import EXPORT_JOB_SECONDS
    with app.app_context():
        try:
            if _claim(doc_id):
                started = time.perf_counter()
                with _heartbeat(app, doc_id):
                    run(doc_id, membership_id)
                with unscoped():
                    doc = db.session.get(ExportDocument, doc_id)
                    EXPORT_JOB_SECONDS.labels(doc.kind, doc.status).observe(time.perf_counter() - started)
        finally:
            db.session.remove()


def run_job(doc_id: int, membership_id: int) -> None:
    """RQ entry point: `rq worker exports --url $REDIS_URL` imports and calls this."""
    global _worker_app
    if _worker_app is None:
        from portal import create_app
        _worker_app = create_app()
    _run_in(_worker_app, doc_id, membership_id)


def _process_main(config: dict, doc_id: int, membership_id: int) -> None:
    from portal import create_app
    _run_in(create_app(config), doc_id, membership_id)


def _run_in_process(app, doc_id: int, membership_id: int) -> None:
    # "spawn": a fresh interpreter, not a fork of a threaded server; it is given the database the
    # web process uses (tests point it at a schema of their own).
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS")}
    process = multiprocessing.get_context("spawn").Process(
        target=_process_main, args=(config, doc_id, membership_id), name=f"export-{doc_id}")
    process.start()
    process.join()
    if process.exitcode != 0:
        # Killed (out of memory, most likely): the next attempt or a final failure, at once
        # rather than after the heartbeat goes stale.
        with app.app_context():
            try:
                with unscoped():
                    # Stale from this moment on: nobody is running it any more.
                    _requeue_or_fail(app, doc_id, now() + timedelta(seconds=app.config["EXPORT_QUEUED_SECONDS"]))
            finally:
                db.session.remove()


def _dispatch(app, doc: ExportDocument) -> None:
    """Give a queued job to a worker; the caller has committed its row."""
    doc_id, membership_id = doc.id, doc.membership_id
    if app.config.get("EXPORTS_INLINE"):
        run(doc_id, membership_id)
    elif app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue
        queue = Queue(app.config["EXPORTS_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))
        queue.enqueue(run_job, doc_id, membership_id, job_timeout=1800)
    elif doc.heavy:
        # A pool thread waits for the process, so at most two run at once and none is left a zombie.
        _pool.submit(_run_in_process, app, doc_id, membership_id)
    else:
        _pool.submit(_run_in, app, doc_id, membership_id)


def submit(doc_id: int, membership_id: int, heavy: bool = False):
    """Start the export after the request has committed its queued row. `heavy` jobs get a
    process of their own when there is no RQ worker."""
    app = current_app._get_current_object()
    with unscoped():
        doc = db.session.get(ExportDocument, doc_id)
        doc.membership_id, doc.heavy = membership_id, heavy
        doc.attempts, doc.heartbeat_at = doc.attempts + 1, now()
    db.session.commit()
    _dispatch(app, doc)


def retry(doc: ExportDocument, membership_id: int) -> None:
    """A failed export, made again from the start (the caller commits nothing: this commits and
    hands the job over). It runs as the member who first asked, so it is the same document."""
    if doc.status != "failed":
        raise Refused("只有生成失败的导出可以重新生成。")
    with unscoped():
        compare_and_set(doc, "status", "该导出已在重新生成，请勿重复提交。", status="queued", progress=0,
                        error=None, attempts=1, heartbeat_at=now(),
                        membership_id=doc.membership_id or membership_id)
    db.session.commit()
    _dispatch(current_app._get_current_object(), doc)


def _stale(app, at):
    """Jobs whose worker is gone: running and silent, or queued and never taken."""
    seen = func.coalesce(ExportDocument.heartbeat_at, ExportDocument.created_at)
    return or_(
        and_(ExportDocument.status == "running",
             seen < at - timedelta(seconds=app.config["EXPORT_STALE_SECONDS"])),
        and_(ExportDocument.status == "queued",
             seen < at - timedelta(seconds=app.config["EXPORT_QUEUED_SECONDS"])))


def _requeue_or_fail(app, doc_id: int, at) -> str | None:
    """Hand a job that is still stale at `at` over again, or fail it after the last attempt. The
    row is read with the staleness test and written only while its heartbeat is the one read, so
    of two recoverers (two pollers, a poller and the scheduler) one acts. Returns what was done."""
    doc = db.session.execute(select(ExportDocument).where(ExportDocument.id == doc_id, _stale(app, at))
                             .execution_options(populate_existing=True)).scalar_one_or_none()
    if doc is None:
        db.session.rollback()
        return None
    if doc.membership_id is None or doc.attempts >= app.config["EXPORT_MAX_ATTEMPTS"]:
        values = dict(status="failed", error=GAVE_UP.format(attempts=max(doc.attempts, 1)))
    else:
        values = dict(status="queued", progress=0, attempts=doc.attempts + 1, heartbeat_at=now())
    try:
        compare_and_set(doc, "heartbeat_at", "", **values)
    except Refused:
        db.session.rollback()
        return None
    db.session.commit()
    app.logger.warning("export %s: worker lost, %s (attempt %s)", doc.id, values["status"], doc.attempts)
    if values["status"] == "queued":
        _dispatch(app, doc)
    return values["status"]


def recover(at=None) -> dict[int, str]:
    """Every job whose worker is gone, handed over again or failed: {doc id: new status}."""
    app = current_app._get_current_object()
    at = at or now()
    done = {}
    with unscoped():
        stale = db.session.execute(select(ExportDocument.id).where(_stale(app, at))
                                   .order_by(ExportDocument.id)).scalars().all()
        for doc_id in stale:
            outcome = _requeue_or_fail(app, doc_id, at)
            if outcome:
                done[doc_id] = outcome
    return done


def recover_if_stale(doc: ExportDocument) -> None:
    """For the progress page: the job it shows never stays 生成中 after its worker died. A GET
    reads in a deferred transaction; the write here takes its own (SQLite: BEGIN IMMEDIATE)."""
    app = current_app._get_current_object()
    at = now()
    with unscoped():
        stale = db.session.execute(select(ExportDocument.id).where(
            ExportDocument.id == doc.id, _stale(app, at))).first()
    if stale is None:
        return
    db.session.rollback()
    token = mark_read_only(False)
    try:
        with unscoped():
            _requeue_or_fail(app, doc.id, at)
    finally:
        reset_read_only(token)
