"""Bulk onboarding: a clean file previews, then writes enterprises, accounts, roles and their audit
events at once with account letters; any bad cell refuses the whole file, named by row and column."""
import io
import re

from pypdf import PdfReader
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from portal.audit.models import AuditEvent
from portal.audit.service import verify
from portal.auth.models import User
from portal.exports.models import ExportDocument
from portal.onboarding import imports
from portal.uploads.models import Upload
from tenants.models import Membership, Tenant
from tests.conftest import login, post
from tests.onboarding.conftest import code, enterprise_row, workbook


def _upload(client, data, kind="enterprises", name="企业.xlsx"):
    return post(client, "/onboarding/", {f"{kind}-file": (io.BytesIO(data), name), "kind": kind},
                content_type="multipart/form-data")


def _count(session, model, *where):
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _pdf_text(data: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]


def test_a_clean_file_is_previewed_then_imported_with_accounts_roles_audit_and_letters(session, client, county):
    login(client, county["admin"])
    rows = [enterprise_row(1), enterprise_row(2, unit="141128105201", high_risk="是", industry="燃气",
                                               safety_name="", safety_mobile=""),
            # One person heads two enterprises: one account, two roles.
            enterprise_row(3, unit="麻地会乡", principal_name="张1", principal_mobile="13900000001")]
    response = _upload(client, workbook(rows))
    assert response.status_code == 303
    preview = client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "检查通过" in html and "方山县第2商贸有限公司" in html
    assert "将登记 <strong>3</strong> 家企业" in html and "建立 <strong>4</strong> 个账号" in html
    assert _count(session, Tenant, Tenant.kind == "enterprise") == 0  # nothing until confirmed

    done = post(client, response.headers["Location"])
    assert done.status_code == 303 and "/exports/" in done.headers["Location"]
    enterprises = {t.credit_code: t for t in session.execute(
        select(Tenant).where(Tenant.kind == "enterprise")).scalars()}
    assert set(enterprises) == {code(1), code(2), code(3)}
    second = enterprises[code(2)]
    assert (second.parent_id, second.industry, second.high_risk, second.address) == \
        (county["village"].id, "gas", True, "积翠镇积翠村 2 号")
    assert second.path == f"{county['village'].path}{second.id}/" and second.depth == county["village"].depth + 1
    assert enterprises[code(3)].parent_id == county["madi"].id
    head = session.execute(select(User).where(User.username == "13900000001")).scalar_one()
    assert head.display_name == "张1" and head.phone == "13900000001"
    assert sorted((m.tenant.credit_code, m.role) for m in head.memberships) == \
        [(code(1), "principal"), (code(3), "principal")]
    assert _count(session, Membership, Membership.role == "safety_officer") == 2

    # One event per created record, on the chain its own service would use, plus the summary.
    registered = session.execute(select(AuditEvent).where(AuditEvent.action == "enterprise.registered")).scalars().all()
    assert sorted((e.tenant_id, e.object_id) for e in registered) == sorted(
        (t.parent_id, t.id) for t in enterprises.values())
    assert all(e.actor_id == county["admin"].id for e in registered)
    assert _count(session, AuditEvent, AuditEvent.action == "user.created", AuditEvent.actor_id == county["admin"].id) == 4
    assert _count(session, AuditEvent, AuditEvent.action == "membership.added") == 1
    [summary] = session.execute(select(AuditEvent).where(AuditEvent.action == "onboarding.imported")).scalars().all()
    upload = session.get(Upload, summary.object_id)
    assert summary.tenant_id == county["fangshan"].id
    assert summary.data | {"letters": None} == {"kind": "enterprises", "filename": "企业.xlsx", "sha256": upload.sha256,
                                                "rows": 3, "enterprises": 3, "users": 4, "roles": 5, "letters": None}
    assert verify(within=county["fangshan"].path)[1] == []

    doc = session.get(ExportDocument, summary.data["letters"])
    assert doc.status == "done" and doc.kind == "onboarding.letters"
    assert "letters" not in doc.params  # the printed letters are the passwords' only copy
    pages = _pdf_text(doc.content)
    assert len(pages) == 4  # one letter per account
    page = next(p for p in pages if "13900000001" in p)
    assert "方山县第1商贸有限公司主要负责人" in page and "方山县第3商贸有限公司主要负责人" in page
    password = re.search(r"初始密码([A-Za-z0-9@#%+=]{12})", page).group(1)
    assert check_password_hash(head.password_hash, password)
    assert "方山县" in pages[0]

    # The same file cannot be imported twice.
    again = post(client, response.headers["Location"])
    assert again.status_code == 422 and "已于" in again.get_data(as_text=True)
    assert _count(session, Tenant, Tenant.kind == "enterprise") == 3


def test_every_bad_cell_is_named_by_row_and_column_and_nothing_is_written(session, client, county, make_tenant,
                                                                          make_user):
    make_tenant(county["jicui"], kind="enterprise", name="已登记企业", credit_code=code(9))
    make_user(county["jicui"], role="staff", username="13700000007")
    login(client, county["admin"])
    events = _count(session, AuditEvent)
    bad_check = code(2)[:17] + ("0" if code(2)[17] != "0" else "1")
    rows = [enterprise_row(1),
            enterprise_row(2, credit_code=bad_check),                      # row 3
            enterprise_row(3, credit_code=code(1)),                        # row 4: same as row 2
            enterprise_row(4, credit_code=code(9)),                        # row 5: registered already
            enterprise_row(5, industry="采矿", unit="不存在镇"),            # row 6
            enterprise_row(6, high_risk="也许", principal_mobile="12345"),  # row 7
            enterprise_row(7, principal_name="王某", principal_mobile="13900000001"),  # row 8: 张1's mobile
            enterprise_row(8, safety_mobile="13700000007"),                # row 9: an existing account
            enterprise_row(10, unit="积翠村", safety_mobile=""),            # row 10: half a safety officer
            enterprise_row(11, unit="方山县")]                               # row 11: not a township
    response = _upload(client, workbook(rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "没有写入任何数据" in html
    for line in ["第 3 行 B 列“统一社会信用代码”：统一社会信用代码第 18 位校验码错误",
                 f"第 4 行 B 列“统一社会信用代码”：与第 2 行的统一社会信用代码 {code(1)} 重复",
                 f"第 5 行 B 列“统一社会信用代码”：统一社会信用代码 {code(9)} 的企业已登记",
                 "第 6 行 C 列“行业领域”：“采矿”不是可选的行业领域",
                 "第 6 行 D 列“所属街道/乡镇或村/社区”：在“方山县”管辖范围内没有找到“不存在镇”",
                 "第 7 行 F 列“高危企业”：只能填“是”或“否”",
                 "第 7 行 H 列“主要负责人手机号”：“12345”不是 11 位手机号码",
                 "第 8 行 H 列“主要负责人手机号”：手机号 13900000001 在第 2 行属于“张1”",
                 "第 9 行 J 列“安全管理员手机号”：手机号 13700000007 已是系统中的账号",
                 "第 10 行 J 列“安全管理员手机号”：此项必填",
                 "第 11 行 D 列“所属街道/乡镇或村/社区”：“方山县”是区县"]:
        assert line in html, line
    assert "第 2 行" not in html.replace("与第 2 行", "").replace("在第 2 行", "")
    assert _count(session, Tenant, Tenant.kind == "enterprise") == 1
    assert _count(session, Upload) == 0 and _count(session, AuditEvent) == events


def test_a_name_shared_by_two_townships_asks_for_the_code(session, client, county, make_tenant):
    make_tenant(county["madi"], kind="village", name="积翠镇", code="141128201299")  # a village named alike
    login(client, county["admin"])
    html = _upload(client, workbook([enterprise_row(1)])).get_data(as_text=True)
    assert "“积翠镇”有 2 个同名单位（141128105、141128201299），请改填代码" in html
    # 离石区's 积翠镇 is outside the importer's county and never a candidate.
    assert "141102001" not in html
    assert _upload(client, workbook([enterprise_row(1, unit="141128105")])).status_code == 303


def test_not_a_workbook_or_a_wrong_header_is_refused(session, client, county):
    login(client, county["admin"])
    assert "不是 Excel 工作簿" in _upload(client, b"%PDF-1.7").get_data(as_text=True)
    html = _upload(client, workbook([["x"]], header=["名称"])).get_data(as_text=True)
    assert "缺少列：企业名称、统一社会信用代码" in html
    assert "没有数据行" in _upload(client, workbook([])).get_data(as_text=True)
    assert _count(session, Upload) == 0


def test_users_import_gives_roles_in_the_subtree_and_checks_each_role_fits(session, client, county):
    login(client, county["admin"])
    kind = "users"
    rows = [["王五", "13600000001", "积翠镇", "工作人员", "应急站站长"],
            ["王五", "13600000001", "141128201", "执法检查员", ""],
            ["赵六", "13600000002", "积翠镇", "主要负责人", ""],          # row 4: not an enterprise role here
            ["钱七", "13600000003", "141102001", "工作人员", ""],          # row 5: 离石区's, outside
            ["王五", "13600000001", "积翠镇", "工作人员", ""]]              # row 6: same as row 2
    html = _upload(client, workbook(rows, kind=kind), kind=kind).get_data(as_text=True)
    assert "第 4 行 D 列“角色”：“主要负责人”角色只能设在企业" in html
    assert "第 5 行 C 列“单位”：在“方山县”管辖范围内没有找到“141102001”" in html
    assert "第 6 行 D 列“角色”：与第 2 行相同" in html
    assert _count(session, User, User.username.like("136%")) == 0

    response = _upload(client, workbook(rows[:2], kind=kind), kind=kind)
    assert response.status_code == 303
    assert "王五" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert post(client, response.headers["Location"]).status_code == 303
    user = session.execute(select(User).where(User.username == "13600000001")).scalar_one()
    assert (user.post, sorted((m.tenant.name, m.role) for m in user.memberships)) == \
        ("应急站站长", [("积翠镇", "staff"), ("麻地会乡", "inspector")])


def test_letters_open_only_to_the_importing_units_admins(session, client, county, make_user):
    login(client, county["admin"])
    response = _upload(client, workbook([enterprise_row(1)]))
    post(client, response.headers["Location"])
    doc = session.execute(select(ExportDocument).where(ExportDocument.kind == "onboarding.letters")).scalar_one()
    assert client.get(f"/exports/{doc.id}.pdf").status_code == 200
    assert f"EXP-{doc.id:06d}" in client.get("/exports/").get_data(as_text=True)
    for unit, role in (("fangshan", "leader"), ("fangshan", "discipline"), ("city", "admin")):
        other = client.application.test_client()
        login(other, make_user(county[unit], role=role))
        assert other.get(f"/exports/{doc.id}.pdf").status_code == 404, (unit, role)
        assert other.get(f"/exports/{doc.id}").status_code == 404
        assert f"EXP-{doc.id:06d}" not in other.get("/exports/").get_data(as_text=True)


def test_a_preview_belongs_to_the_unit_that_uploaded_it(session, client, county, make_user):
    login(client, county["admin"])
    location = _upload(client, workbook([enterprise_row(1)])).headers["Location"]
    other = client.application.test_client()
    login(other, make_user(county["city"], role="admin"))
    assert other.get(location).status_code == 404
    assert post(other, location).status_code == 404
    staff = client.application.test_client()
    login(staff, make_user(county["fangshan"], role="staff"))
    assert staff.get("/onboarding/").status_code == 403
    assert _count(session, Tenant, Tenant.kind == "enterprise") == 0


def test_templates_have_the_chinese_header_and_notes(session, county):
    from openpyxl import load_workbook
    for kind in imports.IMPORTS:
        book = load_workbook(io.BytesIO(imports.template(kind)))
        assert [c.value for c in book.worksheets[0][1]] == list(imports.COLUMNS[kind].values())
        assert book.worksheets[1].title == "填写说明"
