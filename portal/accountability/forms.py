"""The accountability record form; its choices come from the trace it rests on."""
import secrets

from wtforms import DateField, HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.accountability.models import LETTERS, MEASURES
from portal.forms import REQUIRED, Form, choices, optional_int
from tenants.forms import MultiCheckboxField


class RecordForm(Form):
    measure = SelectField("处理方式", choices=choices([("", "请选择")] + list(MEASURES.items())))
    subject_unit_id = SelectField("被问责单位", coerce=optional_int, validate_choice=False)
    subject_user_id = SelectField("被问责人员（倒查涉及的人员）", coerce=optional_int, validate_choice=False)
    subject_person = StringField("或填写其他人员姓名", validators=[Optional(), Length(max=64, message="不超过 64 字。")])
    subject_post = StringField("职务", validators=[Optional(), Length(max=64, message="不超过 64 字。")])
    basis = MultiCheckboxField("问责依据（勾选倒查发现）", validate_choice=False)
    reason = TextAreaField("问责事由", validators=[DataRequired(REQUIRED), Length(max=5000, message="不超过 5000 字。")])
    requirement = TextAreaField("整改要求（函件正文）", validators=[Optional(), Length(max=5000, message="不超过 5000 字。")])
    decided_on = DateField("决定日期", validators=[InputRequired("请填写日期（年-月-日）。")])
    reply_by = DateField("回复期限（督办函必填）", validators=[Optional()])
    document_number = StringField("文号", validators=[Optional(), Length(max=64, message="不超过 64 字。")])
    issuer = StringField("署名（发文机关）", validators=[Optional(), Length(max=100, message="不超过 100 字。")])
    until = HiddenField()
    accident = HiddenField()
    # One key per form shown: the service refuses a second record with the same key.
    request_key = HiddenField(default=lambda: secrets.token_hex(16))


def _letter_measures():
    return choices([("", "请选择")] + [(m, MEASURES[m]) for m in LETTERS])


class LetterForm(Form):
    """A 提醒函/督办函 about one record that lags (`source`, see portal.accountability.letters)."""

    source = HiddenField()
    measure = SelectField("函件类别", choices=_letter_measures())
    subject_unit_id = SelectField("收函单位", coerce=optional_int, validate_choice=False)
    reason = TextAreaField("督办事由", validators=[DataRequired(REQUIRED), Length(max=5000, message="不超过 5000 字。")])
    requirement = TextAreaField("工作要求（函件正文）", validators=[Optional(), Length(max=5000, message="不超过 5000 字。")])
    reply_by = DateField("回复期限（督办函必填）", validators=[Optional()])
    document_number = StringField("文号", validators=[Optional(), Length(max=64, message="不超过 64 字。")])
    issuer = StringField("署名（发文机关）", validators=[Optional(), Length(max=100, message="不超过 100 字。")])
    request_key = HiddenField(default=lambda: secrets.token_hex(16))


class ReplyForm(Form):
    body = TextAreaField("回复内容", validators=[DataRequired("请填写回复内容。"), Length(max=5000, message="不超过 5000 字。")])
    files = MultipleFileField("附件（PDF、图片、Office 文档，每个不超过 20 MB）")


class CloseForm(Form):
    outcome = TextAreaField("办结意见", validators=[DataRequired("请填写办结意见。"), Length(max=5000, message="不超过 5000 字。")])
