"""Anchoring up the tree: each node's chain head is recorded in its parent's chain, so rewriting a
district's history also means rewriting its city's, up to the root; `audit verify` checks anchors."""
from sqlalchemy import select

from portal.audit import service as audit
from portal.audit.models import AuditEvent


def _anchors_in(session, tenant):
    return session.execute(select(AuditEvent).where(AuditEvent.tenant_id == tenant.id,
                                                    AuditEvent.action == audit.ANCHOR)
                           .order_by(AuditEvent.seq)).scalars().all()


def test_heads_are_anchored_up_to_the_root_and_only_when_they_moved(app, session, tree):
    street_event = audit.record(tree["a_street"], "tenant.updated", data={"n": 1})
    assert audit.anchor() > 0
    [street_anchor] = _anchors_in(session, tree["a"])
    assert (street_anchor.object_type, street_anchor.object_id) == ("Tenant", tree["a_street"].id)
    assert street_anchor.data == {"seq": street_event.seq, "hash": street_event.hash}
    # 甲区 had no events of its own; its anchor of the street is itself anchored in the city, and so on.
    for child, parent in (("a", "city"), ("city", "province"), ("province", "root")):
        [up] = _anchors_in(session, tree[parent])
        assert up.object_id == tree[child].id
    assert audit.anchor() == 0  # nothing moved since
    audit.record(tree["a_street"], "tenant.updated", data={"n": 2})
    assert audit.anchor() == 4  # street → 甲区 → city → province → root
    result = app.test_cli_runner().invoke(args=["audit", "anchor"])
    assert result.exit_code == 0 and "已锚定 0 条" in result.output and "根节点" in result.output


def test_verify_reports_anchors_that_no_longer_match_the_child_chain(app, session, tree):
    first = audit.record(tree["a_street"], "tenant.updated", data={"n": 1})
    audit.anchor()
    assert audit.verify()[1] == []
    # What a rewrite leaves behind (the triggers stop it for the app, not for the database owner):
    # the street's chain, rewritten consistently, passes its own links, but 甲区 still holds the old
    # head; a chain cut short no longer has the anchored seq at all. Anchors recorded as the
    # anchoring would, naming what is no longer there.
    moved = audit.record(tree["a"], audit.ANCHOR, tree["a_street"], {"seq": first.seq, "hash": "0" * 64})
    cut = audit.record(tree["a"], audit.ANCHOR, tree["a_street"], {"seq": first.seq + 50, "hash": first.hash})
    checked, broken = audit.verify()
    assert [(b.tenant_id, b.seq, b.reason) for b in broken] == [
        (tree["a"].id, moved.seq, f"锚定的下级单位 {tree['a_street'].id} 第 {first.seq} 环哈希已变"),
        (tree["a"].id, cut.seq, f"锚定的下级单位 {tree['a_street'].id} 第 {first.seq + 50} 环已不存在"),
    ]
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "哈希已变" in result.output and "已不存在" in result.output
