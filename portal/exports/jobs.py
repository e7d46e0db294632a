"""Where export jobs run: RQ workers when REDIS_URL is set, otherwise a small thread pool in the
web process (an embedded install has no Redis). EXPORTS_INLINE runs them inside the request.
A heavy job (a long PDF) without Redis runs in a process of its own, so the memory layout takes
is returned to the system when it ends."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import select

from portal.exports import service
from portal.exports.models import ExportDocument
from portal.extensions import db
from tenants.models import Membership
from tenants.scope import Scope, unscoped

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="export")
_worker_app = None


def _scope_of(membership_id: int) -> Scope:
    with unscoped():
        m = db.session.execute(select(Membership).where(Membership.id == membership_id)).scalar_one()
        return Scope.of(m.tenant, m.role)


def run(doc_id: int, membership_id: int) -> None:
    """Run one export as the member who asked for it (inside an app context)."""
    service.run_export(doc_id, _scope_of(membership_id))


def _run_in(app, doc_id: int, membership_id: int) -> None:
    with app.app_context():
        try:
            run(doc_id, membership_id)
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
        with app.app_context():
            try:
                with unscoped():
                    doc = db.session.get(ExportDocument, doc_id)
                    if doc is not None and not doc.finished:
                        doc.status, doc.error = "failed", "生成进程意外退出。请稍后重试；如多次失败，请联系管理员。"
                        db.session.commit()
            finally:
                db.session.remove()


def submit(doc_id: int, membership_id: int, heavy: bool = False):
    """Start the export after the request has committed its queued row. `heavy` jobs get a
    process of their own when there is no RQ worker."""
    app = current_app._get_current_object()
    if app.config.get("EXPORTS_INLINE"):
        return run(doc_id, membership_id)
    if app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue
        queue = Queue("exports", connection=Redis.from_url(app.config["REDIS_URL"]))
        return queue.enqueue(run_job, doc_id, membership_id, job_timeout=1800)
    if heavy:
        # A pool thread waits for the process, so at most two run at once and none is left a zombie.
        return _pool.submit(_run_in_process, app, doc_id, membership_id)
    return _pool.submit(_run_in, app, doc_id, membership_id)
