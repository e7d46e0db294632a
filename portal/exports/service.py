"""Render page templates to PDF with an inherited letterhead, and vouch for what was rendered."""
from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import time
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import select
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal.audit import service as audit
from portal.exports.models import ExportDocument
from portal.extensions import db
from tenants import inherit
from tenants.clock import local, now
from tenants.models import Tenant
from tenants.scope import unscoped
from tenants.service import ancestors

LETTERHEAD = "exports.letterhead"
SEAL_MAX_BYTES = 512 * 1024
SEAL_TYPES = {"image/png", "image/jpeg"}
BASE_URL = "portal:/"


class ExportError(ValueError):
    pass


class PortalFetcher(URLFetcher):
    """Serves our own static files and inline data: URIs; refuses file: and every outside URL,
    so a name typed into a record can never make the server read a local file or call out."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(BASE_URL + "static/"):
            static = Path(current_app.static_folder).resolve()
            target = (static / url[len(BASE_URL + "static/"):].split("?")[0]).resolve()
            if static in target.parents and target.is_file():
                mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=target.read_bytes(), headers={"Content-Type": mime})
        raise ValueError(f"导出时拒绝读取外部资源：{url}")


def letterhead(tenant: Tenant) -> dict:
    """The nearest letterhead on the path, with the node that set it."""
    value, owner = inherit.resolve_with_owner(tenant, LETTERHEAD)
    if value is None:
        return {"header": f"{tenant.name}安全生产委员会办公室" if tenant.is_government else tenant.name,
                "footer": "", "seal": None, "owner": None}
    return {**value, "owner": owner.tenant if owner else None}


def set_letterhead(tenant: Tenant, header: str, footer: str, seal: bytes | None, seal_type: str | None,
                   keep_seal: bool) -> None:
    header, footer = header.strip(), footer.strip()
    if not header:
        raise ExportError("文头不能为空。")
    seal_uri = None
    if seal:
        if seal_type not in SEAL_TYPES:
            raise ExportError("印章图片须为 PNG 或 JPEG。")
        if len(seal) > SEAL_MAX_BYTES:
            raise ExportError("印章图片不能超过 512 KB。")
        seal_uri = f"data:{seal_type};base64,{base64.b64encode(seal).decode()}"
    elif keep_seal:
        own, owner = inherit.resolve_with_owner(tenant, LETTERHEAD)
        seal_uri = own.get("seal") if owner is not None and owner.tenant_id == tenant.id else None
    inherit.set_value(tenant, LETTERHEAD, {"header": header, "footer": footer, "seal": seal_uri})
    audit.record(tenant, "setting.updated", data={"key": LETTERHEAD, "header": header, "footer": footer,
                                                  "seal": bool(seal_uri)})


def clear_letterhead(tenant: Tenant) -> bool:
    cleared = inherit.clear_value(tenant, LETTERHEAD)
    if cleared:
        audit.record(tenant, "setting.cleared", data={"key": LETTERHEAD})
    return cleared


def _canonical(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def render_pdf(tenant: Tenant, *, kind: str, title: str, template: str, content: dict, **context) -> ExportDocument:
    """Render `template` for `tenant` to PDF, record it, and audit the export (caller commits).

    `content` is the data the document shows; its digest, with the time and issuing node, is
    printed on every page and is what the verify page looks up.
    """
    started = time.perf_counter()
    generated_at = now()
    digest = hashlib.sha256(_canonical({"kind": kind, "tenant_id": tenant.id, "title": title,
                                        "generated_at": generated_at.isoformat(), "content": content})).hexdigest()
    doc = ExportDocument(tenant=tenant, kind=kind, title=title, content_sha256=digest, created_at=generated_at)
    from flask_login import current_user
    if current_user and getattr(current_user, "is_authenticated", False):
        doc.created_by_id = current_user.id
    db.session.add(doc)
    db.session.flush()
    html = render_template(template, doc=doc, tenant=tenant, chain=ancestors(tenant) + [tenant],
                           letterhead=letterhead(tenant), generated_at=local(generated_at, "%Y年%m月%d日 %H:%M"),
                           **context)
    pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=PortalFetcher()).write_pdf()
    doc.content = pdf
    doc.size = len(pdf)
    doc.file_sha256 = hashlib.sha256(pdf).hexdigest()
    doc.render_seconds = round(time.perf_counter() - started, 3)
    audit.record(tenant, "export.created", doc, {"kind": kind, "title": title, "content_sha256": digest,
                                                 "file_sha256": doc.file_sha256})
    return doc


def find_for_verification(*, file_bytes: bytes | None = None, code: str | None = None) -> list[dict]:
    """Documents matching an uploaded file or a printed code, each with its issuing chain.
    Public: looks across all tenants, and reveals only what the document itself already says."""
    with unscoped():
        if file_bytes is not None:
            sha = hashlib.sha256(file_bytes).hexdigest()
            stmt = select(ExportDocument).where(ExportDocument.file_sha256 == sha)
        else:
            code = "".join(ch for ch in (code or "").lower() if ch in "0123456789abcdef")
            if len(code) < 16:
                return []
            if len(code) == 64:
                stmt = select(ExportDocument).where(ExportDocument.content_sha256 == code)
            else:
                stmt = select(ExportDocument).where(ExportDocument.content_sha256.startswith(code))
        docs = db.session.execute(stmt.order_by(ExportDocument.id).limit(5)).scalars().all()
        return [{"doc": d, "chain": [t.name for t in ancestors(d.tenant)] + [d.tenant.name],
                 "by_file": file_bytes is not None} for d in docs]
