"""A phone inspection in a real Chromium at 390 px: 河东区应急管理局's inspector scans the code at
津化化工's gate, lands on its page and starts an inspection with a colleague, ticks the check
items, records a hazard with a photo from the camera (made small in the browser), loses the
connection while sending it, finds the draft (photo included) on coming back and sends it again,
twice; one hazard is recorded. Both inspectors sign on the phone and the record is in force."""
from __future__ import annotations

import io
import random
import re

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from portal.codes import service as codes
from portal.demo import PASSWORD
from portal.extensions import db
from portal.hazards.models import Hazard
from tenants.models import Membership, Tenant
from tenants.scope import unscoped
from tests.e2e.conftest import log_in, log_out

ENTERPRISE = "天津市河东区津化化工产品经营有限公司"
PHONE = {"width": 390, "height": 844}
DESCRIPTION = "甲类仓库防爆灯具损坏，电线裸露"


def _camera_photo() -> bytes:
    """A 12-megapixel photo as a phone's camera makes it (noise, so it does not shrink by itself)."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (4000, 3000), rng.randbytes(4000 * 3000 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def _code_of(app, enterprise: str) -> str:
    with app.app_context(), unscoped():
        shop = db.session.execute(select(Tenant).where(Tenant.name == enterprise)).scalar_one()
        admin = db.session.execute(select(Membership).join(Membership.user).where(
            Membership.role == "admin", Membership.tenant_id == shop.ancestor_ids[-2])).scalars().first()
        token = codes.issue(shop, admin).token
        db.session.commit()
        return token


def _hazards(app) -> int:
    with app.app_context(), unscoped():
        return len(db.session.execute(select(Hazard.id).where(Hazard.description == DESCRIPTION)).all())


def test_a_phone_inspection_from_the_scanned_code_to_a_signed_record(live_server, committed_app, browser):
    base = live_server.url
    token = _code_of(committed_app, ENTERPRISE)
    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, base, "hedong_inspector", PASSWORD)
    page.goto(f"{base}/q/{token}")
    expect(page.get_by_role("heading", name=re.compile(ENTERPRISE))).to_be_visible()
    page.get_by_role("link", name="开始检查").click()
    page.get_by_label(re.compile("林涛")).check()
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_role("status")).to_contain_text("已新建检查记录")
    record = page.url

    page.get_by_text(re.compile(r"检查事项（已选")).click()
    boxes = page.locator("form.checklist input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="保存检查事项").click()
    expect(page.get_by_role("status")).to_contain_text("已保存检查事项")

    page.get_by_text("登记发现的隐患（列入隐患台账，来源：部门检查）").click()
    form = page.locator(f"form[data-draft$='-hazard']")
    form.locator("select[name=level]").select_option("general")
    form.get_by_label("隐患描述").fill(DESCRIPTION)
    form.get_by_label("隐患部位").fill("甲类仓库")
    photo = _camera_photo()
    form.locator("input[type=file]").set_input_files(files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg",
                                                             "buffer": photo}])
    note = form.locator(".photo-note")
    expect(note).to_contain_text("已压缩")
    before, after = (int(n) for n in re.findall(r"(\d+) KB", note.inner_text()))
    assert before == round(len(photo) / 1024) and after < before / 5

    # The connection drops as the form is sent: nothing arrives.
    phone.set_offline(True)
    try:
        form.get_by_role("button", name="登记隐患").click(no_wait_after=True)
        page.wait_for_timeout(500)
    finally:
        phone.set_offline(False)
    assert _hazards(committed_app) == 0

    # Back on the record: the draft is there, photo and all, with the key it was sent under.
    page.goto(record)
    form = page.locator(f"form[data-draft$='-hazard']")
    expect(form.locator(".draft-note")).to_be_visible()
    expect(form.get_by_label("隐患描述")).to_have_value(DESCRIPTION)
    expect(form.locator(".photo-note")).to_contain_text("1 张照片")
    # The same form goes out twice (the first answer lost on the way back): one hazard.
    status = page.evaluate("""async () => {
        const form = document.querySelector("form[data-draft$='-hazard']");
        return (await fetch(form.action, {method: "POST", body: new FormData(form)})).status; }""")
    assert status == 200  # the redirect to the record, followed
    form.get_by_role("button", name="登记隐患").click()
    expect(page.get_by_role("status")).to_contain_text("已登记隐患")
    assert _hazards(committed_app) == 1
    expect(page.locator(".draft-note")).to_have_count(0)
    with committed_app.app_context(), unscoped():
        hazard = db.session.execute(select(Hazard).where(Hazard.description == DESCRIPTION)).scalar_one()
        assert len(hazard.photos) == 1 and hazard.photos[0].upload.content[:3] == b"\xff\xd8\xff"
        assert hazard.photos[0].upload.size < len(photo) / 5
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Both inspectors sign, each with their own password, on the phone.
    page.get_by_label("本人登录密码").fill(PASSWORD)
    page.get_by_role("button", name="本人签名").click()
    expect(page.get_by_role("status")).to_contain_text("已签名")
    page.get_by_text("菜单", exact=True).click()  # at 390 px the menu is folded
    log_out(page)
    log_in(page, base, "hedong_inspector2", PASSWORD)
    page.goto(record)
    page.get_by_label("本人登录密码").fill(PASSWORD)
    page.get_by_role("button", name="本人签名").click()
    expect(page.get_by_role("status")).to_contain_text("记录已生效")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已签名")
    assert violations == []
    phone.close()
