"""The PDF of a signed list: its items, the evidence index, the signer and both digests, made by the
export pipeline and recognised by the verify page."""
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from portal.checklists import service
from portal.exports.models import ExportDocument
from portal.exports.service import find_for_verification
from tests.checklists.conftest import QUARTER_END, fill_all
from tests.conftest import PASSWORD, login, post


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))


def test_signed_list_pdf_carries_items_evidence_signer_and_digest(client, session, tree, lists, make_user):
    shop = tree["a_shop"]
    principal = make_user(shop, role="principal")
    fill = service.start(shop, "campaign_tasks")
    fill_all(fill)
    session.commit()
    login(client, principal)
    # A draft has nothing to vouch for yet.
    response = post(client, f"/checklists/fills/{fill.id}/pdf")
    assert response.status_code == 422 and "只有已签署的版本可以导出 PDF" in response.get_data(as_text=True)
    service.sign(fill, principal.memberships[0], PASSWORD, QUARTER_END)
    session.commit()
    response = post(client, f"/checklists/fills/{fill.id}/pdf")
    assert response.status_code == 303
    doc = session.execute(select(ExportDocument).where(ExportDocument.kind == "checklist")).scalar_one()
    assert doc.status == "done" and doc.tenant_id == shop.id
    assert doc.title == "甲商场专项行动工作清单（第 1 版）"
    text = _text(doc.content)
    for expected in ("甲商场", "专项行动工作清单", principal.display_name, "研究组织本企业重大事故隐患排查整治",
                     "加强劳务派遣和灵活用工人员安全管理", "甲区", "张建华", "证明材料索引", "证明.png",
                     fill.content_sha256[:32], doc.code):
        assert expected in text, expected
    [found] = find_for_verification(file_bytes=doc.content)
    assert found["doc"].id == doc.id and found["chain"][-1] == "甲商场"
    assert find_for_verification(file_bytes=doc.content + b"x") == []
