"""Bulk onboarding from Excel: enterprises with their principal and safety officer, and users with
their roles. All or nothing per file: every cell is checked first (against the file itself and
the database) and any problem refuses the whole file, named by row and column; a clean file is
previewed, then written in bulk with one audit event per record it creates."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import insert, or_, select

from portal import spreadsheets
from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.auth import service as auth
from portal.auth.models import User
from portal.errors import Refused
from portal.exports import service as exports
from portal.extensions import db
from portal.onboarding.service import LETTERS, create_account, generate_password
from portal.uploads.models import Upload
from tenants import credit_code
from tenants.clock import now
from tenants.models import CHILD_KINDS, INDUSTRIES, KINDS, ROLES, Membership, Tenant
from tenants.paths import in_subtree, insert_nodes, lock_tenants, node_row, reserve_ids
from tenants.scope import unscoped
from tenants.service import clean_address, clean_name

ENTERPRISES, USERS = "enterprises", "users"
IMPORTS = {ENTERPRISES: "企业及负责人", USERS: "用户及角色"}
MAX_ROWS = 20000
# IN lists are cut to this size (SQLite's limit on bound parameters is 32766).
CHUNK = 5000
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
NAME_MAX = 64

COLUMNS = {
    ENTERPRISES: {
        "name": "企业名称",
        "credit_code": "统一社会信用代码",
        "industry": "行业领域",
        "unit": "所属街道/乡镇或村/社区",
        "address": "生产经营地址",
        "high_risk": "高危企业",
        "principal_name": "主要负责人姓名",
        "principal_mobile": "主要负责人手机号",
        "safety_name": "安全管理员姓名",
        "safety_mobile": "安全管理员手机号",
    },
    USERS: {
        "display_name": "姓名",
        "mobile": "手机号",
        "unit": "单位",
        "role": "角色",
        "post": "职务",
    },
}
REQUIRED = {
    ENTERPRISES: ("name", "credit_code", "industry", "unit", "principal_name", "principal_mobile"),
    USERS: ("display_name", "mobile", "unit", "role"),
}
NOTES = {
    ENTERPRISES: [
        "每行一家企业，第 1 行表头不要改动；示例行请删除。",
        "统一社会信用代码：18 位，按 GB 32100 校验第 18 位校验码；已登记的企业不能重复导入。",
        "行业领域填：" + "、".join(INDUSTRIES.values()) + "。",
        "所属街道/乡镇或村/社区：填名称（如 积翠镇）或 9 位以上区划代码；重名时请填区划代码。",
        "高危企业填“是”或“否”，不填为“否”。",
        "主要负责人必填；安全管理员可不填，填写时姓名和手机号都要填。",
        "手机号即登录用户名；同一人在多家企业任职时各行填同一手机号，只建一个账号。",
        "导入后可打印“账号通知书”（每人一页，含初始密码），首次登录须修改密码。",
    ],
    USERS: [
        "每行一个角色，第 1 行表头不要改动；示例行请删除。",
        "单位填名称、区划代码或企业的统一社会信用代码，须在本单位管辖范围内；重名时请填代码。",
        "角色填：" + "、".join(ROLES.values()) + "（企业只能设主要负责人、安全管理员）。",
        "手机号即登录用户名；同一人有多个角色时每个角色一行，填同一手机号和姓名。",
        "导入后可打印“账号通知书”（每人一页，含初始密码），首次登录须修改密码。",
    ],
}
EXAMPLES = {
    ENTERPRISES: [["（示例，请删除本行）方山县某某商贸有限公司", credit_code.make("91141128MA0K00001"), "商贸",
                   "积翠镇", "积翠镇积翠村 88 号", "否", "张三", "13800000001", "李四", "13800000002"]],
    USERS: [["（示例，请删除本行）王五", "13800000003", "积翠镇", "工作人员", "应急站站长"]],
}

_INDUSTRY_WORDS = {**{label: code for code, label in INDUSTRIES.items()}, **{code: code for code in INDUSTRIES},
                   "非煤矿山": "mining", "危化品": "hazchem", "涉农企业": "agriculture", "河道治理": "waterways",
                   "文旅": "culture_tourism", "校园安全": "campus", "护林防火": "forestry", "商务": "commerce"}
_ROLE_WORDS = {**{label: code for code, label in ROLES.items()}, **{code: code for code in ROLES},
               "第一责任人": "principal", "安全员": "safety_officer"}
# Where an enterprise may hang (a street/township or a village/community).
ENTERPRISE_PARENTS = tuple(k for k, allowed in CHILD_KINDS.items() if "enterprise" in allowed)


class CellError(Refused):
    """One cell's problem; collected, never raised out of this module."""


@dataclass
class Person:
    username: str
    display_name: str
    row: int
    post: str = ""
    roles: list[tuple[object, str, int]] = field(default_factory=list)  # (unit or new enterprise, role, row)


@dataclass
class NewEnterprise:
    row: int
    name: str
    credit_code: str
    industry: str
    high_risk: bool
    address: str
    parent: Tenant
    id: int | None = None
    path: str | None = None


@dataclass
class Plan:
    """What a clean file will create: shown on the preview, written by `commit`."""

    rows: int
    enterprises: list[NewEnterprise]
    people: dict[str, Person]

    @property
    def roles(self) -> int:
        return sum(len(p.roles) for p in self.people.values())


def holders(checked: Plan) -> dict[int, dict[str, Person]]:
    """Row of an enterprise → role → the person who will hold it (the preview's columns)."""
    out: dict[int, dict[str, Person]] = {}
    for person in checked.people.values():
        for _, role, row in person.roles:
            out.setdefault(row, {})[role] = person
    return out


def template(kind: str) -> bytes:
    return spreadsheets.template(IMPORTS[kind], COLUMNS[kind], EXAMPLES[kind], NOTES[kind])


def _chunks(values):
    values = sorted(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _units(importer: Tenant, refs: set[str]) -> dict[str, list[Tenant]]:
    """Nodes inside the importer's subtree named by each reference: a division or credit code
    first (unique), else every node of that name."""
    found: dict[int, Tenant] = {}
    for part in _chunks(refs):
        upper = [r.upper() for r in part]
        for t in db.session.execute(select(Tenant).where(
                in_subtree(Tenant.path, importer.path),
                or_(Tenant.name.in_(part), Tenant.code.in_(part), Tenant.credit_code.in_(upper)))).scalars():
            found[t.id] = t
    by_code = {t.code: t for t in found.values() if t.code}
    by_code.update({t.credit_code: t for t in found.values() if t.credit_code})
    out: dict[str, list[Tenant]] = {}
    for ref in refs:
        exact = by_code.get(ref) or by_code.get(ref.upper())
        out[ref] = [exact] if exact else sorted((t for t in found.values() if t.name == ref), key=lambda t: t.path)
    return out


def _unit(importer: Tenant, ref: str, candidates: list[Tenant], kinds: tuple[str, ...]) -> Tenant:
    fitting = [t for t in candidates if t.kind in kinds]
    if not fitting:
        if candidates:
            raise CellError(f"“{ref}”是{candidates[0].kind_label}，这里须填"
                            + "或".join(KINDS[k] for k in kinds) + "。")
        raise CellError(f"在“{importer.name}”管辖范围内没有找到“{ref}”，请填写准确的名称或代码。")
    if len(fitting) > 1:
        codes = "、".join(t.code or t.credit_code or f"编号 {t.id}" for t in fitting[:5])
        raise CellError(f"“{ref}”有 {len(fitting)} 个同名单位（{codes}），请改填代码。")
    return fitting[0]


def _text(record: dict, key: str, limit: int, label: str, required: bool) -> str:
    value = spreadsheets.cell_text(record.get(key))
    if required and not value:
        raise CellError("此项必填。")
    if len(value) > limit:
        raise CellError(f"{label}最多 {limit} 个字，现为 {len(value)} 个字。")
    return value


def _mobile_text(value) -> str:
    # Typed as 138 0000 0001 or 138-0000-0001 as often as without separators.
    return spreadsheets.cell_text(value).replace(" ", "").replace("-", "")


def _mobile(record: dict, key: str) -> str:
    value = _mobile_text(record.get(key))
    if not MOBILE.match(value):
        raise CellError(f"“{value}”不是 11 位手机号码。" if value else "此项必填。")
    return value


class _Checker:
    """Collects every problem of a file, each named by its cell, and the people it will create."""

    def __init__(self, sheet: spreadsheets.Sheet):
        self.sheet = sheet
        self.errors: list[str] = []
        self.people: dict[str, Person] = {}

    def cell(self, number: int, key: str, check):
        """The checked value of one cell, or None after recording its problem."""
        try:
            return check()
        except Refused as e:
            self.errors.append(f"{self.sheet.where(number, key)}：{e}")
            return None

    def person(self, number: int, name_key: str, mobile_key: str, record: dict, post: str = "") -> Person | None:
        name = self.cell(number, name_key, lambda: _text(record, name_key, NAME_MAX, "姓名", True))
        mobile = self.cell(number, mobile_key, lambda: _mobile(record, mobile_key))
        if name is None or mobile is None:
            return None
        known = self.people.get(mobile)
        if known is None:
            known = self.people[mobile] = Person(mobile, name, number, post)
        elif known.display_name != name:
            self.errors.append(f"{self.sheet.where(number, mobile_key)}：手机号 {mobile} 在第 {known.row} 行"
                               f"属于“{known.display_name}”，一个手机号只能对应一个人（它是登录用户名）。")
            return None
        return known

    def existing_accounts(self, mobile_keys: tuple[str, ...], rows: list[tuple[int, dict]]) -> None:
        """Mobiles that are already usernames: the person has an account, so the row would make a
        second one. Read across the whole system (usernames are unique everywhere)."""
        taken = set()
        for part in _chunks(self.people):
            taken |= set(db.session.execute(select(User.username).where(User.username.in_(part))).scalars())
        for number, record in rows:
            for key in mobile_keys:
                mobile = _mobile_text(record.get(key))
                if mobile in taken:
                    self.errors.append(f"{self.sheet.where(number, key)}：手机号 {mobile} 已是系统中的账号"
                                       "（该人员已有账号）。请删除该人员信息，导入后在“用户”页面为其授予角色。")


def _read(kind: str, data: bytes) -> spreadsheets.Sheet:
    sheet = spreadsheets.read(data, COLUMNS[kind], REQUIRED[kind], MAX_ROWS)
    if not sheet.rows:
        raise Refused("表格中没有数据行。请在表头下方逐行填写后再上传。")
    return sheet


def _plan_enterprises(importer: Tenant, sheet: spreadsheets.Sheet) -> Plan:
    check = _Checker(sheet)
    units = _units(importer, {spreadsheets.cell_text(r.get("unit")) for _, r in sheet.rows} - {""})
    codes = {spreadsheets.cell_text(r.get("credit_code")).upper() for _, r in sheet.rows}
    with unscoped():  # a credit code is unique nationally: registered anywhere is a duplicate
        registered = set()
        for part in _chunks(codes):
            registered |= set(db.session.execute(
                select(Tenant.credit_code).where(Tenant.credit_code.in_(part))).scalars())
    first_row: dict[str, int] = {}
    enterprises = []
    for number, r in sheet.rows:
        name = check.cell(number, "name", lambda: clean_name(spreadsheets.cell_text(r.get("name"))))

        def code_of():
            code = credit_code.validate(spreadsheets.cell_text(r.get("credit_code")))
            if code in first_row:
                raise CellError(f"与第 {first_row[code]} 行的统一社会信用代码 {code} 重复。")
            if code in registered:
                raise CellError(f"统一社会信用代码 {code} 的企业已登记，同一企业不能重复登记。")
            return code
        code = check.cell(number, "credit_code", code_of)
        if code is not None:
            first_row[code] = number

        def industry_of():
            word = spreadsheets.cell_text(r.get("industry"))
            if word not in _INDUSTRY_WORDS:
                raise CellError(f"“{word}”不是可选的行业领域，请填：{'、'.join(INDUSTRIES.values())}。"
                                   if word else "此项必填。")
            return _INDUSTRY_WORDS[word]
        industry = check.cell(number, "industry", industry_of)

        def unit_of():
            ref = spreadsheets.cell_text(r.get("unit"))
            if not ref:
                raise CellError("此项必填。")
            return _unit(importer, ref, units[ref], ENTERPRISE_PARENTS)
        parent = check.cell(number, "unit", unit_of)
        address = check.cell(number, "address", lambda: clean_address(spreadsheets.cell_text(r.get("address"))))

        def high_risk_of():
            word = spreadsheets.cell_text(r.get("high_risk"))
            if word not in spreadsheets.YES | spreadsheets.NO:
                raise CellError(f"只能填“是”或“否”，现为“{word}”。")
            return word in spreadsheets.YES
        high_risk = check.cell(number, "high_risk", high_risk_of)
        principal = check.person(number, "principal_name", "principal_mobile", r)
        safety = None
        if spreadsheets.cell_text(r.get("safety_name")) or spreadsheets.cell_text(r.get("safety_mobile")):
            safety = check.person(number, "safety_name", "safety_mobile", r)
        if None in (name, code, industry, parent, address, high_risk):
            continue
        enterprise = NewEnterprise(number, name, code, industry, high_risk, address, parent)
        enterprises.append(enterprise)
        for person, role in ((principal, "principal"), (safety, "safety_officer")):
            if person is not None:
                person.roles.append((enterprise, role, number))
    check.existing_accounts(("principal_mobile", "safety_mobile"), sheet.rows)
    if check.errors:
        raise spreadsheets.ImportRejected(check.errors)
    return Plan(len(sheet.rows), enterprises, check.people)


def _plan_users(importer: Tenant, sheet: spreadsheets.Sheet) -> Plan:
    check = _Checker(sheet)
    units = _units(importer, {spreadsheets.cell_text(r.get("unit")) for _, r in sheet.rows} - {""})
    seen: dict[tuple[str, int, str], int] = {}
    for number, r in sheet.rows:
        post = check.cell(number, "post", lambda: _text(r, "post", NAME_MAX, "职务", False))

        def unit_of():
            ref = spreadsheets.cell_text(r.get("unit"))
            if not ref:
                raise CellError("此项必填。")
            return _unit(importer, ref, units[ref], tuple(KINDS))
        unit = check.cell(number, "unit", unit_of)

        def role_of():
            word = spreadsheets.cell_text(r.get("role"))
            if word not in _ROLE_WORDS:
                raise CellError(f"“{word}”不是可选的角色，请填：{'、'.join(ROLES.values())}。"
                                   if word else "此项必填。")
            role = _ROLE_WORDS[word]
            if unit is not None:
                auth.check_role_fits(unit, role)
            return role
        role = check.cell(number, "role", role_of)
        person = check.person(number, "display_name", "mobile", r, post or "")
        if None in (post, unit, role) or person is None:
            continue
        key = (person.username, unit.id, role)
        if key in seen:
            check.errors.append(f"{sheet.where(number, 'role')}：与第 {seen[key]} 行相同"
                                f"（{person.display_name}在“{unit.name}”的“{ROLES[role]}”角色）。")
            continue
        seen[key] = number
        person.roles.append((unit, role, number))
    check.existing_accounts(("mobile",), sheet.rows)
    if check.errors:
        raise spreadsheets.ImportRejected(check.errors)
    return Plan(len(sheet.rows), [], check.people)


def plan(importer: Tenant, kind: str, data: bytes) -> Plan:
    """Check a whole file against itself and the database; refuse it with every problem named by
    row and column, or return what it will create. Reads only, in the caller's scope."""
    if kind not in IMPORTS:
        raise Refused("未知的导入类型。")
    sheet = _read(kind, data)
    return (_plan_enterprises if kind == ENTERPRISES else _plan_users)(importer, sheet)


def imported_by(upload: Upload) -> AuditEvent | None:
    """The event of the import that already wrote this file, if any: a file is imported once."""
    with unscoped():
        return db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "onboarding.imported", AuditEvent.object_type == "Upload",
            AuditEvent.object_id == upload.id)).scalars().first()


def _write_enterprises(enterprises: list[NewEnterprise]) -> list[dict]:
    next_id = reserve_ids()
    rows = []
    for e in enterprises:
        e.id, e.path = next_id, f"{e.parent.path}{next_id}/"
        rows.append(node_row(e.id, e.parent.id, e.path, e.parent.depth + 1, kind="enterprise", name=e.name,
                             credit_code=e.credit_code, industry=e.industry, high_risk=e.high_risk,
                             address=e.address))
        next_id += 1
    insert_nodes(rows)
    return [{"tenant_id": e.parent.id, "tenant_path": e.parent.path, "action": "enterprise.registered",
             "object_type": "Tenant", "object_id": e.id,
             "data": {"name": e.name, "credit_code": e.credit_code, "industry": e.industry,
                      "high_risk": e.high_risk, "address": e.address, "row": e.row}} for e in enterprises]


def _write_people(people: dict[str, Person]) -> tuple[list[dict], list[dict]]:
    """Accounts with initial passwords and their roles; returns (audit events, letters)."""
    passwords = {username: generate_password() for username in people}
    table = User.__table__
    ids: dict[str, int] = {}
    rows = [create_account(username=p.username, display_name=p.display_name, phone=p.username,
                           password=passwords[p.username], post=p.post) for p in people.values()]
    for start in range(0, len(rows), CHUNK):
        ids.update({username: id_ for id_, username in db.session.execute(
            insert(table).returning(table.c.id, table.c.username), rows[start:start + CHUNK])})
    stamp = now()
    memberships, events, letters = [], [], []
    for p in people.values():
        roles = []
        for n, (unit, role, row) in enumerate(p.roles):
            # `unit` is a node already in the tree, or an enterprise this import has just written.
            tenant_id, path, unit_name = unit.id, unit.path, unit.name
            memberships.append({"user_id": ids[p.username], "tenant_id": tenant_id, "tenant_path": path,
                                "role": role, "created_at": stamp})
            events.append({"tenant_id": tenant_id, "tenant_path": path,
                           "action": "user.created" if n == 0 else "membership.added",
                           "object_type": "User", "object_id": ids[p.username],
                           "data": {"username": p.username, "role": role, "row": row}})
            roles.append(f"{unit_name}　{ROLES[role]}")
        letters.append({"name": p.display_name, "username": p.username, "password": passwords[p.username],
                        "roles": roles})
    for start in range(0, len(memberships), CHUNK):
        db.session.execute(insert(Membership.__table__), memberships[start:start + CHUNK])
    return events, letters


def commit(importer: Tenant, kind: str, upload: Upload, login_url: str, actor: Membership):
    """Write a previewed file: re-checked now (the database may have changed since the preview),
    then every record in bulk, one audit event per record on the chain that record's own service
    would use (a discipline inspector tracing one enterprise or account finds its creation there,
    with the row of the file), and one event on the importer's chain naming the file, its
    digest and the counts. Queues the account letters; returns (plan, letters document).
    Not committed here."""
    # Serializes imports: a second submit of the same file waits, then finds it imported.
    lock_tenants()
    if imported_by(upload) is not None:
        raise Refused("这个文件已经导入过了，不能重复导入。")
    checked = plan(importer, kind, upload.content)
    events = _write_enterprises(checked.enterprises) if kind == ENTERPRISES else []
    people_events, letters = _write_people(checked.people)
    events += people_events
    audit.record_many(events, actor=actor)
    doc = exports.request_export(importer, kind=LETTERS, title=f"账号通知书（{upload.filename}）",
                                 params={"letters": letters, "login_url": login_url, "upload_id": upload.id},
                                 actor=actor)
    audit.record(importer, "onboarding.imported", upload, {
        "kind": kind, "filename": upload.filename, "sha256": upload.sha256, "rows": checked.rows,
        "enterprises": len(checked.enterprises), "users": len(checked.people), "roles": checked.roles,
        "letters": doc.id}, actor=actor)
    # Rows written behind the ORM's back (by insert) must not be read stale by the same request.
    db.session.expire_all()
    return checked, doc


def recent(importer: Tenant, limit: int = 20) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).where(
        AuditEvent.tenant_id == importer.id, AuditEvent.action == "onboarding.imported")
        .order_by(AuditEvent.id.desc()).limit(limit)).scalars().all()
