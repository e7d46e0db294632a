"""Check, store and find uploads. Types are decided by the bytes, not by the name."""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from urllib.parse import quote

from flask import Response

from portal.audit import service as audit
from portal.errors import Refused
from portal.extensions import db
from portal.uploads.models import StoredFile, Upload
from tenants.models import Membership, Tenant

MAX_BYTES = 20 * 1024 * 1024
# Extension → (kind, mimetype). Office files are zip (OOXML) or OLE2 (legacy) containers.
EXTENSIONS = {
    "pdf": ("pdf", "application/pdf"),
    "png": ("image", "image/png"),
    "jpg": ("image", "image/jpeg"),
    "jpeg": ("image", "image/jpeg"),
    "gif": ("image", "image/gif"),
    "webp": ("image", "image/webp"),
    "docx": ("office", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("office", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("office", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": ("office", "application/msword"),
    "xls": ("office", "application/vnd.ms-excel"),
    "ppt": ("office", "application/vnd.ms-powerpoint"),
}
_OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
KIND_NAMES = {"pdf": "PDF", "image": "图片（PNG/JPEG/GIF/WebP）", "office": "Office 文档（Word/Excel/PowerPoint）"}


def safe_filename(name: str) -> str:
    """The last path component, without control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    if not name:
        raise Refused("文件名无效。")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190] + dot + ext) if dot else name[:200]
    return name


def image_type(data: bytes) -> str | None:
    """The mimetype of an image told by its first bytes (PNG, JPEG, GIF, WebP), else None: what a
    file is, whatever its name or the browser's Content-Type says."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _content_matches(ext: str, data: bytes) -> bool:
    if ext == "pdf":
        return data.startswith(b"%PDF-")
    if ext in ("doc", "xls", "ppt"):
        return data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if ext in _OOXML_PART:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return False
        return "[Content_Types].xml" in names and any(n.startswith(_OOXML_PART[ext]) for n in names)
    return False


def check(filename: str, data: bytes, kinds: tuple[str, ...] = ("pdf", "image", "office")) -> tuple[str, str, str]:
    """Return (safe name, kind, mimetype) or refuse with what is wrong, in Chinese."""
    name = safe_filename(filename)
    if len(data) > MAX_BYTES:
        raise Refused(f"“{name}”超过 20 MB，请压缩或拆分后上传。")
    if not data:
        raise Refused(f"“{name}”是空文件。")
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if ext not in EXTENSIONS or EXTENSIONS[ext][0] not in kinds:
        allowed = "、".join(KIND_NAMES[k] for k in kinds)
        raise Refused(f"“{name}”的类型不允许上传，只接受{allowed}。")
    kind, mimetype = EXTENSIONS[ext]
    if kind == "image":
        # Which image it is comes from the bytes: a JPEG named .png is a JPEG, and a page or a
        # script named .png is no image at all.
        mimetype = image_type(data)
        if mimetype is None:
            raise Refused(f"“{name}”的内容不是图片（PNG/JPEG/GIF/WebP），请检查文件。")
    elif not _content_matches(ext, data):
        raise Refused(f"“{name}”的内容不是扩展名所说的类型（.{ext}），请检查文件。")
    return name, kind, mimetype


def store(tenant: Tenant, filename: str, data: bytes, kinds: tuple[str, ...] = ("pdf", "image", "office"),
          *, actor: Membership | None = None) -> Upload:
    """Check and keep one file for `tenant`, audited in the caller's transaction."""
    name, kind, mimetype = check(filename, data, kinds)
    upload = Upload(tenant=tenant, token=secrets.token_hex(16), filename=name, mimetype=mimetype, kind=kind,
                    size=len(data), sha256=hashlib.sha256(data).hexdigest(), content=data)
    upload.created_by_id = actor.user_id if actor else None
    db.session.add(upload)
    db.session.flush()
    audit.record(tenant, "upload.stored", upload, {"filename": name, "size": len(data), "sha256": upload.sha256},
                 actor=actor)
    return upload


def read_limited(stream) -> bytes:
    """Read an incoming file without holding more than the limit (plus one byte to tell)."""
    return stream.read(MAX_BYTES + 1)


def send(stored: StoredFile) -> Response:
    """The file as a response for a view that has already decided the reader may have it."""
    response = Response(stored.content, mimetype=stored.mimetype)
    # Only PDFs and images open in the browser; Office files download.
    disposition = "inline" if stored.kind in ("pdf", "image") else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(stored.filename)}"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
