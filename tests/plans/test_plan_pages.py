"""Pages and forms of plans and tasks, as each side uses them: 422 with the reason in Chinese,
403 for the wrong side, the bell and the notification list."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.plans import service
from portal.plans.models import Assignment, Task
from tests.conftest import login, post
from tests.plans.conftest import assign, assignment_of, clause_with, first_phase_of, membership

pytestmark = pytest.mark.usefixtures("frozen")


def test_plan_page_shows_inherited_tightened_and_own_clauses(client, session, tree, campaign, national, people):
    district = service.create_plan(tree["a"], campaign, title="甲区工作方案", issuer="甲区安委会")
    service.save_clause(district, title="组织开展事故应急救援演练活动", body="高危行业领域企业每季度至少1次。",
                        replaces=clause_with(district, "drill"), rule_value={"high_risk": {"times": 1, "per": "quarter"}})
    service.save_clause(district, section="本区要求", title="加强劳务派遣和灵活用工人员安全管理", body="纳入统一管理。")
    session.commit()
    login(client, people["street"])  # a street reads its district's plan
    html = client.get(f"/plans/{district.id}").get_data(as_text=True)
    assert "继承自国务院安委会" in html and "本级从严" in html and "本级新增" in html
    assert "每年至少 1 次（高危行业领域企业每季度至少 1 次）" in html
    assert "全国重大事故隐患专项排查整治2023行动总体方案" in html  # the plan it implements
    assert "新增本级条款" not in html  # not the street's plan to change
    assert client.get(f"/plans/{district.id}/clauses/new").status_code == 403


def test_tightening_through_the_form_and_loosening_refused_with_the_parents_value(client, session, tree, campaign,
                                                                                  national, people):
    district = service.create_plan(tree["a"], campaign, title="甲区工作方案", issuer="甲区安委会")
    drill = clause_with(district, "drill")
    session.commit()
    login(client, people["district"])
    page = client.get(f"/plans/{district.id}/clauses/{drill.id}").get_data(as_text=True)
    assert "上级现行要求：<strong>每年至少 1 次（高危行业领域企业每半年至少 1 次）</strong>" in page
    form = {"title": drill.title, "body": "演练。", "all_times": "1", "all_per": "year", "high_risk_times": "1",
            "high_risk_per": "year"}
    r = post(client, f"/plans/{district.id}/clauses/{drill.id}", form)
    assert r.status_code == 422
    assert "上级要求高危行业领域企业每半年至少 1 次" in r.get_data(as_text=True)
    r = post(client, f"/plans/{district.id}/clauses/{drill.id}", form | {"high_risk_per": "quarter"})
    assert r.status_code == 303
    assert service.effective_rule(tree["a_street"], campaign.id, "drill")["high_risk"] == {"times": 1, "per": "quarter"}


def test_issuing_a_plan_from_the_form(client, session, tree, campaign, national, people):
    session.commit()
    login(client, people["district"])
    r = post(client, "/plans/new", {"campaign_id": campaign.id, "title": "甲区工作方案", "issuer": "甲区安委会",
                                    "issued_on": "2023-05-19"})
    assert r.status_code == 303
    plan = session.execute(select(service.Plan).where(service.Plan.tenant_id == tree["a"].id)).scalar_one()
    assert plan.parent_plan_id == national.id and [p.name for p in plan.phases] == [p.name for p in national.phases]
    r = post(client, "/plans/new", {"campaign_id": campaign.id, "title": "第二份", "issuer": "甲区安委会"})
    assert r.status_code == 422 and "本单位已发布该专项行动的方案《甲区工作方案》" in r.get_data(as_text=True)


def _task_form(national, receivers, **extra):
    data = {"title": "制定本街道专项行动方案并动员部署", "body": "请上报方案。", "deadline": "2023-06-30",
            "phase_id": first_phase_of(national, "企业自查自改").id, "receivers": [r.id for r in receivers],
            "request_key": "form-key"}
    data.update(extra)
    return data


def test_assigning_from_the_form_and_its_refusals(client, session, tree, national, streets, people):
    session.commit()
    login(client, people["district"])
    page = client.get("/tasks/new").get_data(as_text=True)
    assert all(s.name in page for s in streets) and "乙街道" not in page
    r = post(client, "/tasks/new", _task_form(national, streets, deadline="2023-07-15"))
    assert r.status_code == 422 and "不能晚于“企业自查自改”阶段的结束日期 2023-06-30" in r.get_data(as_text=True)
    r = post(client, "/tasks/new", _task_form(national, [streets[0], tree["b_street"]]))
    assert r.status_code == 422 and "只能向“甲区”的直接下级单位交办" in r.get_data(as_text=True)
    r = post(client, "/tasks/new", _task_form(national, streets))
    assert r.status_code == 303
    r = post(client, "/tasks/new", _task_form(national, streets))  # the same form again
    assert r.status_code == 422 and "请勿重复提交" in r.get_data(as_text=True)
    assert session.execute(select(Task)).scalars().all().__len__() == 1


def test_a_refused_task_form_says_every_problem_at_once_and_keeps_the_input(client, session, tree, national, streets,
                                                                           people):
    session.commit()
    login(client, people["district"])
    r = post(client, "/tasks/new", _task_form(national, [], body="", deadline="", title="动员部署"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "请修改以下 3 处后再提交" in html
    assert re.search(r'<a href="#body">任务内容与要求</a>：此项必填。', html)
    assert re.search(r'<a href="#deadline">截止日期</a>：此项必填。', html)  # empty: 必填, not "invalid date"
    assert "<a href=\"#receivers\">接收单位</a>：请选择接收单位" in html
    assert 'value="动员部署"' in html
    # The service's rules for the date and the receivers are said with the form's own messages.
    r = post(client, "/tasks/new", _task_form(national, [], deadline="2023-07-15", title=""))
    html = r.get_data(as_text=True)
    assert "请修改以下 3 处" in html and "任务标题</a>：此项必填" in html
    assert "截止日期</a>：截止日期不能晚于“企业自查自改”阶段的结束日期 2023-06-30" in html
    r = post(client, "/tasks/new", _task_form(national, streets, deadline="2023-13-45"))
    assert "截止日期</a>：请填写有效日期（年-月-日），例如 2024-04-01。" in r.get_data(as_text=True)
    assert session.execute(select(Task)).first() is None


def test_a_file_with_a_path_or_over_the_limit_is_refused(client, session, tree, national, streets, people):
    import io
    session.commit()
    login(client, people["district"])
    form = _task_form(national, streets)
    form["files"] = [(io.BytesIO(b"%PDF-1.7"), "../../通知.pdf")]
    r = post(client, "/tasks/new", form, content_type="multipart/form-data")
    assert r.status_code == 422 and "含有路径" in r.get_data(as_text=True)
    form = _task_form(national, streets)
    form["files"] = [(io.BytesIO(b"MZ\x90\x00"), "工具.exe")]
    r = post(client, "/tasks/new", form, content_type="multipart/form-data")
    assert r.status_code == 422 and "类型不允许上传" in r.get_data(as_text=True)
    form = _task_form(national, streets)
    form["files"] = [(io.BytesIO(b"%PDF-" + b"0" * (20 * 1024 * 1024 + 10)), "大文件.pdf")]
    r = post(client, "/tasks/new", form, content_type="multipart/form-data")
    assert r.status_code == 413 and "上传的文件过大" in r.get_data(as_text=True)
    assert session.execute(select(Task)).first() is None


def test_each_side_sees_its_own_buttons_and_the_wrong_side_gets_403(client, session, tree, national, streets, people):
    task = assign(tree, people, national, streets)
    a = assignment_of(session, task, streets[0])
    session.commit()
    login(client, people["street"])
    html = client.get(f"/assignments/{a.id}").get_data(as_text=True)
    assert ">签收<" in html and "审核通过" not in html
    assert client.get(f"/tasks/{task.id}").status_code == 404  # the board of all receivers is the district's
    assert post(client, f"/assignments/{a.id}/approve").status_code == 403
    assert post(client, f"/assignments/{a.id}/sign").status_code == 303
    r = post(client, f"/assignments/{a.id}/report", {"body": ""})
    assert r.status_code == 422 and "请填写办理情况" in r.get_data(as_text=True)
    assert post(client, f"/assignments/{a.id}/report", {"body": "已召开动员部署会。"}).status_code == 303
    r = post(client, f"/assignments/{a.id}/report", {"body": "再交一次"})
    assert r.status_code == 422 and "请勿重复提交" in r.get_data(as_text=True)

    other = client.application.test_client()
    login(other, people["district"])
    r = post(other, f"/assignments/{a.id}/report", {"body": "代报"})
    assert r.status_code == 403 and "只有接收单位“甲街道”的人员才能上报" in r.get_data(as_text=True)
    r = post(other, f"/assignments/{a.id}/return", {"reason": ""})
    assert r.status_code == 422 and "请填写退回理由" in r.get_data(as_text=True)
    assert post(other, f"/assignments/{a.id}/return", {"reason": "缺少分工"}).status_code == 303
    session.expire_all()
    assert session.get(Assignment, a.id).state == "returned"
    board = other.get(f"/tasks/{task.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in board and board.count("待签收") == 2 and "退回" in board


def test_board_and_received_lists_filter_and_colour(client, session, tree, national, streets, people, frozen):
    assign(tree, people, national, streets, deadline=date(2023, 6, 12), key="soon", title="临期任务")
    assign(tree, people, national, streets[:1], deadline=date(2023, 6, 30), key="later", title="正常任务")
    session.commit()
    login(client, people["street"])
    rows = client.get("/tasks/received", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert rows.index("临期任务") < rows.index("正常任务") and "light-yellow" in rows and "light-green" in rows
    frozen(date(2023, 6, 13))
    rows = client.get("/tasks/received?overdue=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "临期任务" in rows and "正常任务" not in rows and "light-red" in rows
    login(client, people["district"])
    board = client.get("/tasks/", headers={"HX-Request": "true"}).get_data(as_text=True)
    # Newly sent, not yet signed for: 待签收, not 办理中.
    assert "3 个街道：已办结 0，已上报 0，办理中 0，待签收 0，逾期 3" in board
    assert "1 个街道：已办结 0，已上报 0，办理中 0，待签收 1，逾期 0" in board
    assert re.search(r"甲二街道</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td>", board)  # its one task is overdue


def test_bell_counts_unread_and_marks_read(client, session, tree, national, streets, people):
    assign(tree, people, national, streets)
    session.commit()
    login(client, people["street"])
    assert '<span class="bell-count" aria-label="1 条未读">1</span>' in client.get("/notifications/count").get_data(as_text=True)
    html = client.get("/notifications/").get_data(as_text=True)
    note_id = re.search(r"/notifications/(\d+)/read", html).group(1)
    r = post(client, f"/notifications/{note_id}/read")
    assert r.status_code == 303 and "/assignments/" in r.headers["Location"]
    assert client.get("/notifications/count").get_data(as_text=True) == ""
    # Another person of the same street still has it unread.
    other = client.application.test_client()
    login(other, service.Membership and _second_staff(session, tree))
    assert "1 条未读" in other.get("/notifications/count").get_data(as_text=True)


def _reported(client, session, tree, national, streets, people):
    """A task to one street, signed for and reported; the district logged in to judge it."""
    a = assignment_of(session, assign(tree, people, national, streets[:1]), streets[0])
    street = membership(people["street"])
    service.sign(a, street)
    service.report(a, street, body="方案已制定")
    session.commit()
    login(client, people["district"])
    return a


def _notice(client) -> str:
    return re.search(r"<tr[^>]*>(?:(?!</tr>).)*请审核(?:(?!</tr>).)*</tr>", client.get("/notifications/").get_data(as_text=True),
                     re.S).group(0)


def test_a_notification_shows_where_its_assignment_stands_now(client, session, tree, national, streets, people):
    """“…请审核” stays in bold only while the report waits: once approved, the district's
    notification says 已办结 and is no longer shown as waiting."""
    a = _reported(client, session, tree, national, streets, people)
    row = _notice(client)
    assert 'class="unread"' in row and "<strong>" in row and "已上报" in row
    service.approve(a, membership(people["district"]))
    session.commit()
    row = _notice(client)
    assert 'class="unread"' not in row and "<strong>" not in row and "已办结" in row and "已处理" in row


def test_a_refused_form_shows_the_page_it_was_on_not_the_action_url(client, session, tree, national, streets, people):
    """退回 without a reason comes back with its message; the address bar is set to the assignment's
    page (a reload or bookmark never GETs the POST-only action URL), and the report is shown before
    the buttons that judge it, 退回 asking for confirmation."""
    a = _reported(client, session, tree, national, streets, people)
    page = f"http://localhost/assignments/{a.id}"
    html = client.get(page).get_data(as_text=True)
    assert html.index("上报记录") < html.index("审核通过，办结") and 'data-confirm="确定退回' in html
    r = post(client, f"/assignments/{a.id}/return", {"reason": ""}, headers={"Referer": page})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and f'<meta name="page-url" content="/assignments/{a.id}">' in body
    assert client.get(f"/assignments/{a.id}/return").status_code == 405  # what a reload would have asked
    assert '<meta name="page-url"' not in client.get(page).get_data(as_text=True)
    post(client, f"/assignments/{a.id}/return", {"reason": "缺少分工"})
    html = client.get(page).get_data(as_text=True)
    assert "已退回，待重新上报" in html and "尚未上报" not in html
    # The state is badged once: the returned report does not say 退回 again beside it.
    assert html.count('class="badge state-returned"') == 1


def _second_staff(session, tree):
    from portal.auth import service as auth
    user = auth.create_user(tree["a_street"], username="second_staff", display_name="第二位", password="Test-Passw0rd",
                            role="staff")
    auth.accept_password(user)
    session.commit()
    return user


def test_the_bell_poll_does_not_keep_an_idle_session_alive(client, session, tree, people):
    session.commit()
    login(client, people["street"])
    r = client.get("/notifications/count")
    assert "Set-Cookie" not in r.headers  # a poll is not activity
    # Nor a static file, which the browser fetches by itself (the favicon after the page): answering
    # after a 退出, a refreshed cookie set the old session again.
    favicon = client.get("/static/favicon.svg")
    assert favicon.status_code == 200 and "Set-Cookie" not in favicon.headers
    assert "Set-Cookie" in client.get("/tasks/received").headers  # a page view refreshes the session
    client.post("/logout", data={})
    anonymous = client.application.test_client()
    assert anonymous.get("/notifications/count").status_code == 286  # htmx stops polling


def test_plan_pdf_is_an_official_document_through_the_pipeline(client, session, tree, campaign, national, people):
    from tests.exports.test_pdf import pdf_text
    district = service.create_plan(tree["a"], campaign, title="甲区重大事故隐患排查整治2023专项行动工作方案",
                                   issuer="甲区安全生产委员会", doc_number="甲安委〔2023〕5号",
                                   issued_on=date(2023, 5, 19), recipients="区安委会各成员单位、各街道")
    service.save_clause(district, title="组织开展事故应急救援演练活动", body="高危行业领域企业每季度至少1次。",
                        replaces=clause_with(district, "drill"), rule_value={"high_risk": {"times": 1, "per": "quarter"}})
    session.commit()
    login(client, people["district_discipline"])  # discipline reads and exports
    r = post(client, f"/plans/{district.id}/pdf")
    assert r.status_code == 303
    link = re.search(r'href="(/exports/\d+\.pdf)"', client.get(r.headers["Location"]).get_data(as_text=True)).group(1)
    text = re.sub(r"\s+", "", pdf_text(client.get(link).data))
    for expected in ("甲区安全生产委员会文件", "甲安委〔2023〕5号", "甲区重大事故隐患排查整治2023专项行动工作方案",
                     "区安委会各成员单位、各街道：", "国务院安全生产委员会《全国重大事故隐患专项排查整治2023行动总体方案》",
                     "本方案从严的条款", "每年至少1次（高危行业领域企业每半年至少1次）",
                     "每年至少1次（高危行业领域企业每季度至少1次）", "2023年5月19日", "阶段安排", "企业自查自改"):
        assert re.sub(r"\s+", "", expected) in text, expected
