"""Uploads: type decided by content, size limited, names sanitized, served only in scope."""
import io
import zipfile

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.errors import Refused
from portal.uploads import service
from tests.conftest import login

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize("name,data,kind", [
    ("现场照片.png", PNG, "image"), ("整改报告.pdf", b"%PDF-1.7\n...", "pdf"), ("方案.docx", docx_bytes(), "office"),
    ("照片.JPG", b"\xff\xd8\xff\xe0rest", "image"), ("旧表格.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "office"),
])
def test_allowed_types_are_recognised_by_content(name, data, kind):
    assert service.check(name, data)[1] == kind


@pytest.mark.parametrize("name,data,message", [
    ("伪装.pdf", PNG, "内容不是扩展名所说的类型"),
    ("伪装.docx", b"PK\x03\x04not really a zip", "内容不是扩展名所说的类型"),
    ("表格.xlsx", docx_bytes(), "内容不是扩展名所说的类型"),
    ("脚本.exe", b"MZ\x90\x00", "类型不允许上传"),
    ("网页.html", b"<script>alert(1)</script>", "类型不允许上传"),
    # A page or a script named as a photo: the bytes say it is no image, whatever the name says.
    ("现场照片.png", b"<html><script>alert(document.cookie)</script></html>", "的内容不是图片（PNG/JPEG/GIF/WebP）"),
    ("现场照片.jpg", b"alert(1)//\xff\xd8\xff", "的内容不是图片"),
    ("空.pdf", b"", "空文件"),
    ("大.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024), "超过 20 MB"),
])
def test_wrong_content_type_or_size_is_refused(name, data, message):
    with pytest.raises(Refused, match=message):
        service.check(name, data)


def test_an_image_is_typed_by_its_bytes_not_its_name():
    assert service.check("照片.png", b"\xff\xd8\xff\xe0rest", kinds=("image",))[1:] == ("image", "image/jpeg")
    assert service.check("照片.JPG", PNG, kinds=("image",))[1:] == ("image", "image/png")


def test_only_images_when_asked():
    with pytest.raises(Refused, match="只接受图片"):
        service.check("报告.pdf", b"%PDF-1.7", kinds=("image",))


@pytest.mark.parametrize("raw,safe", [
    ("../../etc/passwd.pdf", "passwd.pdf"), ("C:\\Users\\a\\照片.png", "照片.png"), ("a\x00b.pdf", "ab.pdf"),
    (".hidden.pdf", "hidden.pdf"),
])
def test_file_names_lose_their_paths(raw, safe):
    assert service.safe_filename(raw) == safe


def test_store_audits_and_is_served_only_in_scope(client, session, tree, make_user):
    upload = service.store(tree["a_shop"], "现场照片.png", PNG)
    session.commit()
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "upload.stored",
                                                     AuditEvent.object_id == upload.id)).scalar_one()
    assert event.data["sha256"] == upload.sha256 and len(upload.token) == 32
    login(client, make_user(tree["a_street"], role="staff"))
    r = client.get(f"/uploads/{upload.id}")
    assert r.status_code == 200 and r.data == PNG and r.mimetype == "image/png"
    assert r.headers["Content-Security-Policy"] == "sandbox"
    other = client.application.test_client()
    login(other, make_user(tree["b"], role="admin"))
    assert other.get(f"/uploads/{upload.id}").status_code == 404
