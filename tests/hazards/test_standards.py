"""Determination standards as data: the bundled national lists with their document numbers and
completeness, and key check items a level publishes, inherited down and never past a sibling."""
import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.hazards import service
from portal.hazards.models import Standard, StandardItem
from tenants.scope import Scope, scoped_as


def _by_code(session, code):
    return session.execute(select(Standard).where(Standard.code == code)).scalar_one()


def test_national_standards_load_with_numbers_completeness_and_items(session, standards):
    chem = _by_code(session, "HC2017")
    assert chem.document_number == "安监总管三〔2017〕121号"
    assert chem.industries == ["hazchem"] and not chem.partial
    assert [i.code for i in chem.items] == [f"HC2017-{n:02d}" for n in range(1, 21)]
    assert chem.items[0].label == "第一项" and chem.items[0].text.startswith("危险化学品生产、经营单位主要负责人")
    gongmao = _by_code(session, "GM2023")
    assert gongmao.document_number == "中华人民共和国应急管理部令第10号"
    assert gongmao.partial and "64" in gongmao.completeness
    assert set(gongmao.industries) == {"industry_trade", "commerce"}
    codes = [i.code for i in gongmao.items]
    # 16 enumerated items of 第三、四、十一条, and 第十四条, a criterion in itself.
    assert len(codes) == 17 and codes[0] == "GM2023-03.1" and "GM2023-11.9" in codes and codes[-1] == "GM2023-14"
    first = gongmao.items[0]
    assert first.label == "第三条（一）" and first.heading.startswith("工贸企业有下列情形之一的")
    assert sum(i.truncated for i in gongmao.items) == 2
    fangwu = _by_code(session, "FS2022")
    assert fangwu.partial and "建质规〔2022〕2号" in fangwu.document_number
    assert {i.status for i in fangwu.items} == {"verbatim", "fragment", "truncated"}
    assert all(i.status in service.ITEM_STATUSES for s in (chem, gongmao, fangwu) for i in s.items)
    gas = session.execute(select(Standard).where(Standard.name == "城镇燃气经营安全重大隐患判定标准")).scalar_one()
    assert gas.items == [] and gas.completeness == "条文未收录" and gas.document_number == "建城规〔2023〕4号"
    # Repealed standards (工贸 2017) are not offered.
    assert not session.execute(select(Standard).where(Standard.document_number == "安监总管四〔2017〕129号")).first()


def test_loading_twice_adds_nothing(session, standards):
    before = session.execute(select(StandardItem.id)).scalars().all()
    assert service.load_national_standards(standards["root"]) == 0
    assert session.execute(select(StandardItem.id)).scalars().all() == before
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "standards.loaded")).scalars().all().__len__() == 1


def test_an_enterprise_gets_its_industrys_standard(session, standards):
    t = standards
    assert {s.code for s in service.applicable_standards(t["a_plant"], "hazchem")} == {"HC2017"}
    assert {s.code for s in service.applicable_standards(t["a_shop"], "commerce")} == {"GM2023"}
    assert all(i.code.startswith("HC2017") for i in service.applicable_items(t["a_plant"]))


def test_key_check_items_inherit_down_and_add_up_but_never_reach_a_sibling(session, standards, make_tenant):
    t = standards
    gas_a = make_tenant(t["a_street"], kind="enterprise", name="甲燃气站", industry="gas")
    gas_b = make_tenant(t["b_street"], kind="enterprise", name="乙燃气站", industry="gas")
    district = service.publish_key_items(t["a"], name="甲区燃气行业重大事故隐患重点检查事项", document_number="甲安委办〔2024〕3号",
                                         industry="gas", items=["商业综合体未安装燃气泄漏报警器", "", "液化石油气钢瓶超期未检"])
    street = service.publish_key_items(t["a_street"], name="甲街道燃气重点检查事项（补充）", document_number="",
                                       industry="gas", items=["餐饮场所燃气管道穿越人员密集区域未加装防护"])
    assert [i.code for i in district.items] == [f"K{district.id}-01", f"K{district.id}-02"]
    applicable = service.applicable_standards(gas_a, "gas")
    assert {s.id for s in applicable if s.kind == "key_items"} == {district.id, street.id}
    # The national gas standard has no item texts in the system: it is listed, offers nothing.
    assert [s.document_number for s in applicable if s.kind == "standard"] == ["建城规〔2023〕4号"]
    assert len(service.applicable_items(gas_a)) == 3
    assert all(s.kind == "standard" for s in service.applicable_standards(gas_b, "gas"))
    assert service.applicable_items(gas_b) == []
    # A street user reads the district's and the nation's standards (Inherited rows), not 乙区's.
    with scoped_as(Scope.of(t["a_street"], "staff")):
        session.expunge_all()
        seen = {s.code for s in session.execute(select(Standard)).scalars()}
    assert {district.code, street.code, "HC2017"} <= seen
    with scoped_as(Scope.of(t["b"], "admin")):
        session.expunge_all()
        seen = {s.code for s in session.execute(select(Standard)).scalars()}
    assert district.code not in seen and street.code not in seen and "HC2017" in seen


def test_a_government_level_publishes_a_department_only_for_its_industries_and_only_its_own_are_withdrawn(
        session, standards):
    t = standards
    with pytest.raises(service.HazardError, match="政府层级"):
        service.publish_key_items(t["a_shop"], name="x", document_number="", industry="commerce", items=["a"])
    with pytest.raises(service.HazardError, match="本部门监管的行业领域发布重点检查事项（甲区商务局监管：商贸）"):
        service.publish_key_items(t["a_dept"], name="x", document_number="", industry="gas", items=["a"])
    with pytest.raises(service.HazardError, match="至少填写一项"):
        service.publish_key_items(t["a"], name="空的", document_number="", industry="gas", items=["", "  "])
    with pytest.raises(service.HazardError, match="行业"):
        service.publish_key_items(t["a"], name="x", document_number="", industry="bogus", items=["a"])
    district = service.publish_key_items(t["a"], name="甲区燃气", document_number="", industry="gas", items=["a"])
    with pytest.raises(service.HazardError, match="只能撤回本单位发布"):
        service.withdraw_standard(t["a_street"], district)
    with pytest.raises(service.HazardError, match="只能撤回本单位发布"):
        service.withdraw_standard(t["root"], _by_code(session, "HC2017"))
    service.withdraw_standard(t["a"], district)
    assert district.id not in {s.id for s in service.applicable_standards(t["a_street"])}
    with pytest.raises(service.HazardError, match="已撤回"):
        service.withdraw_standard(t["a"], district)
