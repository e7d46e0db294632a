"""PDF exports: Chinese text renders, pages are numbered, the letterhead is inherited, the digest verifies."""
import io
import re
import subprocess

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.exports import service
from portal.exports.models import ExportDocument
from tenants.scope import Scope
from tests.conftest import login, post

PNG_1PX = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def export_roster(client, tenant) -> bytes:
    """Ask for the roster, follow to its page (made inline in tests) and download it."""
    r = post(client, f"/tenants/{tenant.id}/roster")
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/exports/\d+\.pdf)"', page).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    return pdf.data


def test_roster_pdf_has_chinese_names_page_numbers_chain_and_digest(client, session, tree, make_user):
    admin = make_user(tree["a"])
    make_user(tree["a_street"], role="staff")
    login(client, admin)
    text = pdf_text(export_roster(client, tree["a"]))
    for name in ("甲区单位及人员花名册", "甲街道", "甲商场", "甲化工厂", "甲区商务局", admin.display_name):
        assert name in text, name
    assert "乙商场" not in text
    assert "国务院安委会 › 某市 › 某市辖区 › 甲区" in text  # the chain of levels above the node
    assert re.search(r"第 1 页 共 \d+ 页", text)
    doc = session.execute(select(ExportDocument).where(ExportDocument.tenant_id == tree["a"].id)).scalar_one()
    assert doc.content_sha256 in text and doc.code in text


def test_pdf_embeds_subset_noto_cjk_fonts(session, tree, tmp_path, app):
    doc = service.request_export(tree["a"], kind="roster", title="字体测试")
    service.run_export(doc.id, Scope.of(tree["a"], "admin"))
    path = tmp_path / "doc.pdf"
    path.write_bytes(doc.content)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    # A six-letter tag before the name marks a subset font (HarfBuzz subsetting).
    assert re.search(r"^[A-Z]{6}\+Noto-Sans-CJK-SC ", fonts, re.M)
    assert re.search(r"^[A-Z]{6}\+Noto-Serif-CJK-SC ", fonts, re.M)


def test_letterhead_is_inherited_from_the_nearest_ancestor(session, tree, app):
    service.set_letterhead(tree["city"], "某市安委会办公室", "市级页脚", None, False)
    assert service.letterhead(tree["a_street"])["header"] == "某市安委会办公室"
    service.set_letterhead(tree["a"], "甲区安委会办公室", "", PNG_1PX, False)
    head = service.letterhead(tree["a_street"])
    assert head["header"] == "甲区安委会办公室" and head["owner"].id == tree["a"].id
    assert head["seal"].startswith("data:image/png;base64,")
    assert service.letterhead(tree["b_street"])["header"] == "某市安委会办公室"
    service.clear_letterhead(tree["a"])
    assert service.letterhead(tree["a_street"])["header"] == "某市安委会办公室"


def test_letterhead_page_sets_and_clears_and_pdf_uses_it(client, session, tree, make_user):
    admin = make_user(tree["a"])
    login(client, admin)
    url = f"/tenants/{tree['a'].id}/letterhead"
    assert client.get(url).status_code == 200
    r = post(client, url, {"header": "甲区安全生产委员会办公室", "footer": "联系电话 12350",
                           "seal": (io.BytesIO(PNG_1PX), "seal.png")}, content_type="multipart/form-data")
    assert r.status_code == 302
    text = pdf_text(export_roster(client, tree["a_street"]))
    assert "甲区安全生产委员会办公室" in text and "联系电话 12350" in text
    r = post(client, url, {"header": "", "footer": ""})
    assert r.status_code == 422 and "文头不能为空" in r.get_data(as_text=True)
    # The seal is typed by its bytes: a GIF, and a script named seal.png sent as image/png, are refused.
    for data, name in ((b"GIF89a", "seal.gif"), (b"<svg onload=alert(1)>", "seal.png")):
        r = post(client, url, {"header": "x", "seal": (io.BytesIO(data), name, "image/png")},
                 content_type="multipart/form-data")
        assert r.status_code == 422 and "印章图片须为 PNG 或 JPEG 图片（按文件内容识别）" in r.get_data(as_text=True)
    assert service.letterhead(tree["a"])["header"] == "甲区安全生产委员会办公室"
    r = post(client, url, {"action": "clear"})
    assert r.status_code == 302
    assert "尚无任何上级设置文头" in client.get(url).get_data(as_text=True)


def test_verify_page_confirms_a_real_pdf_and_rejects_a_tampered_one(client, session, tree, make_user):
    admin = make_user(tree["a"])
    login(client, admin)
    data = export_roster(client, tree["a"])
    doc = session.execute(select(ExportDocument).where(ExportDocument.tenant_id == tree["a"].id)).scalar_one()
    post(client, "/logout")  # the verify page is public
    ok = post(client, "/verify", {"file": (io.BytesIO(data), "roster.pdf")}, content_type="multipart/form-data")
    html = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "核验通过" in html and "甲区单位及人员花名册" in html
    assert "国务院安委会 › 某市 › 某市辖区 › 甲区" in html
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0x01
    bad = post(client, "/verify", {"file": (io.BytesIO(bytes(tampered)), "roster.pdf")},
               content_type="multipart/form-data")
    assert "未通过核验" in bad.get_data(as_text=True)
    by_code = post(client, "/verify", {"code": doc.code.lower()})
    assert "核验通过" in by_code.get_data(as_text=True)
    assert "未通过核验" in post(client, "/verify", {"code": "0" * 20}).get_data(as_text=True)
    empty = post(client, "/verify", {})
    assert empty.status_code == 422 and "请上传 PDF 文件或填写" in empty.get_data(as_text=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://example.com/x.png", "https://127.0.0.1/a",
                                 "portal:/static/../../etc/passwd", "portal:/instance/secret_key"])
def test_pdf_fetcher_refuses_files_and_outside_urls(app, url):
    with app.app_context(), pytest.raises(ValueError, match="拒绝"):
        service.PortalFetcher().fetch(url)


def test_pdf_fetcher_serves_own_static_files(app):
    with app.app_context():
        response = service.PortalFetcher().fetch("portal:/static/css/print.css")
        assert b"@page" in response.read()


def test_roster_of_a_node_outside_scope_is_404_and_needs_a_role(client, tree, make_user):
    principal = make_user(tree["a_shop"], role="principal")
    login(client, principal)
    assert post(client, f"/tenants/{tree['a_shop'].id}/roster").status_code == 403
    assert post(client, f"/tenants/{tree['a'].id}/roster").status_code in (403, 404)


def test_verify_names_the_issuing_level_and_who_generated_the_file(client, session, tree, make_user):
    """A file about a unit below (here a street's roster, asked for by the district's admin) is
    issued by the district: /verify says so, names who generated it, and the unit it is about."""
    admin = make_user(tree["a"])
    login(client, admin)
    export_roster(client, tree["a_street"])
    doc = session.execute(select(ExportDocument).where(ExportDocument.tenant_id == tree["a_street"].id)).scalar_one()
    post(client, "/logout")
    html = post(client, "/verify", {"code": doc.code}).get_data(as_text=True)
    issuer = re.search(r"<dt>出具单位</dt><dd>(.*?)</dd>", html).group(1)
    assert issuer == "国务院安委会 › 某市 › 某市辖区 › 甲区"
    assert re.search(r"<dt>生成人</dt><dd>(.*?)</dd>", html).group(1).startswith(admin.display_name)
    assert re.search(r"<dt>所涉单位</dt><dd>(.*?)</dd>", html).group(1) == tree["a_street"].name
