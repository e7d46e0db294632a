"""Forms of an inspection record, its parts, signing, amendments and accidents."""
import secrets

from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, PasswordField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from portal.forms import REQUIRED, Form, choices, optional_int
from portal.hazards.forms import HazardForm
from portal.inspections.models import ACCIDENT_KINDS, ACTION_KINDS, FINDINGS, KINDS
from tenants.forms import MultiCheckboxField

DATE = "请填写日期（年-月-日）。"


class InspectionForm(Form):
    kind = SelectField("检查方式", choices=choices(KINDS))
    inspected_on = DateField("检查日期", validators=[InputRequired(DATE)])
    # Offered by the view (the unit's inspectors); the service judges a forged id.
    inspector_ids = MultiCheckboxField("检查人员（不少于 2 人，每人须本人签名）", coerce=int, validate_choice=False)
    partners = StringField("联合执法的其他部门", validators=[Optional(), Length(max=300, message="不超过 300 字。")])
    notes = TextAreaField("检查情况", validators=[Optional(), Length(max=5000, message="不超过 5000 字。")])
    # Sent again after a dropped connection, the same key: one record (service.create).
    request_key = HiddenField(default=lambda: secrets.token_hex(16))


class EditForm(Form):
    inspected_on = DateField("检查日期", validators=[InputRequired(DATE)])
    partners = StringField("联合执法的其他部门", validators=[Optional(), Length(max=300, message="不超过 300 字。")])
    notes = TextAreaField("检查情况", validators=[Optional(), Length(max=5000, message="不超过 5000 字。")])


class ItemsForm(Form):
    item_ids = MultiCheckboxField("本次检查的事项（判定标准条款、重点检查事项）", coerce=int, validate_choice=False)


class FoundHazardForm(HazardForm):
    """A hazard found on this visit: the ledger's own form, for the inspected enterprise and on
    the day of the visit."""

    credit_code = None
    found_at = None
    request_key = HiddenField(default=lambda: secrets.token_hex(16))


class FindingForm(Form):
    code = SelectField("抽查发现的问题", choices=choices([("", "请选择")] + list(FINDINGS.items())))
    # Not `note`: the action form on the same page has one, and ids must stay unique for labels.
    remark = StringField("问题说明", validators=[Optional(), Length(max=500, message="不超过 500 字。")])


class RemoveForm(Form):
    part = HiddenField(validators=[DataRequired("未指定要删除的内容。")])
    part_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("未指定要删除的内容。")])


class ActionForm(Form):
    kind = SelectField("执法措施", choices=choices([("", "请选择")] + list(ACTION_KINDS.items())))
    decided_on = DateField("决定日期", validators=[InputRequired(DATE)])
    hazard_id = SelectField("针对的隐患", coerce=optional_int, validate_choice=False)
    amount = DecimalField("罚款金额（万元）", places=2,
                          validators=[Optional(), NumberRange(min=0, message="金额不能为负数。")])
    persons = IntegerField("移送人数", validators=[Optional(), NumberRange(min=0, max=1000, message="人数有误。")])
    person_names = StringField("移送人员姓名", validators=[Optional(), Length(max=300, message="不超过 300 字。")])
    document_number = StringField("文书编号", validators=[Optional(), Length(max=100, message="不超过 100 字。")])
    note = TextAreaField("说明", validators=[Optional(), Length(max=1000, message="不超过 1000 字。")])
    override_reason = TextAreaField("处罚理由（对企业自查按时报告的隐患处罚时必填）",
                                    validators=[Optional(), Length(max=500, message="不超过 500 字。")])
    published_case = BooleanField("公布为典型执法案例")
    dangerous_operation_crime = BooleanField("危险作业罪案例")


class SignForm(Form):
    signer_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("未指定签名人。")])
    password = PasswordField("本人登录密码", validators=[DataRequired("请输入您本人的登录密码以签名。")])


class AmendForm(Form):
    notes = TextAreaField("更正的内容和原因", validators=[DataRequired("请写明更正的内容和原因。"),
                                                  Length(max=5000, message="不超过 5000 字。")])
    inspector_ids = MultiCheckboxField("签名的检查人员（不少于 2 人）", coerce=int, validate_choice=False)


class AccidentForm(Form):
    occurred_on = DateField("发生日期", validators=[InputRequired(DATE)])
    kind = SelectField("事故类别", choices=choices([("", "请选择")] + list(ACCIDENT_KINDS.items())))
    deaths = IntegerField("死亡（人）", default=0, validators=[InputRequired(REQUIRED),
                                                          NumberRange(min=0, max=10000, message="人数有误。")])
    injuries = IntegerField("受伤（人）", default=0, validators=[InputRequired(REQUIRED),
                                                             NumberRange(min=0, max=10000, message="人数有误。")])
    summary = TextAreaField("事故概况", validators=[DataRequired(REQUIRED), Length(max=5000, message="不超过 5000 字。")])
