"""The OpenAPI 3 description of /api/v1/, served as JSON and rendered by the docs page."""
from __future__ import annotations

from functools import lru_cache

from portal.hazards.models import LEVELS, SOURCES, STATUSES as HAZARD_STATUSES
from portal.inspections.models import KINDS as INSPECTION_KINDS, STATUSES as INSPECTION_STATUSES
from tenants.models import KINDS


def _list(item: str, description: str, params: list[dict] | None = None) -> dict:
    return {"get": {"summary": description, "parameters": [*(params or []), {"$ref": "#/components/parameters/cursor"},
                                                              {"$ref": "#/components/parameters/limit"}],
                    "responses": {"200": {"description": "一页记录（按编号升序）",
                                          "content": {"application/json": {"schema": {
                                              "type": "object", "properties": {
                                                  "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
                                                  "next_cursor": {"type": "string", "nullable": True,
                                                                  "description": "下一页的 cursor；没有下一页时为 null"}}}}}},
                                  **_errors("401", "429")}}}


def _errors(*codes: str) -> dict:
    text = {"400": "请求格式有误", "401": "缺少或无效的令牌", "403": "令牌的角色无权进行此操作",
            "404": "不存在，或不在令牌单位的管辖范围内", "422": "内容不符合规则（message 说明如何修改）",
            "409": "与已记录的内容冲突（message 说明）", "429": "调用过于频繁（见 Retry-After）"}
    return {c: {"description": text[c], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for c in codes}


def _enum(values: dict, description: str) -> dict:
    return {"type": "string", "enum": list(values), "description": description + "：" +
            "，".join(f"{k} {v}" for k, v in values.items())}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _one(item: str, name: str, description: str) -> dict:
    return {"get": {"summary": description,
                    "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "记录", "content": {"application/json": {
                        "schema": {"$ref": f"#/components/schemas/{item}"}}}}, **_errors("401", "404", "429")}}}


def _create(description: str, body: str) -> dict:
    return {"post": {"summary": description, "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{body}"}}}},
        "responses": {"201": {"description": "已登记（Location 为新隐患的地址）", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Hazard"}}}}, **_errors("400", "401", "403", "404", "422", "429")}}}


@lru_cache(maxsize=1)
def document() -> dict:
    within = _query("within", {"type": "integer"}, "只列该单位（街道、企业等）辖区内的记录")
    date = {"type": "string", "format": "date"}
    finding = {"type": "object", "required": ["level", "description", "found_at"], "properties": {
        "level": _enum(LEVELS, "隐患级别"), "description": {"type": "string", "maxLength": 500},
        "location": {"type": "string", "maxLength": 200}, "found_at": date,
        "standard_item_id": {"type": "integer", "description": "判定依据条款；重大事故隐患必填（有适用标准时）"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "重大事故隐患排查整治 · 分级协同平台 接口", "version": "1",
                 "description": "每个调用在请求头中带 Authorization: Bearer <令牌>。令牌由单位管理员在单位页面“接口令牌”中建立，"
                                "只显示一次，平台只保存其摘要。令牌按所选角色、以本单位用户相同的范围读写：管辖范围外的记录一律 404。"
                                "每个令牌每分钟的调用次数有限（超出为 429，见 Retry-After），每次调用记入本单位审计链。"
                                "列表按编号升序分页：把返回的 next_cursor 作为下一次的 cursor 参数。错误为 JSON：{\"error\": {\"status\", \"message\"}}，message 为中文。"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "paths": {
            "/nodes": _list("Node", "管辖范围内的单位（本单位及下级、监管的企业）",
                            [_query("kind", _enum(KINDS, "单位类型"), "只列该类型")]),
            "/nodes/{node_id}": _one("Node", "node_id", "一个单位"),
            "/hazards": {**_list("Hazard", "隐患台账", [
                _query("status", _enum(HAZARD_STATUSES, "状态"), "只列该状态"),
                _query("level", _enum(LEVELS, "级别"), "只列该级别"),
                _query("source", _enum(SOURCES, "来源"), "只列该来源"), within]),
                **_create("部门或政府层级登记在管辖企业发现的隐患（来源：部门检查）", "NewHazard")},
            "/hazards/{hazard_id}": _one("Hazard", "hazard_id", "一条隐患"),
            "/self-reports": _create("企业上报自查发现的隐患（企业令牌；来源：企业自查）", "Finding"),
            "/inspections": _list("Inspection", "检查记录", [
                _query("kind", _enum(INSPECTION_KINDS, "检查类型"), "只列该类型"),
                _query("status", _enum(INSPECTION_STATUSES, "状态"), "只列该状态"), within]),
            "/tasks": _list("Task", "交办给管辖范围内单位的任务", [_query("state", {"type": "string"}, "只列该办理状态")]),
            "/dispatch/tables": {"get": {"summary": "对令牌单位适用的调度表", "responses": {
                "200": {"description": "调度表", "content": {"application/json": {"schema": {"type": "object"}}}},
                **_errors("401", "429")}}},
            "/dispatch/tables/{definition_id}/figures": {"get": {
                "summary": "一个单位某一报告期的调度表数字（默认令牌单位、当前报告期）",
                "parameters": [{"name": "definition_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                               _query("node", {"type": "integer"}, "单位编号"),
                               _query("period", date, "报告期截止日，如 2024-06-30")],
                "responses": {"200": {"description": "total 为合计，by_level 为省/市/县分别统计；as_of 为汇总时间（实时统计为 null）",
                                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Figures"}}}},
                              **_errors("401", "404", "422", "429")}}},
            "/dispatch/submissions": {"post": {
                "summary": "下级平台上报本平台单位的已审核调度表（按区划代码识别单位、按调度表标识识别调度表）",
                "description": "令牌须属于该单位或其上级单位，角色可填报调度表。记为该单位该期已通过的调度表，并计入各上级的合计。"
                               "同一 key 重复上报返回首次的记录（200），不重复计数；同一期已有其他上报时为 409。"
                               "digest 为 {division, table, period_end, figures} 按键排序、无空格的 UTF-8 JSON 的 SHA-256。",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/UpwardSubmission"}}}},
                "responses": {"201": {"description": "已记录", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "200": {"description": "该 key 已记录过（duplicate 为 true），未重复计数", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    **_errors("400", "401", "403", "404", "409", "422", "429")}}},
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer", "description": "接口令牌（aqp_ 开头）"}},
            "parameters": {
                "cursor": _query("cursor", {"type": "string"}, "上一页返回的 next_cursor；第一页不填"),
                "limit": _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}, "每页条数"),
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "status": {"type": "integer"}, "message": {"type": "string", "description": "中文说明"}}}}},
                "Node": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "parent_id": {"type": "integer", "nullable": True},
                    "kind": _enum(KINDS, "单位类型"), "kind_label": {"type": "string"}, "name": {"type": "string"},
                    "division_code": {"type": "string", "nullable": True, "description": "统计用区划代码"},
                    "credit_code": {"type": "string", "nullable": True, "description": "统一社会信用代码"},
                    "industry": {"type": "string", "nullable": True}, "high_risk": {"type": "boolean"},
                    "address": {"type": "string"}}},
                "Hazard": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "enterprise_id": {"type": "integer"}, "enterprise_name": {"type": "string"},
                    "level": _enum(LEVELS, "级别"), "source": _enum(SOURCES, "来源"),
                    "status": _enum(HAZARD_STATUSES, "状态"), "industry": {"type": "string"},
                    "description": {"type": "string"}, "location": {"type": "string"}, "found_at": date,
                    "standard_item_id": {"type": "integer", "nullable": True},
                    "fix_deadline": {**date, "nullable": True}, "rectified_on": {**date, "nullable": True},
                    "closed_on": {**date, "nullable": True}, "listed": {"type": "boolean", "description": "挂牌督办中"}}},
                "Finding": finding,
                "NewHazard": {"allOf": [finding, {"type": "object", "required": ["enterprise_id"], "properties": {
                    "enterprise_id": {"type": "integer", "description": "管辖范围内的企业"}}}]},
                "Inspection": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "kind": _enum(INSPECTION_KINDS, "检查类型"),
                    "enterprise_id": {"type": "integer"}, "enterprise_name": {"type": "string"},
                    "unit_id": {"type": "integer"}, "unit_name": {"type": "string"}, "inspected_on": date,
                    "status": _enum(INSPECTION_STATUSES, "状态"),
                    "signed_at": {"type": "string", "format": "date-time", "nullable": True},
                    "amends_id": {"type": "integer", "nullable": True, "description": "更正的原记录"},
                    "content_sha256": {"type": "string", "nullable": True}}},
                "Task": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "task_id": {"type": "integer"}, "title": {"type": "string"},
                    "unit_id": {"type": "integer"}, "assigned_by_id": {"type": "integer"}, "state": {"type": "string"},
                    "state_label": {"type": "string"}, "deadline": date,
                    "signed_at": {"type": "string", "format": "date-time", "nullable": True},
                    "reported_at": {"type": "string", "format": "date-time", "nullable": True},
                    "done_at": {"type": "string", "format": "date-time", "nullable": True}}},
                "UpwardSubmission": {"type": "object", "required": ["key", "division", "table", "period_end",
                                                                     "figures", "digest"], "properties": {
                    "key": {"type": "string", "minLength": 1, "maxLength": 64, "description": "幂等键：同一次上报重试时不变"},
                    "division": {"type": "string", "description": "上报单位的统计用区划代码"},
                    "table": {"type": "string", "description": "调度表标识（两个平台相同）"},
                    "table_name": {"type": "string"}, "period_end": date,
                    "figures": {"type": "object", "description": "total、by_level 为调度表数字，manual 为其中填报部分（自专项行动开始累计），"
                                                                 "均为 行代码 → 数字（文本）"},
                    "digest": {"type": "string", "description": "SHA-256（十六进制）"},
                    "late": {"type": "boolean"}, "submitted_at": {"type": "string", "format": "date-time"},
                    "approved_at": {"type": "string", "format": "date-time"},
                    "approved_by": {"type": "string", "description": "下级平台审核人"}}},
                "Receipt": {"type": "object", "properties": {
                    "id": {"type": "integer", "description": "本平台的调度表记录编号"}, "node_id": {"type": "integer"},
                    "division": {"type": "string"}, "table": {"type": "string"}, "period_end": date,
                    "status": {"type": "string"}, "key": {"type": "string"}, "digest": {"type": "string"},
                    "received_at": {"type": "string", "format": "date-time"}, "duplicate": {"type": "boolean"}}},
                "Figures": {"type": "object", "properties": {
                    "table_id": {"type": "integer"}, "node_id": {"type": "integer"}, "period_start": date,
                    "period_end": date, "as_of": {"type": "string", "format": "date-time", "nullable": True},
                    "total": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "行代码 → 数字（文本，万元保留两位小数）"},
                    "by_level": {"type": "object", "additionalProperties": {"type": "object"}}}},
            },
        },
    }
