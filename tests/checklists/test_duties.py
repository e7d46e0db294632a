"""Duty records and special-operation workers: what is refused, what is kept, who may write."""
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.checklists import service
from portal.checklists.models import DutyRecord, SpecialWorker
from portal.errors import Refused
from portal.uploads.models import Upload
from tests.checklists.conftest import PNG, QUARTER_END
from tests.conftest import login, post


def test_dates_in_the_future_are_refused_for_every_kind(session, tree):
    labels = {"inspection": "检查日期", "drill": "演练日期", "education": "教育日期", "outsourcing": "排查日期",
              "training": "培训日期"}
    for kind, label in labels.items():
        with pytest.raises(Refused, match=f"{label}不能晚于今天（2026-09-30）"):
            service.record_duty(tree["a_shop"], kind, occurred_on=date(2026, 10, 1), today=QUARTER_END,
                                person="张建华", subject="x", participants=10, worker_type="dispatched")
    assert session.execute(select(func.count()).select_from(DutyRecord)).scalar_one() == 0


@pytest.mark.parametrize("kind,values,message", [
    ("inspection", {"person": "", "subject": "全厂"}, "请填写带队负责人"),
    ("drill", {"subject": "火灾疏散", "participants": 0}, "参加人数应为大于 0 的整数"),
    ("training", {"person": "赵六", "subject": "规程", "worker_type": "contractor"}, "请选择人员类别"),
    ("outsourcing", {"person": "某公司", "subject": ""}, "请填写外包外租的项目或场所"),
])
def test_incomplete_records_are_refused_in_chinese(session, tree, kind, values, message):
    with pytest.raises(Refused, match=message):
        service.record_duty(tree["a_shop"], kind, occurred_on=QUARTER_END, today=QUARTER_END, **values)


def test_only_enterprises_keep_duty_records_and_workers(session, tree):
    with pytest.raises(Refused, match="履职记录由企业填写"):
        service.record_duty(tree["a_street"], "inspection", occurred_on=QUARTER_END, today=QUARTER_END,
                            person="x", subject="y")
    with pytest.raises(Refused, match="特种作业人员由企业登记"):
        service.add_worker(tree["a_street"], name="王某", work_type="welding", certificate_no="1",
                           expires_on=date(2027, 1, 1), today=QUARTER_END)


def test_an_expired_certificate_cannot_be_entered_as_valid(session, tree):
    plant = tree["a_plant"]
    with pytest.raises(Refused, match="该焊工证有效期至 2026-09-29，已经过期，不能登记为有效证书"):
        service.add_worker(plant, name="王某", work_type="welding", certificate_no="T1", expires_on=date(2026, 9, 29),
                           today=QUARTER_END)
    worker = service.add_worker(plant, name="王某", work_type="welding", certificate_no="T1", expires_on=QUARTER_END,
                                today=QUARTER_END)
    with pytest.raises(Refused, match="证书编号 T1 已登记在本企业的在岗人员中"):
        service.add_worker(plant, name="王二", work_type="electric", certificate_no="T1", expires_on=date(2027, 1, 1),
                           today=QUARTER_END)
    with pytest.raises(Refused, match="已经过期"):
        service.renew_worker(worker, certificate_no="T1", expires_on=date(2026, 1, 1), today=QUARTER_END)
    service.remove_worker(worker, QUARTER_END)
    assert worker.removed_on == QUARTER_END
    with pytest.raises(Refused, match="已于 2026-09-30 离岗"):
        service.remove_worker(worker, QUARTER_END)


def test_recording_duties_over_http(client, session, tree, make_user, frozen):
    shop = tree["a_shop"]
    principal = make_user(shop, role="principal")
    street = make_user(tree["a_street"], role="staff")
    session.commit()
    login(client, principal)
    url = f"/checklists/units/{shop.id}/duties/inspection"
    page = client.get(url).get_data(as_text=True)
    assert f'value="{principal.display_name}"' in page  # the principal leads: his name is offered
    before = session.execute(select(func.count()).select_from(Upload)).scalar_one()
    response = post(client, url, {"occurred_on": "2026-10-02", "person": "张建华", "subject": "全厂",
                                  "files": [(io.BytesIO(PNG), "检查照片.png")]}, content_type="multipart/form-data")
    assert response.status_code == 422 and "检查日期不能晚于今天（2026-09-30）" in response.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(Upload)).scalar_one() == before
    response = post(client, url, {"occurred_on": "2026-09-28", "person": "张建华", "subject": "消防通道、燃气管线",
                                  "findings": "发现一处疏散通道堵塞，已当场清理",
                                  "files": [(io.BytesIO(PNG), "检查照片.png")]}, content_type="multipart/form-data")
    assert response.status_code == 303
    html = client.get(url).get_data(as_text=True)
    assert "消防通道、燃气管线" in html and "检查照片.png" in html
    record = session.execute(select(DutyRecord)).scalar_one()
    assert [u.filename for u in record.uploads] == ["检查照片.png"]
    # An expired certificate is refused with a 422.
    response = post(client, f"/checklists/units/{shop.id}/workers",
                    {"name": "王某", "work_type": "welding", "certificate_no": "T9", "expires_on": "2026-09-01"})
    assert response.status_code == 422 and "已经过期，不能登记为有效证书" in response.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(SpecialWorker)).scalar_one() == 0
    client.post("/logout")
    # The street reads the records but does not write or delete them.
    login(client, street)
    assert "消防通道、燃气管线" in client.get(url).get_data(as_text=True)
    assert post(client, url, {"occurred_on": "2026-09-28", "person": "x", "subject": "y"}).status_code == 403
    assert post(client, f"/checklists/duties/{record.id}/delete").status_code == 403
    client.post("/logout")
    login(client, principal)
    assert post(client, f"/checklists/duties/{record.id}/delete").status_code == 303
    assert session.execute(select(func.count()).select_from(DutyRecord)).scalar_one() == 0


def test_a_list_item_that_is_a_duty_rests_on_its_duty_record(client, session, tree, make_user, frozen):
    """应急演练 marked 已落实 in the list is the drill the enterprise recorded, not a second fact: without
    a drill record the item is refused and points to where to record it; with one it links the
    record (its files are the proof), the duty count and the list agree, and the record cannot be
    deleted while an answer rests on it."""
    shop = tree["a_shop"]
    principal = make_user(shop, role="principal")
    item = service.add_item(tree["root"], "campaign_tasks", title="组织开展事故应急救援演练活动", evidence="file",
                            duty="drill")
    with pytest.raises(Refused, match="只有企业填写的清单事项"):
        service.add_item(tree["a"], "annual_tasks", title="x", duty="drill")
    fill = service.start(shop, "campaign_tasks")
    session.commit()
    login(client, principal)
    url = f"/checklists/fills/{fill.id}/items/{item.id}"
    page = client.get(f"/checklists/fills/{fill.id}").get_data(as_text=True)
    assert "本项是企业履职事项“应急救援演练”：次数以履职记录为准（本年已登记 0 次）" in page
    answer = {f"i{item.id}-responsible_name": "张建华", f"i{item.id}-responsible_post": "总经理",
              f"i{item.id}-state": "done", f"i{item.id}-evidence_text": "已演练"}
    r = post(client, url, answer, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "请先在“责任清单 → 应急救援演练”中登记" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(type(fill), fill.id).filled == 0
    drills = f"/checklists/units/{shop.id}/duties/drill"
    # Recorded from the item's link, the answer comes back to the list.
    r = post(client, f"{drills}?fill={fill.id}", {"occurred_on": "2026-09-20", "subject": "商场火灾疏散",
                                                   "participants": "80", "files": [(io.BytesIO(PNG), "演练照片.png")]},
             content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/checklists/fills/{fill.id}")
    r = post(client, url, answer, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "已保存本项" in r.get_data(as_text=True)
    session.expire_all()
    record = session.execute(select(DutyRecord)).scalar_one()
    fill = session.get(type(fill), fill.id)
    (entry,) = fill.entries
    assert entry.duty_record_id == record.id and fill.filled == 1
    (row,) = service.rows_of(fill)
    assert row["duty_record"]["files"][0]["filename"] == "演练照片.png"
    assert service.duty_counts(shop, QUARTER_END)["drill"] == 1
    assert "本年已登记 1 次" in client.get(f"/checklists/fills/{fill.id}").get_data(as_text=True)
    assert post(client, f"/checklists/duties/{record.id}/delete").status_code == 303
    assert session.execute(select(func.count()).select_from(DutyRecord)).scalar_one() == 1
    assert "是“专项行动工作清单”第 1 版中一项的落实依据，不能删除" in client.get(drills).get_data(as_text=True)
