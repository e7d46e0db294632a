"""The real-division import: shape of the tree, codes, paths, idempotency, filters, CLI."""
import pytest
from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import aliased

from portal.audit.models import AuditEvent
from portal.audit.service import ACTIONS
from portal.database import read_only
from portal.extensions import db
from tenants import service
from tenants.divisions import ROOT_NAME, import_divisions, load_divisions
from tenants.models import CHILD_KINDS, Tenant
from tenants.paths import TreeError, in_subtree

# 天津市 in the shipped 2023 data: 16 districts (all under the skipped 1201 市辖区), 299 townships.
TIANJIN_DISTRICTS = 16
TIANJIN_STREETS = 299
HEDONG_STREETS = 13  # 120102001 大王庄街道 … 120102013 天津铁厂街道


def by_code(session, code):
    return session.execute(select(Tenant).where(Tenant.code == code)).scalar_one()


def in_province(code):
    # Division codes are hierarchical, so a province's nodes are a range of codes.
    return and_(Tenant.code >= code, Tenant.code < code[:-1] + chr(ord(code[-1]) + 1))


def national_roots(session):
    return session.execute(
        select(Tenant).where(Tenant.kind == "national", Tenant.parent_id.is_(None))).scalars().all()


def kinds_in(session, code):
    return dict(session.execute(
        select(Tenant.kind, func.count()).where(in_province(code)).group_by(Tenant.kind)).all())


def test_province_import_skips_pseudo_city_and_creates_the_root(session):
    root_missing = not national_roots(session)
    stats = import_divisions("12")
    assert stats == {"created": 1 + TIANJIN_DISTRICTS + TIANJIN_STREETS + root_missing, "existing": 0}
    assert kinds_in(session, "12") == {"province": 1, "district": TIANJIN_DISTRICTS,
                                       "street": TIANJIN_STREETS}
    [root] = national_roots(session)
    assert root.name == ROOT_NAME
    tianjin = by_code(session, "12")
    assert (tianjin.name, tianjin.kind, tianjin.parent_id) == ("天津市", "province", root.id)
    # No 市辖区 node: the districts hang directly under the municipality.
    assert session.execute(select(Tenant).where(Tenant.code == "1201")).first() is None
    parents = set(session.execute(
        select(Tenant.parent_id).where(in_province("12"), Tenant.kind == "district")).scalars())
    assert parents == {tianjin.id}


def test_hedong_has_its_real_streets(session):
    import_divisions("12")
    hedong = by_code(session, "120102")
    assert (hedong.name, hedong.kind, hedong.parent.code) == ("河东区", "district", "12")
    streets = {t.code: t.name for t in hedong.children}
    assert len(streets) == HEDONG_STREETS
    assert streets["120102001"] == "大王庄街道"
    assert streets["120102013"] == "天津铁厂街道"
    assert all(t.kind == "street" and len(t.code) == 9 for t in hedong.children)
    assert hedong.supervised_industries == []
    assert hedong.high_risk is False and hedong.created_at is not None


def test_paths_and_depths_match_the_parent_chain(session):
    import_divisions("12")
    parent = aliased(Tenant)
    rows = session.execute(
        select(Tenant.id, Tenant.path, Tenant.depth, parent.path, parent.depth)
        .join(parent, parent.id == Tenant.parent_id).where(in_province("12"))
    ).all()
    assert len(rows) == 1 + TIANJIN_DISTRICTS + TIANJIN_STREETS
    for id_, path, depth, parent_path, parent_depth in rows:
        assert path == f"{parent_path}{id_}/"
        assert depth == parent_depth + 1 == len(path.strip("/").split("/")) - 1

    tianjin, hedong = by_code(session, "12"), by_code(session, "120102")
    subtree = set(session.execute(
        select(Tenant.code).where(in_subtree(Tenant.path, tianjin.path))).scalars())
    codes = set(session.execute(select(Tenant.code).where(in_province("12"))).scalars())
    assert subtree == codes
    hedong_subtree = session.execute(
        select(Tenant).where(in_subtree(Tenant.path, hedong.path))).scalars().all()
    assert len(hedong_subtree) == 1 + HEDONG_STREETS
    street = by_code(session, "120102001")
    assert street.ancestor_ids == [tianjin.parent_id, tianjin.id, hedong.id]
    assert street.depth == 3


def test_second_run_creates_nothing(session):
    import_divisions("12")
    total = session.execute(select(func.count()).select_from(Tenant)).scalar()
    again = import_divisions("12")
    assert again == {"created": 0, "existing": 1 + TIANJIN_DISTRICTS + TIANJIN_STREETS}
    assert session.execute(select(func.count()).select_from(Tenant)).scalar() == total
    assert len(national_roots(session)) == 1


def test_counties_filter_imports_only_those_counties_with_ancestors_and_streets(session):
    import_divisions(counties=["120102", "120105", "120110"])
    assert kinds_in(session, "12") == {"province": 1, "district": 3, "street": 13 + 10 + 19}
    tianjin = by_code(session, "12")
    assert {(t.code, t.name) for t in tianjin.children} == {
        ("120102", "河东区"), ("120105", "河北区"), ("120110", "东丽区")}
    assert session.execute(select(Tenant).where(Tenant.code == "120101")).first() is None
    assert {t.name for t in by_code(session, "120110").children} >= {"张贵庄街道", "华明街道"}


def test_existing_nodes_are_reused_and_new_ones_hang_under_them(session):
    import_divisions(counties=["120102"])
    tianjin, hedong = by_code(session, "12"), by_code(session, "120102")
    assert [t.code for t in tianjin.children] == ["120102"]
    hedong_id, street_ids = hedong.id, {t.id for t in hedong.children}
    stats = import_divisions("12")
    assert stats == {"created": TIANJIN_DISTRICTS - 1 + TIANJIN_STREETS - HEDONG_STREETS,
                     "existing": 1 + 1 + HEDONG_STREETS}
    assert by_code(session, "120102").id == hedong_id and {t.id for t in hedong.children} == street_ids
    # The loaded province sees the districts the bulk insert added under it.
    assert len(tianjin.children) == TIANJIN_DISTRICTS
    assert by_code(session, "120105").parent_id == tianjin.id


def test_pseudo_county_city_and_province_direct_counties(session):
    import_divisions(counties=["441900", "419001", "500229"])
    # 东莞: the real city keeps its level, its pseudo-county is the district that holds the towns.
    dongguan_city, dongguan = by_code(session, "4419"), by_code(session, "441900")
    assert (dongguan_city.kind, dongguan_city.parent.code) == ("city", "44")
    assert (dongguan.kind, dongguan.name, dongguan.parent_id) == ("district", "东莞市", dongguan_city.id)
    assert dongguan.children and all(t.kind == "street" for t in dongguan.children)
    # 济源市 is under 河南省 itself, not under 4190 省直辖县级行政区划; 城口县 under 重庆市, not 5002 县.
    assert by_code(session, "419001").parent.code == "41"
    assert by_code(session, "500229").parent.code == "50"
    assert session.execute(select(Tenant).where(Tenant.code.in_(["4190", "5002"]))).first() is None


def test_whole_country_has_the_allowed_shape(session):
    root_missing = not national_roots(session)
    divisions = load_divisions()
    stats = import_divisions()
    assert stats == {"created": len(divisions) + root_missing, "existing": 0}
    counts = dict(session.execute(select(Tenant.kind, func.count()).where(Tenant.code.is_not(None))
                                  .group_by(Tenant.kind)).all())
    assert counts == {"province": 31, "city": 333, "district": 2978, "street": 41352}
    parent = aliased(Tenant)
    pairs = session.execute(select(parent.kind, Tenant.kind).join(parent, parent.id == Tenant.parent_id)
                            .where(Tenant.code.is_not(None)).distinct()).all()
    assert all(child in CHILD_KINDS[up] for up, child in pairs)
    pseudo = session.execute(select(Tenant.code).where(
        Tenant.name.in_(["市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"]))).scalars().all()
    assert pseudo == []
    broken = session.execute(
        select(func.count()).select_from(Tenant).join(parent, parent.id == Tenant.parent_id)
        .where(Tenant.code.is_not(None), Tenant.path != parent.path + cast(Tenant.id, String) + "/")
    ).scalar()
    assert broken == 0


def test_one_audit_event_per_run(session):
    import_divisions("12")
    import_divisions("12")
    [root] = national_roots(session)
    events = session.execute(
        select(AuditEvent).where(AuditEvent.tenant_id == root.id, AuditEvent.action == "divisions.imported")
        .order_by(AuditEvent.seq)).scalars().all()
    assert len(events) == 2
    assert events[0].data["import"] == "divisions" and events[0].data["province"] == "12"
    assert (events[1].data["created"], events[1].data["existing"]) == \
        (0, 1 + TIANJIN_DISTRICTS + TIANJIN_STREETS)
    assert ACTIONS["divisions.imported"] == "导入行政区划"


def test_nodes_created_after_the_import_get_fresh_ids(session):
    import_divisions("12")
    top = session.execute(select(func.max(Tenant.id))).scalar()
    dept = service.create_child(by_code(session, "120102"), kind="department", name="河东区应急管理局",
                                supervised_industries=["hazchem"])
    assert dept.id > top and dept.path == f"{by_code(session, '120102').path}{dept.id}/"


def test_unknown_codes_are_refused_in_chinese(session):
    with pytest.raises(TreeError, match="没有省级区划代码“99”"):
        import_divisions("99")
    with pytest.raises(TreeError, match="没有县级区划代码：120199"):
        import_divisions(counties=["120102", "120199"])
    with pytest.raises(TreeError, match="不属于省级区划 11"):
        import_divisions("11", counties=["120102"])
    assert session.execute(select(Tenant).where(Tenant.code == "12")).first() is None


def test_cli_imports_a_province_and_its_commit_stays_in_the_test_transaction(app, session):
    root_missing = not national_roots(session)
    result = app.test_cli_runner().invoke(args=["tenants", "import-divisions", "--province", "12"])
    assert result.exit_code == 0, result.output
    created = 1 + TIANJIN_DISTRICTS + TIANJIN_STREETS + root_missing
    assert f"导入完成：新增 {created} 个，已存在 0 个" in result.output
    assert by_code(session, "120102").name == "河东区"
    again = app.test_cli_runner().invoke(args=["tenants", "import-divisions", "--province", "12"])
    assert f"新增 0 个，已存在 {created - root_missing} 个" in again.output
    # The command's commit released a savepoint only: another connection sees none of it.
    with read_only(), db.engine.connect() as other:
        leaked = other.execute(select(func.count()).select_from(Tenant).where(in_province("12"))).scalar()
    assert leaked == 0
