"""Where export jobs run: RQ workers when REDIS_URL is set, otherwise a small thread pool in the
web process (an embedded install has no Redis). EXPORTS_INLINE runs them inside the request."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import select

from portal.exports import service
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


def submit(doc_id: int, membership_id: int):
    """Start the export after the request has committed its queued row."""
    app = current_app._get_current_object()
    if app.config.get("EXPORTS_INLINE"):
        return run(doc_id, membership_id)
    if app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue
        queue = Queue("exports", connection=Redis.from_url(app.config["REDIS_URL"]))
        return queue.enqueue(run_job, doc_id, membership_id, job_timeout=1800)
    return _pool.submit(_run_in, app, doc_id, membership_id)
