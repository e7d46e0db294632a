"""三管三必须 for tasks: 甲区商务局 assigns to the 商贸 enterprises it supervises under 甲区's streets
(all, by industry, high-risk, picked); they sign, report, are returned and overdue as a street's
receivers are; the street above them reads the task and their progress and cannot act; an
unsupervised enterprise and another district's never learn the task exists (404)."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.errors import Refused
from portal.plans import service
from portal.plans.models import Assignment, Task, TaskAttachment
from tenants.models import Tenant
from tenants.scope import Scope, scoped_as
from tests.conftest import login, post
from tests.plans.conftest import TODAY, assignment_of, first_phase_of, membership

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def world(session, tree, make_tenant, make_user, national):
    """甲区商务局 (commerce) with its staff; 甲商场 under 甲街道 and a high-risk 甲酒店 under a second
    street, both commerce; 甲化工厂 (hazchem) beside them; 乙商场 (commerce) in 乙区."""
    second = make_tenant(tree["a"], kind="street", name="甲二街道")
    hotel = make_tenant(second, kind="enterprise", name="甲酒店", industry="commerce", high_risk=True)
    users = {key: make_user(tree[unit] if unit in tree else hotel, role=role) for key, (unit, role) in {
        "dept": ("a_dept", "staff"), "dept2": ("a_dept", "leader"), "shop": ("a_shop", "principal"),
        "hotel": ("hotel", "principal"), "plant": ("a_plant", "principal"), "b_shop": ("b_shop", "principal"),
        "street": ("a_street", "staff"), "b_street": ("b_street", "staff")}.items()}
    return {**tree, "second": second, "hotel": hotel, "users": users,
            "phase": first_phase_of(national, "企业自查自改")}


def assign(world, *, key="dept", **receivers):
    with scoped_as(Scope.of(world["a_dept"], "staff")):
        return service.create_task(world["a_dept"], membership(world["users"]["dept"]),
                                   title="商贸企业燃气报警装置排查", body="请排查燃气报警装置安装情况并上报。",
                                   deadline=date(2023, 6, 20), phase_id=world["phase"].id, request_key=key,
                                   files=[("排查要点.pdf", b"%PDF-1.7 points")], **receivers)


def receivers(session, task) -> set[str]:
    return set(session.execute(select(Tenant.name).join(Assignment, Assignment.tenant_id == Tenant.id)
                               .where(Assignment.task_id == task.id)).scalars())


def test_a_department_offers_and_assigns_only_the_enterprises_it_supervises(session, world):
    assert [t.name for t in service.candidates(world["a_dept"])] == ["甲商场", "甲酒店"]
    assert receivers(session, assign(world, key="all", receiver_kinds=["enterprise"])) == {"甲商场", "甲酒店"}
    assert receivers(session, assign(world, key="industry", receiver_industries=["commerce"])) == {"甲商场", "甲酒店"}
    assert receivers(session, assign(world, key="risk", high_risk=True)) == {"甲酒店"}
    # Picked and by flag at once: each enterprise receives one copy.
    assert receivers(session, assign(world, key="picked", receiver_ids=[world["a_shop"].id, world["hotel"].id],
                                     high_risk=True)) == {"甲商场", "甲酒店"}
    for picked, message in (([world["b_shop"].id], "不在本部门监管范围内"), ([world["a_plant"].id], "不在本部门监管范围内")):
        with pytest.raises(Refused, match=message):
            assign(world, key=f"bad{picked}", receiver_ids=picked)
    with pytest.raises(Refused, match="不监管所选行业领域"):
        assign(world, key="hazchem", receiver_industries=["hazchem"])
    with pytest.raises(Refused, match="请选择接收企业"):
        assign(world, key="none")


def test_a_district_still_assigns_only_to_its_direct_children(session, world, people):
    with pytest.raises(Refused, match="只适用于部门和站所"):
        service.create_task(world["a"], membership(people["district"]), title="按行业", body="内容",
                            deadline=date(2023, 6, 20), phase_id=world["phase"].id, request_key="district",
                            receiver_industries=["commerce"])
    with pytest.raises(Refused, match="直接下级"):
        service.create_task(world["a"], membership(people["district"]), title="越级", body="内容",
                            deadline=date(2023, 6, 20), phase_id=world["phase"].id, request_key="district2",
                            receiver_ids=[world["a_shop"].id])


def test_the_new_task_form_names_whom_each_choice_includes(session, client, world):
    login(client, world["users"]["dept"])
    page = client.get("/tasks/new").get_data(as_text=True)
    assert "全部企业（2 个：甲商场、甲酒店）" in page
    assert "全部商贸企业（2 个：甲商场、甲酒店）" in page
    assert "全部高危企业（1 个：甲酒店）" in page
    assert "甲化工厂" not in page and "乙商场" not in page
    response = post(client, "/tasks/new", {
        "title": "报送燃气报警器安装台账", "body": "内容", "phase_id": world["phase"].id, "deadline": "2023-06-20",
        "industries": "commerce", "request_key": "form"})
    assert response.status_code == 303
    task = session.execute(select(Task).where(Task.request_key == "form")).scalar_one()
    assert receivers(session, task) == {"甲商场", "甲酒店"}
    forged = post(client, "/tasks/new", {"title": "越权", "body": "内容", "phase_id": world["phase"].id,
                                         "deadline": "2023-06-20", "receivers": world["b_shop"].id,
                                         "request_key": "forged"})
    assert forged.status_code == 422 and "不在本部门监管范围内" in forged.get_data(as_text=True)


def test_an_enterprise_signs_reports_is_returned_and_the_department_approves(session, client, world):
    task = assign(world, receiver_ids=[world["a_shop"].id])
    a = assignment_of(session, task, world["a_shop"])
    session.commit()
    login(client, world["users"]["shop"])
    inbox = client.get("/tasks/received").get_data(as_text=True)
    assert "商贸企业燃气报警装置排查" in inbox and "甲区商务局" in inbox
    page = client.get(f"/assignments/{a.id}").get_data(as_text=True)
    assert "甲区商务局" in page and "企业自查自改" in page and "排查要点.pdf" in page
    file_id = session.execute(select(TaskAttachment.id).where(TaskAttachment.task_id == task.id)).scalar_one()
    assert client.get(f"/tasks/{task.id}/files/{file_id}").status_code == 200
    assert post(client, f"/assignments/{a.id}/sign").status_code == 303
    assert post(client, f"/assignments/{a.id}/report", {"body": "已安装燃气报警器 12 台。"}).status_code == 303
    login(client, world["users"]["dept"])
    assert "已上报" in client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert post(client, f"/assignments/{a.id}/return", {"reason": "请附安装照片。"}).status_code == 303
    login(client, world["users"]["shop"])
    assert post(client, f"/assignments/{a.id}/resume").status_code == 303
    assert post(client, f"/assignments/{a.id}/report", {"body": "照片附后。"}).status_code == 303
    login(client, world["users"]["dept"])
    board = client.get("/tasks/").get_data(as_text=True)
    assert "监管企业办理情况" in board and "甲商场" in board
    assert post(client, f"/assignments/{a.id}/approve").status_code == 303
    session.expire_all()
    assert session.get(Assignment, a.id).state == "done"
    assert [r.outcome for r in session.get(Assignment, a.id).reports] == ["returned", "approved"]


def test_the_overdue_ladder_and_reminders_as_for_a_street(session, world, frozen):
    task = assign(world, receiver_kinds=["enterprise"])
    frozen(date(2023, 6, 18))
    a = assignment_of(session, task, world["hotel"])
    assert service.ladder(a) == "yellow"
    frozen(date(2023, 6, 21))
    assert service.ladder(a) == "red"
    with scoped_as(Scope.of(world["a_dept"], "staff")):
        assert service.remind_overdue(world["a_dept"], membership(world["users"]["dept"])) == (2, 0)
        rollup = dict(service.child_rollups(world["a_dept"]))
    assert {unit.name: r.overdue for unit, r in rollup.items()} == {"甲商场": 1, "甲酒店": 1}
    assert session.get(Assignment, a.id).reminders == 1


def test_an_unsupervised_enterprise_and_another_districts_never_see_it(session, client, world):
    task = assign(world, receiver_kinds=["enterprise"])
    a = assignment_of(session, task, world["a_shop"])
    file_id = session.execute(select(TaskAttachment.id).where(TaskAttachment.task_id == task.id)).scalar_one()
    session.commit()
    for who in ("plant", "b_shop", "b_street"):
        login(client, world["users"][who])
        for url in (f"/assignments/{a.id}", f"/tasks/{task.id}", f"/tasks/{task.id}/files/{file_id}"):
            assert client.get(url).status_code == 404, (who, url)
        assert post(client, f"/assignments/{a.id}/sign").status_code == 404
        assert "商贸企业燃气报警装置排查" not in client.get("/tasks/received").get_data(as_text=True)
        assert "商贸企业燃气报警装置排查" not in client.get("/tasks/").get_data(as_text=True)
    task_id, department_id = task.id, world["a_dept"].id
    for scope in [Scope.of(world[unit], "principal") for unit in ("a_plant", "b_shop", "b_street")]:
        with scoped_as(scope):
            assert session.execute(select(func.count()).select_from(Task).where(Task.id == task_id)).scalar() == 0
    # Only the units the task reached read the department's node: its name, not its siblings nor
    # what it supervises.
    for unit in ("a_plant", "b_shop", "b_street"):
        with scoped_as(Scope.of(world[unit], "principal")):
            assert session.execute(select(Tenant.id).where(Tenant.id == department_id)).first() is None
    with scoped_as(Scope.of(world["a_shop"], "principal")):
        names = set(session.execute(select(Tenant.name)).scalars())
    assert "甲区商务局" in names and not names & {"甲酒店", "甲化工厂", "甲二街道", "乙商场"}


def test_the_street_sees_what_reached_its_enterprises_and_cannot_act(session, client, world):
    task = assign(world, receiver_kinds=["enterprise"])
    a = assignment_of(session, task, world["a_shop"])
    hotel = assignment_of(session, task, world["hotel"])
    session.commit()
    login(client, world["users"]["street"])
    board = client.get("/tasks/").get_data(as_text=True)
    assert "部门交办辖区企业的任务" in board and "商贸企业燃气报警装置排查" in board and "甲区商务局" in board
    assert "1 个企业：已办结 0，已上报 0，办理中 0，待签收 1，逾期 0" in board  # its own enterprise only
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "甲商场" in page and "甲酒店" not in page and "延期与撤回" not in page
    assert client.get(f"/assignments/{a.id}").status_code == 200
    assert client.get(f"/assignments/{hotel.id}").status_code == 404  # another street's enterprise
    for action, data in (("sign", {}), ("report", {"body": "代报"}), ("approve", {}), ("return", {"reason": "x"}),
                         ("remind", {})):
        assert post(client, f"/assignments/{a.id}/{action}", data).status_code == 403, action
    for action, data in (("withdraw", {"reason": "x"}), ("deadline", {"deadline": "2023-06-25", "reason": "x"}),
                         ("remind", {})):
        assert post(client, f"/tasks/{task.id}/{action}", data).status_code == 403, action
    session.expire_all()
    assert session.get(Assignment, a.id).state == "pending"
    assert session.get(Task, task.id).deadline == date(2023, 6, 20)
    assert TODAY < date(2023, 6, 20)


def test_a_department_passes_a_districts_task_down_to_the_enterprises_it_supervises(session, client, world, people):
    """甲区 tasks its 商务局 (a direct child); the 商务局 signs and passes it down to its 商贸 enterprises,
    as a street passes a task to its own; the enterprise's page names the 商务局."""
    district_task = service.create_task(world["a"], membership(people["district"]), title="传达方案", body="内容",
                                        deadline=date(2023, 6, 25), phase_id=world["phase"].id,
                                        receiver_ids=[world["a_dept"].id], request_key="district")
    received = assignment_of(session, district_task, world["a_dept"])
    department = membership(world["users"]["dept"])
    with scoped_as(Scope.of(world["a_dept"], "staff")):
        service.sign(received, department)
        with pytest.raises(Refused, match="不能晚于上级任务的截止日期"):
            service.create_task(world["a_dept"], department, title="传达到企业", body="内容",
                                deadline=date(2023, 6, 28), phase_id=None, receiver_kinds=["enterprise"],
                                request_key="late", parent_assignment=received)
        task = service.create_task(world["a_dept"], department, title="传达到企业", body="内容",
                                   deadline=date(2023, 6, 24), phase_id=None, receiver_kinds=["enterprise"],
                                   request_key="down", parent_assignment=received)
    assert receivers(session, task) == {"甲商场", "甲酒店"}
    a = assignment_of(session, task, world["hotel"])
    session.commit()
    login(client, world["users"]["dept"])
    assert "向下交办" in client.get(f"/assignments/{received.id}").get_data(as_text=True)
    login(client, world["users"]["hotel"])
    page = client.get(f"/assignments/{a.id}").get_data(as_text=True)
    assert "传达到企业" in page and "甲区商务局" in page


def test_a_districts_form_offers_no_industry_nor_high_risk_choice(session, client, world, people):
    login(client, people["district"])
    page = client.get("/tasks/new").get_data(as_text=True)
    assert "全部街道/乡镇（2 个：甲街道、甲二街道）" in page
    assert "按行业领域" not in page and "高危企业" not in page
