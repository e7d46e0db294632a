"""Forms of the ledger: a hazard, its five fixes, a step of the loop, listing, import, key items."""
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import REQUIRED, DateField, Form, choices
from portal.hazards.models import LEVELS
from tenants.models import INDUSTRIES

FUNDS = [InputRequired(REQUIRED), NumberRange(min=0, message="整改资金不能为负数。")]


class FixesForm(Form):
    fix_owner = StringField("整改责任人", validators=[DataRequired(REQUIRED), Length(max=64, message="不超过 64 字。")])
    fix_measures = TextAreaField("整改措施", validators=[DataRequired(REQUIRED), Length(max=1000, message="不超过 1000 字。")])
    fix_funds = DecimalField("整改资金（万元）", places=2, validators=FUNDS)
    fix_deadline = DateField("整改期限", validators=[InputRequired(REQUIRED)])
    fix_contingency = TextAreaField("应急预案（整改完成前的防范措施）",
                                    validators=[DataRequired(REQUIRED), Length(max=1000, message="不超过 1000 字。")])


class HazardForm(Form):
    # Only government and department users name the enterprise; an enterprise records its own.
    credit_code = StringField("企业统一社会信用代码", validators=[Optional(), Length(max=18, message="应为 18 位。")])
    # Nothing chosen in advance: 重大事故隐患 is a judgement the person makes, not a default.
    level = SelectField("隐患级别", choices=choices([("", "请选择")] + list(LEVELS.items())),
                        validators=[DataRequired("请选择隐患级别：重大事故隐患或一般隐患。")])
    item_id = SelectField("判定依据（判定标准条款或重点检查事项）", coerce=lambda v: int(v) if v else None,
                          validate_choice=False)
    description = TextAreaField("隐患描述", validators=[DataRequired(REQUIRED), Length(max=500, message="不超过 500 字。")])
    location = StringField("隐患部位", validators=[Optional(), Length(max=200, message="不超过 200 字。")])
    found_at = DateField("发现日期", validators=[InputRequired(REQUIRED)])
    on_the_spot = BooleanField("已当场整改（立查立改）")
    # The five fixes are optional here: a hazard may wait in 待整改 until they are settled.
    fix_owner = StringField("整改责任人", validators=[Optional(), Length(max=64, message="不超过 64 字。")])
    fix_measures = TextAreaField("整改措施", validators=[Optional(), Length(max=1000, message="不超过 1000 字。")])
    fix_funds = DecimalField("整改资金（万元）", places=2,
                             validators=[Optional(), NumberRange(min=0, message="整改资金不能为负数。")])
    fix_deadline = DateField("整改期限", validators=[Optional()])
    fix_contingency = TextAreaField("应急预案", validators=[Optional(), Length(max=1000, message="不超过 1000 字。")])
    photos = MultipleFileField("现场照片（JPEG/PNG，最多 9 张）")


class TransitionForm(Form):
    action = HiddenField(validators=[DataRequired("未知的操作。")])
    reason = TextAreaField("说明", validators=[Optional(), Length(max=500, message="不超过 500 字。")])


class PhotosForm(Form):
    photos = MultipleFileField("添加照片（JPEG/PNG）", validators=[DataRequired("请选择照片。")])


class ListingForm(Form):
    document_number = StringField("督办文号", validators=[DataRequired(REQUIRED), Length(max=100, message="不超过 100 字。")])
    tracker_id = SelectField("跟踪督办责任人", coerce=lambda v: int(v) if v else None, validate_choice=False)
    deadline = DateField("督办期限", validators=[InputRequired(REQUIRED)])


class ImportForm(Form):
    file = FileField("Excel 文件（.xlsx）", validators=[DataRequired("请选择要导入的 Excel 文件。")])


class KeyItemsForm(Form):
    name = StringField("名称", validators=[DataRequired(REQUIRED), Length(max=200, message="不超过 200 字。")])
    document_number = StringField("文号", validators=[Optional(), Length(max=100, message="不超过 100 字。")])
    industry = SelectField("适用行业领域", choices=choices(INDUSTRIES))
    items = TextAreaField("检查事项（每行一项）", validators=[DataRequired(REQUIRED)])
