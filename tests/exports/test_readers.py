"""Who may list and download each kind of exported file: every kind × every role × the issuing
level, the level above, a sibling, and the units a file is about or names (portal.exports.access).
The 倒查追责材料 and letters go to discipline and leaders of the issuing level and above only."""
import pytest
from sqlalchemy import select

from portal.accountability import service as accountability
from portal.exports import access, service
from portal.exports.models import ExportDocument
from tenants.models import ROLES
from tenants.scope import Scope, scoped_as
from tests.accountability.test_accountability_records import _document, _input, missed  # noqa: F401  (fixture)
from tests.conftest import login, post
from tests.inspections.conftest import field, inspect  # noqa: F401  (fixtures)
from tests.inspections.conftest import TODAY

ALL = frozenset(ROLES)
OFFICES = frozenset({"admin", "leader", "staff", "discipline"})
DISCIPLINE_AND_LEADERS = frozenset({"discipline", "leader"})
# Where a reader may sit: 甲区 issues; the city is above it; 乙区 beside it; 甲街道 holds the plant;
# 甲区应急管理局 inspected the plant (it is named in the plant's trace); the plant is the subject.
POSITIONS = ("a", "city", "b", "a_street", "a_emergency", "a_plant")
# A file of the plant: the plant, its street, its supervising department and the levels above.
ABOUT_THE_PLANT = {p: ALL for p in ("a_plant", "a_street", "a_emergency", "a", "city")}

# label: (kind, node the file is filed under, {position: roles that may read it}).
DOCUMENTS = {
    "roster": ("roster", "a", {"a": OFFICES, "city": OFFICES}),
    "plan": ("plan", "a", {"a": ALL, "city": ALL}),
    "ledger_pdf": ("hazards.ledger", "a_plant", ABOUT_THE_PLANT),
    "ledger_xlsx": ("hazards.ledger_xlsx", "a_plant", ABOUT_THE_PLANT),
    "signed_list": ("checklist", "a_plant", ABOUT_THE_PLANT),
    "dispatch_xlsx": ("dispatch_xlsx", "a", {"a": OFFICES, "city": OFFICES}),
    "dispatch_pdf": ("dispatch_pdf", "a", {"a": OFFICES, "city": OFFICES}),
    # The inspecting unit's copy, and the inspected enterprise's own.
    "record_of_department": ("inspections.record", "a_emergency", {p: ALL for p in ("a_emergency", "a", "city")}),
    "record_of_plant": ("inspections.record", "a_plant", ABOUT_THE_PLANT),
    "dossier_of_district": ("accountability.dossier", "a", {"a": DISCIPLINE_AND_LEADERS,
                                                            "city": DISCIPLINE_AND_LEADERS}),
    "dossier_of_city": ("accountability.dossier", "city", {"city": DISCIPLINE_AND_LEADERS}),
    "letter": ("accountability.letter", "a", {"a": DISCIPLINE_AND_LEADERS, "city": DISCIPLINE_AND_LEADERS}),
    # Summaries (月小结 …): the level's offices and those above, as the dispatch tables.
    "summary_pdf": ("summary", "a", {"a": OFFICES, "city": OFFICES}),
    "summary_docx": ("summary.docx", "a", {"a": OFFICES, "city": OFFICES}),
    # 一企一码 posters: the people who print and post them, not discipline or the auditor.
    "poster": ("enterprise_poster", "a_plant", {p: frozenset({"admin", "leader", "staff", "inspector", "principal",
                                                               "safety_officer"}) for p in ABOUT_THE_PLANT}),
    # Initial passwords: the importing unit's own admins, not even the city's.
    "account_letters": ("onboarding.letters", "a", {"a": frozenset({"admin"})}),
}


def test_every_export_kind_is_in_the_matrix():
    covered = {kind for kind, _, _ in DOCUMENTS.values()}
    for kind in access.kinds():
        assert kind in covered, f"add {kind} to the matrix in tests/exports/test_readers.py"


@pytest.fixture
def files(session, tree, make_tenant):
    t = dict(tree, a_emergency=make_tenant(tree["a"], kind="department", name="甲区应急管理局",
                                           supervised_industries=["hazchem"]))
    docs = {label: service.request_export(t[owner], kind=kind, title=label)
            for label, (kind, owner, _) in DOCUMENTS.items()}
    session.flush()
    return t, docs


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_kind_is_read_by_its_declared_readers_only(session, files, role, position):
    tree, docs = files
    with scoped_as(Scope.of(tree[position], role)):
        readable = set(session.execute(select(ExportDocument.id)).scalars())
    wrong = [f"{label} {'shown' if docs[label].id in readable else 'hidden'}"
             for label, (_, _, readers) in DOCUMENTS.items()
             if (docs[label].id in readable) != (role in readers.get(position, ()))]
    assert not wrong, f"{role} at {position}: {', '.join(wrong)}"


def _urls(doc):
    return (f"/exports/{doc.id}", f"/exports/{doc.id}.pdf")


def test_the_investigated_principal_and_the_named_inspectors_never_reach_the_dossier(app, client, session, field,
                                                                                    missed):
    t = accountability.trace(field["tree"]["a_plant"], TODAY)
    letter = accountability.record(field["discipline"], t, _input(t, measure="reminder_letter"), today=TODAY)
    session.commit()
    login(client, field["discipline"].user)
    plant = field["tree"]["a_plant"]
    dossier = _document(session, post(client, f"/tenants/{plant.id}/trace/export", {"until": "2024-06-15"}))
    reminder = _document(session, post(client, f"/accountability/{letter.id}/letter"))
    assert dossier.title in client.get("/exports/").get_data(as_text=True)
    for doc in (dossier, reminder):
        assert all(client.get(url).status_code == 200 for url in _urls(doc))
    # The principal of the plant, the inspectors the trace names, the plant's street, the district's
    # admin (not discipline) and a sibling district's discipline: not listed, 404 by URL.
    for member in ("plant", "wang", "zhao", "street", "admin", "b_discipline"):
        login(client, field[member].user)
        listing = client.get("/exports/").get_data(as_text=True)
        for doc in (dossier, reminder):
            assert doc.title not in listing, member
            assert [client.get(url).status_code for url in _urls(doc)] == [404, 404], member
    # The district's leader reads both.
    login(client, field["leader"].user)
    assert all(client.get(url).status_code == 200 for doc in (dossier, reminder) for url in _urls(doc))
    # The verify page still vouches for the dossier to anyone holding it.
    client.get("/logout")
    html = post(client, "/verify", {"code": dossier.code}).get_data(as_text=True)
    assert dossier.title in html and "甲区" in html


def test_who_may_not_read_a_kind_may_not_make_it(app, client, session, field, missed):
    t = accountability.trace(field["tree"]["a_plant"], TODAY)
    letter = accountability.record(field["discipline"], t, _input(t, measure="supervision_letter", reply_by=TODAY), today=TODAY)
    session.commit()
    plant = field["tree"]["a_plant"]
    # An inspector may open the trace, but not export its dossier, nor see the button.
    login(client, field["wang"].user)
    assert "导出倒查材料" not in client.get(f"/tenants/{plant.id}/trace").get_data(as_text=True)
    response = post(client, f"/tenants/{plant.id}/trace/export", {"until": "2024-06-15"})
    assert response.status_code == 422 and "您的角色不能导出这类文件" in response.get_data(as_text=True)
    # The district's admin reads the record but makes no letter of it.
    login(client, field["admin"].user)
    assert "生成督办函" not in client.get(f"/accountability/{letter.id}").get_data(as_text=True)
    response = post(client, f"/accountability/{letter.id}/letter")
    assert response.status_code == 422 and "您的角色不能导出这类文件" in response.get_data(as_text=True)
    assert session.execute(select(ExportDocument)).scalars().all() == []
