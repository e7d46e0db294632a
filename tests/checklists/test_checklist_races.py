"""Two people acting on one responsibility list at the same moment, on real concurrent
connections: it is signed once, a revision makes one new version, a first start makes one draft, and
a unit judged twice keeps one open finding."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.checklists import service
from portal.checklists.models import ChecklistFill, ComplianceFinding
from tests.checklists.conftest import QUARTER_END, fill_all
from tests.conftest import PASSWORD, audited, race, refused


@pytest.fixture
def session(committed_session):
    return committed_session


def fills(session, tenant) -> list[ChecklistFill]:
    return session.execute(select(ChecklistFill).where(ChecklistFill.tenant_id == tenant.id)
                           .order_by(ChecklistFill.version)).scalars().all()


def sign(fill, membership):
    return service.sign(fill, membership, PASSWORD, QUARTER_END)


def test_two_principals_signing_one_list_at_once_sign_it_once(session, tree, lists, make_user):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    fill_all(fill)
    (first,) = make_user(tree["a_shop"], role="principal").memberships
    (second,) = make_user(tree["a_shop"], role="principal").memberships

    outcomes = race((sign, fill, first), (sign, fill, second))

    (message,) = refused(outcomes)
    assert message.startswith("第 1 版已于") and "签署，不能直接修改" in message
    assert audited(fill, "checklist.signed") == ["checklist.signed"]
    assert fill.status == "signed" and service.signature_intact(fill)
    assert fill.signed_by_id in (first.user_id, second.user_id)


def test_an_entry_saved_while_the_list_is_signed_is_in_the_signature_or_refused(session, tree, lists, make_user):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    fill_all(fill)
    (principal,) = make_user(tree["a_shop"], role="principal").memberships
    item = lists["national_1"]

    def save(f, i):
        return service.save_entry(f, i, responsible_name="王五", responsible_post="副总经理", state="done",
                                  evidence_text="已组织自查", today=QUARTER_END)

    outcomes = race((save, fill, item), (sign, fill, principal))

    assert outcomes[1][1] is None  # the signature always goes through
    signed_names = [r["responsible_name"] for r in fill.content["items"]]
    assert ("王五" in signed_names) == (outcomes[0][1] is None)
    assert service.signature_intact(fill)


def test_revising_a_signed_list_twice_at_once_makes_one_new_version(session, tree, lists, make_user):
    shop = tree["a_shop"]
    fill = service.start(shop, "campaign_tasks")
    fill_all(fill)
    (principal,) = make_user(shop, role="principal").memberships
    sign(fill, principal)

    def revise(unit):
        return service.start(unit, "campaign_tasks").id

    outcomes = race((revise, shop), (revise, shop))

    (v1, v2) = fills(session, shop)
    assert [result for result, _ in outcomes] == [v2.id, v2.id]  # both write in the one new draft
    assert (v2.version, v2.is_current, v1.is_current) == (2, True, False)
    assert audited(v2, "checklist.revised") == ["checklist.revised"]


def test_starting_a_list_twice_at_once_makes_one_draft(session, tree, lists):
    shop = tree["a_shop"]
    session.flush()

    outcomes = race((lambda unit: service.start(unit, "campaign_tasks").id, shop),
                    (lambda unit: service.start(unit, "campaign_tasks").id, shop))

    (draft,) = fills(session, shop)
    assert [result for result, _ in outcomes] == [draft.id, draft.id]
    assert audited(draft, "checklist.started") == ["checklist.started"]


def test_a_unit_judged_twice_at_once_keeps_one_open_finding(session, tree):
    """The night's evaluation and a leader's signature judge a street at the same moment: its late
    list is one open finding, and neither request fails."""
    street, district = tree["a_street"], tree["a"]
    service.add_item(district, "leadership_duties", title="街道党工委书记：落实安全生产“党政同责、一岗双责”")
    service.set_due(district, "leadership_duties", date(2026, 6, 30))

    def judge(unit):
        return service.refresh([unit], QUARTER_END)

    outcomes = race((judge, street), (judge, street))

    assert [message for _, message in outcomes] == [None, None]
    [kept] = session.execute(select(ComplianceFinding).where(ComplianceFinding.tenant_id == street.id)).scalars().all()
    assert (kept.code, kept.resolved_on) == ("list_late", None)
