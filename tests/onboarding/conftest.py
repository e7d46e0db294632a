"""方山县 as a first install has it: the levels above, two townships (one with a village), a
sibling county; its admin imports enterprises and users from workbooks built here."""
import io

import pytest
from openpyxl import Workbook

from portal.onboarding.imports import COLUMNS, ENTERPRISES
from tenants import credit_code


def workbook(rows, kind=ENTERPRISES, header=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header or list(COLUMNS[kind].values()))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def code(i: int) -> str:
    return credit_code.make(f"91141128MA{i:07d}")


def enterprise_row(i: int, **change) -> list:
    values = {"name": f"方山县第{i}商贸有限公司", "credit_code": code(i), "industry": "商贸", "unit": "积翠镇",
              "address": f"积翠镇积翠村 {i} 号", "high_risk": "否", "principal_name": f"张{i}",
              "principal_mobile": f"139{i:08d}", "safety_name": f"李{i}", "safety_mobile": f"138{i:08d}"}
    values.update(change)
    return [values[k] for k in COLUMNS[ENTERPRISES]]


@pytest.fixture
def county(make_tenant, make_user):
    root = make_tenant(name="国务院安委会")
    province = make_tenant(root, kind="province", name="山西省", code="14")
    city = make_tenant(province, kind="city", name="吕梁市", code="1411")
    fangshan = make_tenant(city, kind="district", name="方山县", code="141128")
    jicui = make_tenant(fangshan, kind="street", name="积翠镇", code="141128105")
    madi = make_tenant(fangshan, kind="street", name="麻地会乡", code="141128201")
    village = make_tenant(jicui, kind="village", name="积翠村", code="141128105201")
    sibling = make_tenant(city, kind="district", name="离石区", code="141102")
    sibling_street = make_tenant(sibling, kind="street", name="积翠镇", code="141102001")  # same name elsewhere
    return dict(root=root, city=city, fangshan=fangshan, jicui=jicui, madi=madi, village=village, sibling=sibling,
                sibling_street=sibling_street, admin=make_user(fangshan, role="admin"))
