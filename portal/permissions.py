"""What each role may do: asked by views (web.can, web.requires) and by services alike, so
neither the services nor tenants lean on the web layer."""
from __future__ import annotations

# What each role may do inside its scope. Reading is decided by scope alone.
PERMISSIONS = {
    "tenants.manage": {"admin"},
    "users.manage": {"admin"},
    # 三员分立: the admin who manages accounts does not read the audit of their own acts; discipline
    # and the auditor read and verify it, and manage no one.
    "audit.read": {"discipline", "auditor"},
    # The periodic jobs' runs (portal.schedule): tree-wide counts and timings, no records.
    "schedule.read": {"admin"},
    "exports.roster": {"admin", "leader", "staff", "discipline"},
    # Plans and tasks. A plan is issued, and a task assigned, reviewed (办结/退回) and urged (催办), by
    # the office of the issuing node: its admin, leader and staff. A task is signed, reported and
    # passed down by the receiving unit's own people: those three in a government node or
    # department, the principal and safety officer in an enterprise. Inspectors work in the field
    # and discipline reads and exports, so neither acts on tasks.
    "plans.manage": {"admin", "leader", "staff"},
    "plans.export": {"admin", "leader", "staff", "discipline"},
    "tasks.assign": {"admin", "leader", "staff"},
    "tasks.handle": {"admin", "leader", "staff", "principal", "safety_officer"},
    # Hazards. An enterprise's principal and safety officer record, rectify and import their own;
    # government and department staff and inspectors record what they find and accept or return
    # fixes; 挂牌督办 and key check items are decided by a level's admin (and leader).
    "hazards.record": {"admin", "staff", "inspector", "principal", "safety_officer"},
    "hazards.rectify": {"principal", "safety_officer"},
    "hazards.review": {"admin", "leader", "staff", "inspector"},
    "hazards.list": {"admin", "leader"},
    "standards.publish": {"admin"},
    "tips.verify": {"admin", "staff"},
    # 一企一码: the territorial admin issues, revokes and reissues an enterprise's code.
    "codes.manage": {"admin"},
    # API tokens (portal.api) are created and revoked by the unit's admin, as accounts are.
    "api.manage": {"admin"},
    # Responsibility lists. A level's office (admin, staff) and an enterprise's principal and safety
    # officer write their own list items; a unit's own people fill its lists and duty records; only
    # the person who answers for the unit signs: the principal, or a government node's leader.
    "checklists.templates": {"admin", "staff", "principal", "safety_officer"},
    "checklists.fill": {"admin", "leader", "staff", "principal", "safety_officer"},
    "checklists.sign": {"leader", "principal"},
    # Inspections and accountability. Inspectors and staff of a government node or department keep
    # their unit's inspection records (every listed inspector signs for themself); accidents are
    # recorded by any government role but discipline; discipline reads everything in its subtree and
    # writes only accountability records, which leaders may write too.
    "inspections.write": {"inspector", "staff"},
    "accidents.record": {"admin", "leader", "staff", "inspector"},
    # An enterprise reports its own accidents at once (its principal or safety officer); its
    # township or street confirms them with accidents.record.
    "accidents.report": {"principal", "safety_officer"},
    "accountability.trace": {"admin", "leader", "staff", "inspector", "discipline"},
    "accountability.write": {"discipline", "leader"},
    # A 提醒函/督办函 is answered by the office of the unit it is addressed to, as its tasks are.
    "letters.reply": {"admin", "leader", "staff", "principal", "safety_officer"},
    # Dispatch tables. A unit's office types its few figures and submits; its admin and leader
    # approve, return and urge the units below; discipline reads and exports.
    "dispatch.define": {"admin"},
    "dispatch.fill": {"admin", "leader", "staff"},
    "dispatch.review": {"admin", "leader"},
    "dispatch.export": {"admin", "leader", "staff", "discipline"},
    # Summaries (月小结, 季通报 …): a level's office drafts, edits and issues its own.
    "summaries.write": {"admin", "leader", "staff"},
}


def allows(membership, permission: str) -> bool:
    """Whether the acting membership's role grants `permission` (its scope is tenants.scope's)."""
    return membership is not None and membership.role in PERMISSIONS[permission]
