"""Summaries: composed from the records with the units below ranked, the lagging named and the
best commended, every figure opening its hazards; edited, issued once as a verifiable 公文 PDF and
a .docx, then frozen; read by its level and those above, never below or beside."""
import io
import re
from datetime import date

from docx import Document
from pypdf import PdfReader
from sqlalchemy import select

from portal.exports import service as exports
from portal.exports.models import ExportDocument
from portal.summaries import service
from portal.summaries.models import Summary
from tests.conftest import login, post
from tests.hazards.conftest import people, standards  # noqa: F401  (fixtures)
from tests.hazards.test_figures import ledger  # noqa: F401  (fixture)
from tests.targets.test_targets import _hand_built


def _august(session, people, ledger, make_tenant, make_user):  # noqa: F811
    t = people["tree"]
    _hand_built(ledger, make_tenant, t)
    t["d_street"] = make_tenant(t["a"], kind="street", name="丁街道")
    t["d_shop"] = make_tenant(t["d_street"], kind="enterprise", name="丁商场", industry="commerce")
    ledger(enterprise="d_shop", found=date(2024, 8, 5), status="closed", accepted=date(2024, 8, 20),
           closed=date(2024, 8, 21))
    admin = make_user(t["a"], role="admin")
    session.commit()
    return t, admin


def test_a_month_ranks_the_streets_names_the_lagging_and_commends_the_best(session, people, ledger, make_tenant,
                                                                             make_user, client):  # noqa: F811
    t, admin = _august(session, people, ledger, make_tenant, make_user)
    login(client, admin)
    made = post(client, "/summaries/", {"kind": "month", "day": "2024-08-15"})
    assert made.status_code == 303
    summary = session.execute(select(Summary)).scalar_one()
    assert summary.title == "甲区2024年8月重大事故隐患排查整治月小结"
    assert (summary.period_start, summary.period_end) == (date(2024, 8, 1), date(2024, 8, 31))
    _, units = service.rows_of(summary)
    assert [(r.rank, r.name) for r in units] == [(1, "丁街道"), (2, "丙街道"), (3, "甲街道")]
    assert summary.figures["lagging"] == [t["a_street"].id, t["c_street"].id]
    assert summary.figures["best"] == [t["d_street"].id]
    assert "甲街道（存量未销号 1 项、逾期未整改 1 项，排名第 3）" in summary.paragraphs[1]
    assert "丁街道（发现 1 项、整改率 100%）" in summary.paragraphs[2]

    page = client.get(made.location).get_data(as_text=True)
    assert "<svg" in page and "通报" in page and "表扬" in page
    links = re.findall(r'<a href="(/hazards/\?[^"]+)">(\d+)</a>', page)
    assert len(links) == 3 * len(service.COLUMNS)
    for href, value in links:
        listed = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert int(re.search(r"共 (\d+) 条", listed).group(1)) == int(value), href
    # Composing the same month again opens the same draft.
    assert post(client, "/summaries/", {"kind": "month", "day": "2024-08-02"}).location == made.location


def test_edited_then_issued_once_as_pdf_and_docx_and_frozen(session, people, ledger, make_tenant, make_user,
                                                            client):  # noqa: F811
    t, admin = _august(session, people, ledger, make_tenant, make_user)
    login(client, admin)
    url = post(client, "/summaries/", {"kind": "month", "day": "2024-08-15"}).location
    summary = session.execute(select(Summary)).scalar_one()
    paragraphs = list(summary.paragraphs)
    paragraphs[3] = "下一步，全区开展燃气安全专项整治回头看。"
    saved = post(client, url, {"paragraph": paragraphs, "doc_number": "甲安委办〔2024〕9号"})
    assert saved.status_code == 303
    assert post(client, url, {"paragraph": ["", *paragraphs[1:]], "doc_number": ""}).status_code == 422

    assert post(client, url + "/issue").status_code == 303
    session.expire_all()
    summary = session.get(Summary, summary.id)
    assert summary.issued and summary.paragraphs[3] == paragraphs[3]
    pdf, docx = session.get(ExportDocument, summary.pdf_id), session.get(ExportDocument, summary.docx_id)
    assert (pdf.status, docx.status) == ("done", "done")
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert "甲安委办〔2024〕9号" in text and "全区开展燃气安全专项整治回头看" in text and pdf.code in text
    assert [d["doc"].id for d in exports.find_for_verification(file_bytes=pdf.content)] == [pdf.id]
    word = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "全区开展燃气安全专项整治回头看" in word and summary.title in word and docx.code in word
    assert client.get(f"/exports/{docx.id}.docx").headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml")

    # Frozen: neither edited nor issued again.
    assert post(client, url, {"paragraph": paragraphs, "doc_number": "改"}).status_code == 422
    assert post(client, url + "/issue").status_code == 422
    session.expire_all()
    assert session.get(Summary, summary.id).doc_number == "甲安委办〔2024〕9号"


def test_read_by_the_level_and_those_above_once_issued(session, people, ledger, make_tenant, make_user,
                                                        client):  # noqa: F811
    t, admin = _august(session, people, ledger, make_tenant, make_user)
    city_admin, street_staff, sibling = (make_user(t["city"], role="admin"), make_user(t["a_street"], role="staff"),
                                         make_user(t["b"], role="admin"))
    session.commit()
    login(client, admin)
    url = post(client, "/summaries/", {"kind": "quarter", "day": "2024-08-15"}).location
    for user, draft, issued in ((city_admin, 404, 200), (street_staff, 404, 404), (sibling, 404, 404)):
        other = client.application.test_client()
        login(other, user)
        assert other.get(url).status_code == draft
    post(client, url + "/issue")
    for user, issued in ((city_admin, 200), (street_staff, 404), (sibling, 404)):
        other = client.application.test_client()
        login(other, user)
        assert other.get(url).status_code == issued
        listed = "甲区2024年第3季度重大事故隐患排查整治季通报" in other.get("/summaries/").get_data(as_text=True)
        assert listed == (issued == 200)
        # Only the level's own office writes it: the city may read, not compose for 甲区.
        assert post(other, url, {"paragraph": ["x"] * 4, "doc_number": ""}).status_code in (404, 422)
