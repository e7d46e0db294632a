"""Summaries of a node for a period, composed from the hazard records: the node's figures, each
unit below ranked (the dispatch rows of portal.hazards, so every figure opens in the ledger as its
hazards), the lagging named (通报) and the best commended (表扬). The author edits the narrative
paragraphs; issuing freezes it and makes the 公文 PDF and the .docx through portal.exports."""
from __future__ import annotations

import calendar
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from portal.audit import service as audit
from portal.checklists import service as checklists
from portal.database import compare_and_set
from portal.errors import Refused
from portal.exports import access
from portal.exports import service as exports
from portal.extensions import db
from portal.hazards import service as hazards
from portal.permissions import allows
from portal.summaries.models import KINDS, Summary
from portal.targets import service as targets
from tenants import clock
from tenants.models import Membership, Tenant

# The dispatch rows a summary counts, by column.
COLUMNS = {"hazards.self_found": "企业自查发现", "hazards.self_rectified": "其中已整改",
           "hazards.dept_found": "部门检查发现", "hazards.dept_rectified": "其中已整改",
           "stock.open": "存量未销号", "zero.overdue": "逾期未整改"}
NAMED = 3  # units named for lagging, and commended, at most
PARAGRAPHS = ("总体情况", "通报", "表扬", "下步工作")


class SummaryError(Refused):
    pass


def period_of(kind: str, day: date) -> tuple[date, date]:
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if kind == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if kind == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        return date(day.year, first, 1), date(day.year, first + 2, calendar.monthrange(day.year, first + 2)[1])
    if kind == "half_year":
        return (date(day.year, 1, 1), date(day.year, 6, 30)) if day.month <= 6 else \
            (date(day.year, 7, 1), date(day.year, 12, 31))
    if kind == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise SummaryError("请选择总结类型。")


def period_label(kind: str, start: date, end: date) -> str:
    return {"week": f"{start:%Y年%m月%d日}至{end:%m月%d日}", "month": f"{start.year}年{start.month}月",
            "quarter": f"{start.year}年第{(start.month + 2) // 3}季度",
            "half_year": f"{start.year}年{'上' if start.month == 1 else '下'}半年", "year": f"{start.year}年"}[kind]


@dataclass
class Row:
    """One unit's line: its figures by dispatch row, its rectification rate and rank."""

    id: int
    name: str
    figures: dict
    rank: int = 0

    @property
    def found(self) -> int:
        return self.figures["hazards.self_found"] + self.figures["hazards.dept_found"]

    @property
    def rectified(self) -> int:
        return self.figures["hazards.self_rectified"] + self.figures["hazards.dept_rectified"]

    @property
    def rate(self) -> int:
        return 100 if self.found == 0 else round(100 * self.rectified / self.found)

    @property
    def lagging(self) -> bool:
        return self.figures["zero.overdue"] > 0 or self.figures["stock.open"] > 0

    def key(self):
        """Best first: nothing overdue, no stock left, the higher rate, more found."""
        return (self.figures["zero.overdue"], self.figures["stock.open"], -self.rate, -self.found, self.name)


def rows_of(summary: Summary) -> tuple[Row, list[Row]]:
    f = summary.figures
    return Row(**f["node"]), [Row(**r) for r in f["units"]]


def compose_figures(node: Tenant, start: date, end: date) -> dict:
    """The node's figures and each unit's below, ranked: three grouped queries' worth."""
    conditions = hazards.dispatch_conditions(node, start, end)
    mine = hazards.dispatch_figures(node, start, end)
    units = [Row(t.id, t.name, n) for t, n in targets.by_unit(node, {c: conditions[c] for c in COLUMNS}, end)]
    units.sort(key=Row.key)
    for i, r in enumerate(units, 1):
        r.rank = i
    lagging = [r for r in reversed(units) if r.lagging][:NAMED]
    best = [r for r in units if not r.lagging and r.found][:NAMED]
    return {"node": {"id": node.id, "name": node.name, "figures": {c: mine[c] for c in COLUMNS}},
            "units": [vars(r) for r in units], "lagging": [r.id for r in lagging], "best": [r.id for r in best]}


def _paragraphs(node: Tenant, label: str, figures: dict) -> list[str]:
    mine = Row(**figures["node"])
    units = {r["id"]: Row(**r) for r in figures["units"]}
    m = mine.figures
    overview = (f"{label}，{node.name}共排查发现重大事故隐患 {mine.found} 项（企业自查 {m['hazards.self_found']} 项、"
                f"部门检查 {m['hazards.dept_found']} 项），已整改 {mine.rectified} 项，整改率 {mine.rate}%；"
                f"2023年及以前存量尚有 {m['stock.open']} 项未销号，逾期未整改 {m['zero.overdue']} 项。")
    lagging = [units[i] for i in figures["lagging"]]
    circular = ("以下单位工作进展滞后，予以通报：" + "；".join(
        f"{r.name}（存量未销号 {r.figures['stock.open']} 项、逾期未整改 {r.figures['zero.overdue']} 项，排名第 {r.rank}）"
        for r in lagging) + "。请上述单位认真分析原因，限期整改到位。") if lagging else "本期没有需要通报的单位。"
    best = [units[i] for i in figures["best"]]
    commended = ("以下单位隐患整改到位、无逾期未整改隐患，予以表扬：" + "；".join(
        f"{r.name}（发现 {r.found} 项、整改率 {r.rate}%）" for r in best) + "。") if best else "本期没有予以表扬的单位。"
    return [overview, circular, commended,
            "下一步，各单位要对照三年行动目标，紧盯存量清零和逾期隐患，落实“五落实”要求，确保闭环管理。"]


def may_write(summary_or_node, actor: Membership) -> bool:
    """A summary is written by its own level's office (admin, leader, staff), nobody below or above."""
    node_id = summary_or_node.tenant_id if isinstance(summary_or_node, Summary) else summary_or_node.id
    return allows(actor, "summaries.write") and actor.tenant_id == node_id


def compose(node: Tenant, kind: str, day: date, actor: Membership) -> Summary:
    """The draft summary of `node` for the period of `kind` holding `day` (the same one again if
    it exists): figures counted now and frozen in it, paragraphs written from them to be edited."""
    if not may_write(node, actor):
        raise SummaryError("只有本级的管理员、领导和工作人员可以起草本级的总结。")
    if kind not in KINDS:
        raise SummaryError("请选择总结类型。")
    start, end = period_of(kind, day)
    if start > clock.today():
        raise SummaryError("该期尚未开始，不能生成总结。")
    found = db.session.execute(select(Summary).where(Summary.tenant_id == node.id, Summary.kind == kind,
                                                     Summary.period_end == end)).scalar_one_or_none()
    if found is not None:
        return found
    label = period_label(kind, start, end)
    figures = compose_figures(node, start, end)
    summary = Summary(tenant=node, kind=kind, period_start=start, period_end=end,
                      title=f"{node.name}{label}重大事故隐患排查整治{KINDS[kind]}", figures=figures,
                      paragraphs=_paragraphs(node, label, figures), created_by_id=actor.user_id)
    db.session.add(summary)
    db.session.flush()
    audit.record(node, "summary.composed", summary, {"title": summary.title}, actor=actor)
    return summary


def edit(summary: Summary, paragraphs: list[str], doc_number: str, actor: Membership) -> Summary:
    if not may_write(summary, actor):
        raise SummaryError("只有本级的管理员、领导和工作人员可以修改本级的总结。")
    cleaned = [p.strip() for p in paragraphs]
    if len(cleaned) != len(summary.paragraphs) or not all(cleaned):
        raise SummaryError("每一段都不能为空。")
    if any(len(p) > 4000 for p in cleaned):
        raise SummaryError("每段不超过 4000 字。")
    if summary.status != "draft":
        _frozen()
    compare_and_set(summary, "status", "该总结已印发，不能再修改。", paragraphs=cleaned,
                    doc_number=doc_number.strip()[:64])
    audit.record(summary.tenant, "summary.edited", summary, {"title": summary.title}, actor=actor)
    return summary


def _frozen():
    raise SummaryError("该总结已印发，不能再修改。")


def issue(summary: Summary, actor: Membership):
    """Freeze the summary and queue its PDF and .docx: (pdf, docx) documents to hand to jobs."""
    if not may_write(summary, actor):
        raise SummaryError("只有本级的管理员、领导和工作人员可以印发本级的总结。")
    if summary.status != "draft":
        _frozen()
    pdf = exports.request_export(summary.tenant, kind="summary", title=summary.title,
                                 params={"summary_id": summary.id}, actor=actor)
    docx = exports.request_export(summary.tenant, kind="summary.docx", title=summary.title,
                                  params={"summary_id": summary.id}, actor=actor)
    compare_and_set(summary, "status", "该总结刚刚已被他人印发。", status="issued", issued_at=clock.now(),
                    issued_by_id=actor.user_id, pdf_id=pdf.id, docx_id=docx.id)
    audit.record(summary.tenant, "summary.issued", summary, {"title": summary.title, "pdf": pdf.id,
                                                             "docx": docx.id}, actor=actor)
    if summary.kind in CIRCULARS:
        checklists.refresh([summary.tenant], clock.today())  # the level's 通报 duty is judged again at once
    return pdf, docx


# How a level 通报排查整治进展情况 (002_: 每半年; 003_: 季通报): an issued quarterly, half-yearly or
# yearly summary. The levels of territory answer for it; a village or department does not circulate.
CIRCULARS = ("quarter", "half_year", "year")
CIRCULATING = ("province", "city", "district", "street")


@checklists.unit_duty
def _circulars(units: list[Tenant], today: date) -> dict[int, list]:
    """Each level's failures of the plan rule progress_circular, judged from its issued circulars."""
    units = [u for u in units if u.kind in CIRCULATING]
    if not units:
        return {}
    issued = defaultdict(list)
    for tenant_id, issued_at in db.session.execute(select(Summary.tenant_id, Summary.issued_at).where(
            Summary.tenant_id.in_([u.id for u in units]), Summary.status == "issued", Summary.kind.in_(CIRCULARS))):
        issued[tenant_id].append(clock.day_of(issued_at))
    return {u.id: checklists.periodic_findings(u, "progress_circular", "no_circular", "未通报排查整治进展情况",
                                               issued[u.id], today) for u in units}


def listed(home: Tenant):
    """The summaries a level sees: its own (drafts too) and the issued ones of the levels below."""
    return (select(Summary).where((Summary.tenant_id == home.id) | (Summary.status == "issued"))
            .order_by(Summary.period_end.desc(), Summary.id.desc()))


def _content(summary: Summary) -> dict:
    return {"id": summary.id, "title": summary.title, "doc_number": summary.doc_number, "kind": summary.kind,
            "start": summary.period_start.isoformat(), "end": summary.period_end.isoformat(),
            "figures": summary.figures, "paragraphs": summary.paragraphs}


def _issued(params: dict) -> Summary:
    return db.session.execute(select(Summary).where(Summary.id == params["summary_id"])).scalar_one()


# The level's office and those above: the same people who read the dispatch tables' exports.
READERS = access.readers("admin", "leader", "staff", "discipline")


@exports.builder("summary", readers=READERS)
def build_pdf(tenant: Tenant, params: dict) -> exports.Built:
    summary = _issued(params)
    node, units = rows_of(summary)
    return exports.Built("summaries/document.html", _content(summary),
                         {"summary": summary, "node": node, "units": units, "columns": COLUMNS})


@exports.builder("summary.docx", readers=READERS, file_type="docx")
def build_docx(tenant: Tenant, params: dict) -> exports.Built:
    summary = _issued(params)
    return exports.Built(None, _content(summary), write=lambda context: write_docx(summary, context))


def write_docx(summary: Summary, context: dict) -> bytes:
    """The summary as Word: the letterhead, 文号, title, the edited paragraphs and the table by unit,
    with the verification code, so an office can go on editing it."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    document = Document()
    head = document.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(context["letterhead"]["header"])
    run.bold, run.font.size, run.font.color.rgb = True, Pt(22), RGBColor(0xC0, 0, 0)
    if summary.doc_number:
        document.add_paragraph(summary.doc_number).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading(summary.title, level=1).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for title, text in zip(PARAGRAPHS, summary.paragraphs):
        document.add_heading(title, level=2)
        document.add_paragraph(text)
    node, units = rows_of(summary)
    table = document.add_table(rows=1, cols=len(COLUMNS) + 3)
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, ["排名", "单位", *COLUMNS.values(), "整改率"]):
        cell.text = label
    for r in units:
        values = [str(r.rank), r.name, *[str(r.figures[c]) for c in COLUMNS], f"{r.rate}%"]
        for cell, value in zip(table.add_row().cells, values):
            cell.text = value
    document.add_paragraph(f"{context['letterhead']['header']}　{summary.issued_at:%Y年%m月%d日}"
                           if summary.issued_at else context["letterhead"]["header"])
    doc = context["doc"]
    document.add_paragraph(f"生成时间：{context['generated_at']}　文件编号：EXP-{doc.id:06d}　"
                           f"校验码 {doc.code}（在本平台“文件核验”页面核验）")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
