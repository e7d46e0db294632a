"""The audit chain: one event per write in the same transaction, hash-linked per tenant,
append-only in the database, and checked end to end by `flask audit verify`."""
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.extensions import db
from tenants.clock import now
from tenants.models import Tenant
from tenants.paths import attach
from tenants.scope import unscoped
from tenants import service as tenants_service
from tests.conftest import at_once, unique


def chain_of(session, tenant):
    return session.execute(select(AuditEvent).where(AuditEvent.tenant_id == tenant.id)
                           .order_by(AuditEvent.seq)).scalars().all()


def test_each_write_appends_a_linked_event(session, tree):
    tenants_service.create_child(tree["a"], kind="street", name="新街道一")
    tenants_service.create_child(tree["a"], kind="street", name="新街道二")
    events = chain_of(session, tree["a"])
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == audit.GENESIS
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash
        assert after.hash == audit.digest(after.prev_hash, after)
    assert events[-1].data == {"kind": "street", "name": "新街道二"}


def test_a_refused_write_leaves_no_event(client, session, tree, make_user):
    from tests.conftest import login, post
    admin = make_user(tree["a"])
    login(client, admin)
    before = len(chain_of(session, tree["a"]))
    r = post(client, f"/tenants/{tree['a'].id}/children", {"kind": "street", "name": "街" * 101})
    assert r.status_code == 422
    session.expire_all()
    assert len(chain_of(session, tree["a"])) == before


def test_database_refuses_update_and_delete_of_audit_rows(session, tree):
    event = audit.record(tree["a_street"], "tenant.updated")
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": event.id})
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})


def _forge(session, tenant, after, **values):
    """An event slipped in by hand after `after`: right position, a hash that does not cover it."""
    session.execute(insert(AuditEvent.__table__).values(
        tenant_id=tenant.id, tenant_path=tenant.path, seq=after.seq + 1, action="tenant.updated",
        object_type="", data={"n": "forged"}, created_at=now(), prev_hash=after.hash, hash="f" * 64, **values))


def test_verify_reports_every_broken_link_and_the_cli_exits_non_zero(app, session, tree):
    audit.record(tree["b"], "tenant.updated", data={"n": 1})
    last_b = audit.record(tree["b"], "tenant.updated", data={"n": 2})
    last_street = audit.record(tree["a_street"], "tenant.updated", data={"n": 1})
    checked, broken = audit.verify()
    assert broken == [] and checked >= 3
    # Two chains forged, one of them twice: every place is named, not only the first.
    _forge(session, tree["b"], last_b)
    _forge(session, tree["a_street"], last_street)
    checked, broken = audit.verify()
    assert [(b.tenant_id, b.seq) for b in broken] == sorted([(tree["b"].id, last_b.seq + 1),
                                                             (tree["a_street"].id, last_street.seq + 1)])
    assert all("改动" in b.reason for b in broken)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"租户 {tree['b'].id} 第 {last_b.seq + 1} 环" in result.output
    assert f"租户 {tree['a_street'].id} 第 {last_street.seq + 1} 环" in result.output
    assert "发现 2 处断点" in result.output


def test_verify_cli_reports_an_intact_chain(app, session, tree):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "审计链完整" in result.output


def test_concurrent_writers_never_fork_the_chain(committed_app):
    """8 writers append to one tenant's chain at once, each in its own connection and transaction."""
    app = committed_app
    writers, per_writer = 8, 25
    with app.app_context(), unscoped():
        root = attach(Tenant(kind="national", name=unique("并发")), None)
        db.session.commit()
        root_id = root.id
        db.session.remove()
    def write(n):
        with app.app_context(), unscoped():
            for i in range(per_writer):
                tenant = db.session.get(Tenant, root_id)
                audit.record(tenant, "tenant.updated", data={"writer": n, "i": i})
                db.session.commit()
            db.session.remove()

    at_once(write, writers)
    with app.app_context(), unscoped():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.tenant_id == root_id)
                                    .order_by(AuditEvent.seq)).scalars().all()
        db.session.remove()
    assert len(events) == writers * per_writer
    forks = sum(1 for a, b in zip(events, events[1:]) if b.prev_hash != a.hash)
    assert [e.seq for e in events] == list(range(1, writers * per_writer + 1))
    assert forks == 0
    assert all(e.hash == audit.digest(e.prev_hash, e) for e in events)
