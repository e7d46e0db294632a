"""The typed rules a plan clause may carry, how each reads in Chinese, and which of two values is
stricter. Values are stored as TenantSetting rows `plan.<campaign id>.<rule code>` through
tenants.inherit, which refuses a child's value looser than its parent's with the check below and
resolves the strictest of every level (and supervising department) that sets one.

Two shapes:
- frequency: how often something must happen, for every unit and (optionally) for high-risk
  enterprises: {"all": {"times": 1, "per": "quarter"}, "high_risk": {"times": 1, "per": "month"}}.
  Stricter is more often: more times per year.
- report: when the dispatch table is due: {"period": "month", "due_day": 5, "cumulative": true}.
  Stricter is a shorter period, or the same period due earlier; a cumulative table stays cumulative.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from tenants import inherit

# Period → (label, length in days). "campaign" is once during the whole action.
PERIODS = {
    "week": ("周", 7),
    "half_month": ("半月", 15),
    "month": ("月", 30),
    "quarter": ("季度", 91),
    "half_year": ("半年", 182),
    "year": ("年", 365),
}
WEEKDAYS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "日"}
PARTS = {"all": "", "high_risk": "高危行业领域企业"}


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    shape: str  # "frequency" or "report"


RULES = {r.code: r for r in (
    Rule("principal_inspection", "主要负责人带队检查重大事故隐患排查整治情况", "frequency"),
    Rule("drill", "事故应急救援预案演练", "frequency"),
    Rule("key_post_check", "动火等危险作业及关键岗位人员岗位责任排查", "frequency"),
    Rule("warning_education", "全员安全警示教育", "frequency"),
    Rule("outsourcing_check", "外包外租、分包转包全面排查", "frequency"),
    Rule("progress_circular", "通报排查整治进展情况", "frequency"),
    Rule("dispatch_report", "调度表上报", "report"),
)}


class RuleError(ValueError):
    """A rule value of the wrong shape; the message is for the user."""


def key(campaign_id: int, code: str) -> str:
    return f"plan.{campaign_id}.{code}"


def _rate(part: dict) -> Fraction:
    return Fraction(part["times"] * 365, PERIODS[part["per"]][1])


def _describe_part(part: dict) -> str:
    return f"每{PERIODS[part['per']][0]}至少 {part['times']} 次"


def describe(code: str, value: dict | None) -> str:
    if not value:
        return "未规定"
    if RULES[code].shape == "frequency":
        text = _describe_part(value["all"])
        if "high_risk" in value:
            text += f"（{PARTS['high_risk']}{_describe_part(value['high_risk'])}）"
        return text
    period = value["period"]
    due = value.get("due_day")
    if period == "week":
        text = f"每周{WEEKDAYS[due]}上报" if due else "每周上报"
    elif period == "month":
        text = f"每月 {due} 日前上报上月情况" if due else "每月上报"
    elif period == "quarter":
        text = f"每季度末月 {due} 日前上报当季情况" if due else "每季度上报"
    else:
        text = f"每{PERIODS[period][0]}上报"
    return text + ("（累计数据）" if value.get("cumulative") else "")


def clean(code: str, value: dict) -> dict:
    """`value` in its stored shape, or RuleError naming what is wrong."""
    if code not in RULES:
        raise RuleError("未知的规则。")
    if RULES[code].shape == "frequency":
        out = {}
        for part in PARTS:
            given = value.get(part)
            if not given:
                continue
            per, times = given.get("per"), given.get("times")
            if per not in PERIODS:
                raise RuleError("请选择频次的周期（周、月、季度……）。")
            if not isinstance(times, int) or not 1 <= times <= 100:
                raise RuleError("次数应为 1 到 100 之间的整数。")
            out[part] = {"times": times, "per": per}
        if "all" not in out:
            raise RuleError("请填写一般要求的频次。")
        return out
    period, due = value.get("period"), value.get("due_day")
    if period not in PERIODS:
        raise RuleError("请选择上报周期。")
    if due is not None:
        limit = {"week": 7, "month": 28, "quarter": 28}.get(period)
        if limit is None:
            raise RuleError(f"按{PERIODS[period][0]}上报时不设截止日。")
        if not isinstance(due, int) or not 1 <= due <= limit:
            raise RuleError("每周上报的截止日填 1（周一）到 7（周日）。" if period == "week"
                            else f"截止日应为 1 到 {limit} 日。")
    return {"period": period, "due_day": due, "cumulative": bool(value.get("cumulative"))}


def looser(code: str, parent: dict, child: dict) -> str | None:
    """Why `child` relaxes `parent` (a message naming the parent's value), or None."""
    if RULES[code].shape == "frequency":
        for part, label in PARTS.items():
            if part in parent and _rate(child.get(part) or child["all"]) < _rate(parent[part]):
                return (f"不得放宽上级规定：上级要求{label}{_describe_part(parent[part])}，"
                        f"本级填写的{label or '一般要求'}为{_describe_part(child.get(part) or child['all'])}。")
        return None
    p_days, c_days = PERIODS[parent["period"]][1], PERIODS[child["period"]][1]
    if c_days > p_days or (c_days == p_days and parent.get("due_day")
                           and (not child.get("due_day") or child["due_day"] > parent["due_day"])):
        return f"不得放宽上级规定：上级要求“{describe(code, parent)}”，本级填写为“{describe(code, child)}”。"
    if parent.get("cumulative") and not child.get("cumulative"):
        return f"不得放宽上级规定：上级要求“{describe(code, parent)}”，须报累计数据。"
    return None


def merge(code: str, parent: dict | None, child: dict) -> dict:
    """The child's value with every part the child left out taken from its parent."""
    if RULES[code].shape == "frequency" and parent:
        return {**parent, **child}
    return child


def strictest(code: str, a: dict, b: dict) -> dict:
    """The stricter of two values, part by part: what a child keeps when its parent tightens."""
    if RULES[code].shape == "frequency":
        out = dict(b)
        for part, value in a.items():
            if part not in out or _rate(value) > _rate(out[part]):
                out[part] = value
        return out
    # Shorter period first, then the earlier due day; a value without a due day is due last.
    first = min((a, b), key=lambda v: (PERIODS[v["period"]][1], v.get("due_day") or 99))
    return {**first, "cumulative": bool(a.get("cumulative") or b.get("cumulative"))}


def applicable(code: str, value: dict | None, high_risk: bool) -> dict | None:
    """The part of a frequency rule that binds one enterprise: the stricter one if it is high-risk."""
    if not value or RULES[code].shape != "frequency":
        return value
    if high_risk and "high_risk" in value and _rate(value["high_risk"]) > _rate(value["all"]):
        return value["high_risk"]
    return value["all"]


for _code in RULES:
    inherit.register_check(key("*", _code), lambda parent, child, code=_code: looser(code, parent, child),
                           strictest=lambda a, b, code=_code: strictest(code, a, b))
