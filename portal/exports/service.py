"""Render page templates to PDF with an inherited letterhead, and vouch for what was rendered."""
from __future__ import annotations

import base64
import gc
import hashlib
import json
import mimetypes
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from flask import current_app, render_template
from sqlalchemy import select
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal.audit import service as audit
from portal.database import read_only
from portal.errors import Refused
from portal.exports import access
from portal.exports.models import ExportDocument
from portal.extensions import db
from portal.uploads.service import image_type
from tenants import inherit
from tenants.clock import local, now
from tenants.models import Membership, Tenant
from tenants.scope import Scope, scoped_as, unscoped
from tenants.service import ancestors, roster

LETTERHEAD = "exports.letterhead"
SEAL_MAX_BYTES = 512 * 1024
SEAL_TYPES = {"image/png", "image/jpeg"}
BASE_URL = "portal:/"


class ExportError(Refused):
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


@contextmanager
def _no_cycle_collection():
    """Keep Python's cyclic garbage collector off while WeasyPrint lays out and writes a document.

    Layout allocates millions of objects that all stay alive until the PDF is written, so every
    automatic collection walks a tree that only grows: 3.4 s of the 17.8 s CPU of a 1,000-row
    ledger (14 full and 233 middle collections), 1.0 s of the 6.5 s of the 5-year dossier. With
    the collector off the peak memory stayed the same (468 MiB), so layout leaves next to no
    cyclic garbage; what it leaves is collected as usual once the collector is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def layout_pdf(html: str, laid_out: Callable[[], None] = lambda: None) -> bytes:
    """The PDF of a document's HTML, as every export lays it out (benches time this very call);
    `laid_out` is called between layout and writing, to report progress."""
    with _no_cycle_collection():
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=PortalFetcher()).render()
        laid_out()
        return document.write_pdf()


def letterhead(tenant: Tenant) -> dict:
    """The nearest letterhead on the path, with the node that set it."""
    value, owner = inherit.resolve_with_owner(tenant, LETTERHEAD)
    if value is None:
        return {"header": f"{tenant.name}安全生产委员会办公室" if tenant.is_government else tenant.name,
                "footer": "", "seal": None, "owner": None}
    return {**value, "owner": owner.tenant if owner else None}


def set_letterhead(tenant: Tenant, header: str, footer: str, seal: bytes | None, keep_seal: bool, *,
                   actor: Membership | None = None) -> None:
    header, footer = header.strip(), footer.strip()
    if not header:
        raise ExportError("文头不能为空。")
    seal_uri = None
    if seal:
        # Typed by its bytes, never by the file's name or the browser's word: the seal is
        # embedded in every PDF below this node.
        seal_type = image_type(seal)
        if seal_type not in SEAL_TYPES:
            raise ExportError("印章图片须为 PNG 或 JPEG 图片（按文件内容识别），请检查文件。")
        if len(seal) > SEAL_MAX_BYTES:
            raise ExportError("印章图片不能超过 512 KB。")
        seal_uri = f"data:{seal_type};base64,{base64.b64encode(seal).decode()}"
    elif keep_seal:
        own, owner = inherit.resolve_with_owner(tenant, LETTERHEAD)
        seal_uri = own.get("seal") if owner is not None and owner.tenant_id == tenant.id else None
    inherit.set_value(tenant, LETTERHEAD, {"header": header, "footer": footer, "seal": seal_uri})
    audit.record(tenant, "setting.updated", data={"key": LETTERHEAD, "header": header, "footer": footer,
                                                  "seal": bool(seal_uri)}, actor=actor)


def clear_letterhead(tenant: Tenant, *, actor: Membership | None = None) -> bool:
    cleared = inherit.clear_value(tenant, LETTERHEAD)
    if cleared:
        audit.record(tenant, "setting.cleared", data={"key": LETTERHEAD}, actor=actor)
    return cleared


def _canonical(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


@dataclass
class Built:
    """What a builder hands the renderer: the page template, the data the document shows (its
    digest is printed and verified), and anything else the template needs. A document that is not
    a PDF has no template but `write`, called with the context a template would get."""

    template: str | None
    content: dict
    context: dict = field(default_factory=dict)
    write: Callable[[dict], bytes] | None = None
    # Params the stored document must not keep once its file exists (initial passwords: the
    # printed letters are their only copy).
    forget: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileType:
    mimetype: str
    extension: str
    label: str


FILE_TYPES = {
    "pdf": FileType("application/pdf", "pdf", "PDF"),
    "xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "Excel"),
    "docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "Word"),
}
Builder = Callable[[Tenant, dict], Built]
_builders: dict[str, Builder] = {}
_file_types: dict[str, str] = {}


def builder(kind: str, *, readers: access.Readers, file_type: str = "pdf"):
    """Register how documents of `kind` are built and who may read them (portal.exports.access);
    modules above exports register theirs."""
    def register(fn: Builder) -> Builder:
        _builders[kind] = fn
        _file_types[kind] = file_type
        access.declare(kind, readers)
        return fn
    return register


def file_type(kind: str) -> FileType:
    return FILE_TYPES[_file_types.get(kind, "pdf")]


def request_export(tenant: Tenant, *, kind: str, title: str, params: dict | None = None,
                   actor: Membership | None = None) -> ExportDocument:
    """Queue a document for `tenant`; the caller commits, then hands its id to jobs.submit."""
    if kind not in _builders:
        raise ExportError("未知的导出类型。")
    doc = ExportDocument(tenant=tenant, kind=kind, title=title, params=params or {}, status="queued", progress=0)
    doc.created_by_id = actor.user_id if actor else None
    db.session.add(doc)
    db.session.flush()
    # Whoever makes a file must be able to read it: read back through the scope and the kind's readers.
    if db.session.execute(select(ExportDocument.id).where(ExportDocument.id == doc.id)).scalar() is None:
        raise ExportError("您的角色不能导出这类文件。")
    return doc


def _progress(doc: ExportDocument, status: str, progress: int) -> None:
    doc.status, doc.progress = status, progress
    db.session.commit()


def _prepared(doc: ExportDocument) -> tuple[Built, str, object, str | bytes]:
    """(built, content digest, generated at, HTML to lay out or the finished file) of a queued
    document, read in a read-only transaction that is closed before returning."""
    # No autoflush: the digest set on `doc` for the template must not turn this read into a
    # write (on SQLite a read snapshot that the heartbeat has since passed cannot become one).
    with read_only(), db.session.no_autoflush:
        built = _builders[doc.kind](doc.tenant, doc.params)
        generated_at = now()
        digest = hashlib.sha256(_canonical({
            "kind": doc.kind, "tenant_id": doc.tenant_id, "title": doc.title,
            "generated_at": generated_at.isoformat(), "content": built.content})).hexdigest()
        doc.content_sha256 = digest
        context = dict(doc=doc, tenant=doc.tenant, chain=ancestors(doc.tenant) + [doc.tenant],
                       letterhead=letterhead(doc.tenant),
                       generated_at=local(generated_at, "%Y年%m月%d日 %H:%M"), **built.context)
        out = built.write(context) if built.write is not None else render_template(built.template, **context)
        db.session.rollback()  # end the read transaction before the long layout
    return built, digest, generated_at, out


def document_html(doc_id: int, scope: Scope) -> str:
    """The HTML a queued document would be laid out from, as its export renders it (benches
    compare the layout engines on it); changes nothing."""
    with scoped_as(scope):
        doc = db.session.execute(select(ExportDocument).where(ExportDocument.id == doc_id)).scalar_one()
        return _prepared(doc)[3]


def run_export(doc_id: int, scope: Scope) -> None:
    """Build, lay out and store one queued document, reading only what `scope` may read.

    Progress is committed as it goes so the waiting page can show it; the finished file, its
    digests and the audit event are committed together at the end. Reads happen in deferred
    transactions, and none is open during layout, so a long export never holds the write lock.
    """
    started = time.perf_counter()
    with scoped_as(scope):
        doc = db.session.execute(select(ExportDocument).where(ExportDocument.id == doc_id)).scalar_one()
        try:
            _progress(doc, "running", 5)
            built, digest, generated_at, data = _prepared(doc)
            _progress(doc, "running", 30)
            if built.write is None:
                data = layout_pdf(data, lambda: _progress(doc, "running", 80))
            doc.content_sha256 = digest
            doc.created_at = generated_at
            doc.params = {k: v for k, v in doc.params.items() if k not in built.forget}
            doc.content = data
            doc.size = len(data)
            doc.file_sha256 = hashlib.sha256(data).hexdigest()
            doc.render_seconds = round(time.perf_counter() - started, 3)
            doc.status, doc.progress = "done", 100
            audit.record(doc.tenant, "export.created", doc, {
                "kind": doc.kind, "title": doc.title, "content_sha256": digest, "file_sha256": doc.file_sha256},
                actor=doc.created_by)
            db.session.commit()
        except Exception:
            current_app.logger.exception("export %s failed", doc_id)
            db.session.rollback()
            doc = db.session.get(ExportDocument, doc_id)
            doc.status, doc.error = "failed", "生成失败，已记录错误。请稍后重试；如多次失败，请联系管理员。"
            db.session.commit()


# Names, posts and accounts of people: the offices that manage them, not inspectors or enterprises.
@builder("roster", readers=access.readers("admin", "leader", "staff", "discipline"))
def build_roster(tenant: Tenant, params: dict) -> Built:
    rows = roster(tenant)
    content = [{"unit": t.name, "kind": t.kind, "credit_code": t.credit_code,
                "members": [[m.user.username, m.user.display_name, m.role] for m in ms]} for t, ms in rows]
    return Built("exports/roster.html", {"rows": content}, {"rows": rows})


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
        return [_provenance(d, by_file=file_bytes is not None) for d in docs]


def _provenance(doc: ExportDocument, by_file: bool) -> dict:
    """Who issued a document: the unit of the person who generated it (a dossier about an
    enterprise, or a record filed under it, is issued by the level that asked for it), and that
    person; the unit it is filed under when that is another."""
    requester = db.session.get(Membership, doc.membership_id) if doc.membership_id else None
    issuer = requester.tenant if requester is not None else doc.tenant
    person = doc.created_by
    return {"doc": doc, "by_file": by_file, "chain": [t.name for t in ancestors(issuer)] + [issuer.name],
            "generated_by": (f"{person.display_name}（{person.post}）" if person.post else person.display_name)
            if person is not None else "", "filed_under": doc.tenant.name if doc.tenant_id != issuer.id else ""}
