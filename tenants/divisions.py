"""Import the 2023 statistical divisions (province → township) as the government nodes of the tree.

The data ships with the package (tenants/data, see its README); nothing outside the project is
read at run time. The import is idempotent by division code and writes ~45k rows in bulk: ids
and materialized paths are computed here, because tenants.paths.attach costs two flushes a node.
"""
from __future__ import annotations

import csv
import functools
import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from portal.audit import service as audit
from portal.extensions import db
from tenants.models import Tenant
from tenants.scope import unscoped
from tenants.paths import TreeError, attach, insert_nodes, lock_tenants, node_row, reserve_ids

DATA = Path(__file__).resolve().parent / "data"
ROOT_NAME = "国务院安委会"
SOURCE = "modood/Administrative-divisions-of-China@57a0aa9cef47169a2eb74cf057b0245052a34e8c"
EDITION = "国家统计局 2023 年统计用区划代码"

# NBS rows that are a statistical grouping, not a government with a safety committee: the
# municipalities' 市辖区 / 县 (1101, 1201, 3101, 5001, 5002) and the 省直辖县级行政区划 groups
# (4190, 4290, 4690, 6590). Their counties answer to the province itself (天津市 → 河东区), so
# the province is their parent. Matched by name because the codes vary and the names do not.
PSEUDO_CITY_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# Cities without counties (东莞 4419, 中山 4420, 儋州 4604, 嘉峪关 6202) carry one pseudo-county
# of the same name (441900 东莞市) that owns all their townships. Both are kept: the city is a
# real prefecture-level government, counted at city level (省、市、县分别统计), and a street may
# only hang under a district (tenants.models.CHILD_KINDS), so the pseudo-county is the district
# that holds them. Dropping either would break one of those rules; the price is a name that
# appears twice on the path (东莞市 › 东莞市 › 虎门镇), with two different codes.


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    kind: str
    parent_code: str | None  # None: a province, directly under the root


def _rows(name: str):
    with gzip.open(DATA / f"{name}.csv.gz", "rt", encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


@functools.lru_cache(maxsize=1)
def load_divisions() -> tuple[Division, ...]:
    """Every division, parents before children (level by level, codes ascending within a level)."""
    out = [Division(r["code"], r["name"], "province", None) for r in _rows("provinces")]
    pseudo: dict[str, str] = {}  # pseudo-city code → its province's code
    for r in _rows("cities"):
        if r["name"] in PSEUDO_CITY_NAMES:
            pseudo[r["code"]] = r["provinceCode"]
        else:
            out.append(Division(r["code"], r["name"], "city", r["provinceCode"]))
    for r in _rows("areas"):
        parent = pseudo.get(r["cityCode"], r["cityCode"])
        out.append(Division(r["code"], r["name"], "district", parent))
    for r in _rows("streets"):
        out.append(Division(r["code"], r["name"], "street", r["areaCode"]))
    order = {"province": 0, "city": 1, "district": 2, "street": 3}
    out.sort(key=lambda d: (order[d.kind], d.code))
    return tuple(out)


def _county_codes(counties: Iterable[str] | None) -> list[str] | None:
    if counties is None:
        return None
    # A lone code is a str, which is itself an iterable of digits.
    return sorted({c.strip() for c in ([counties] if isinstance(counties, str) else counties)})


def select_divisions(province: str | None = None,
                     counties: Iterable[str] | None = None) -> list[Division]:
    """The divisions one run imports, parents before children."""
    divisions = load_divisions()
    by_code = {d.code: d for d in divisions}
    if province is not None:
        province = province.strip()
        if getattr(by_code.get(province), "kind", None) != "province":
            raise TreeError(f"没有省级区划代码“{province}”。")
    wanted: set[str] | None = None
    chosen_counties: set[str] = set()
    if counties is not None:
        chosen_counties = set(_county_codes(counties))
        unknown = sorted(c for c in chosen_counties
                         if getattr(by_code.get(c), "kind", None) != "district")
        if unknown:
            raise TreeError(f"没有县级区划代码：{'、'.join(unknown)}。")
        if province is not None:
            outside = sorted(c for c in chosen_counties if not c.startswith(province))
            if outside:
                raise TreeError(f"区县 {'、'.join(outside)} 不属于省级区划 {province}。")
        wanted = set()
        for code in chosen_counties:
            while code is not None and code not in wanted:
                wanted.add(code)
                code = by_code[code].parent_code
    chosen = []
    for d in divisions:
        # Division codes are hierarchical: every code in a province starts with its 2 digits.
        if province is not None and not d.code.startswith(province):
            continue
        if wanted is not None and d.code not in wanted and d.parent_code not in chosen_counties:
            continue
        chosen.append(d)
    return chosen


def _root() -> tuple[Tenant, bool]:
    roots = db.session.execute(
        select(Tenant).where(Tenant.kind == "national", Tenant.parent_id.is_(None))
        .order_by(Tenant.id)
    ).scalars().all()
    if not roots:
        return attach(Tenant(kind="national", name=ROOT_NAME, supervised_industries=[]), None), True
    if len(roots) > 1:
        roots = [r for r in roots if r.name == ROOT_NAME]
        if len(roots) != 1:
            raise TreeError(f"有多个国家级根节点，无法确定行政区划应导入到哪一个（应只有一个“{ROOT_NAME}”）。")
    return roots[0], False


def _insert_missing(chosen: list[Division], root: Tenant) -> tuple[int, int]:
    """Insert the divisions of `chosen` (parents first) whose code is not in the tree yet; a
    division whose parent code is unknown hangs under `root`. Returns (created, existing)."""
    tenants = Tenant.__table__
    lock_tenants()
    known: dict[str, tuple[int, str, int]] = {
        code: (id_, path, depth)
        for code, id_, path, depth in db.session.execute(
            select(tenants.c.code, tenants.c.id, tenants.c.path, tenants.c.depth)
            .where(tenants.c.code.is_not(None))
        )
    }
    rows: list[dict] = []
    new = [d for d in chosen if d.code not in known]
    existing = len(chosen) - len(new)
    next_id = reserve_ids()
    for d in new:
        parent_id, parent_path, parent_depth = (
            known[d.parent_code] if d.parent_code is not None else (root.id, root.path, root.depth))
        path = f"{parent_path}{next_id}/"
        rows.append(node_row(next_id, parent_id, path, parent_depth + 1, kind=d.kind, name=d.name, code=d.code))
        known[d.code] = (next_id, path, parent_depth + 1)
        next_id += 1
    insert_nodes(rows)
    return len(rows), existing


def chain(code: str) -> list[Division]:
    """The division of `code` and the divisions above it, top first (a pseudo-city is skipped)."""
    by_code = {d.code: d for d in load_divisions()}
    if code not in by_code:
        raise TreeError(f"没有区划代码“{code}”（2023 年统计用区划代码，省 2 位、市 4 位、县 6 位、乡镇 9 位）。")
    out = []
    while code is not None:
        out.append(by_code[code])
        code = by_code[code].parent_code
    return out[::-1]


def import_chain(code: str) -> Tenant:
    """Create the division of `code` with the levels above it (not below) under the national
    root; return its node. For a first install that starts at one county."""
    root, _ = _root()
    _insert_missing(chain(code.strip()), root)
    return db.session.execute(select(Tenant).where(Tenant.code == code.strip())).scalar_one()


def import_townships(county: Tenant, actor=None) -> dict:
    """Create the missing townships and streets of `county` from the bundled data, under it; the
    county's own admin does this from its node page. Runs in the caller's transaction, unscoped
    (division codes are unique across the whole tree)."""
    if county.kind != "district" or not county.code:
        raise TreeError(f"“{county.name}”不是带区划代码的区县，无法按区划导入乡镇街道。")
    chosen = [d for d in load_divisions() if d.parent_code == county.code]
    if not chosen:
        raise TreeError(f"随程序提供的区划数据中没有“{county.name}”（{county.code}）的乡镇街道。")
    with unscoped():
        created, existing = _insert_missing(chosen, county)
    audit.record(county, "divisions.imported", data={
        "import": "townships", "source": SOURCE, "edition": EDITION, "county": county.code,
        "created": created, "existing": existing}, actor=actor)
    return {"created": created, "existing": existing}


def import_divisions(province: str | None = None, counties: Iterable[str] | None = None) -> dict:
    """Create the missing division nodes under the national root; return created/existing counts.

    Runs in the caller's transaction (not committed here) and must be called unscoped. A node
    whose code already exists is left as it is, wherever it hangs, and its children go under it.
    """
    province = (province or "").strip() or None
    chosen = select_divisions(province, counties)
    lock_tenants()
    root, root_created = _root()
    inserted, existing = _insert_missing(chosen, root)
    created = inserted + (1 if root_created else 0)
    # One event per run, not per node: 45k chained events would cost more than the import.
    audit.record(root, "divisions.imported", data={
        "import": "divisions", "source": SOURCE, "edition": EDITION,
        "province": province, "counties": _county_codes(counties),
        "created": created, "existing": existing, "root_created": root_created,
    })
    return {"created": created, "existing": existing}
