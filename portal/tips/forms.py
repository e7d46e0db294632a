"""The public tip form, the status lookup, and the staff's verification and reward forms."""
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DecimalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import REQUIRED, Form, choices
from portal.hazards.models import LEVELS


def _optional_int(value):
    return int(value) if value not in (None, "") else None


class TipForm(Form):
    district_id = SelectField("区县", coerce=_optional_int, validate_choice=False,
                              validators=[InputRequired("请选择隐患所在的区县。")])
    street_id = SelectField("街道/乡镇（不清楚可不选）", coerce=_optional_int, validate_choice=False)
    enterprise_name = StringField("被举报单位名称", validators=[DataRequired(REQUIRED), Length(max=100, message="不超过 100 字。")])
    address = StringField("地址", validators=[Optional(), Length(max=200, message="不超过 200 字。")])
    description = TextAreaField("隐患情况", validators=[DataRequired(REQUIRED),
                                                    Length(10, 2000, message="请用 10 至 2000 字描述。")])
    photos = MultipleFileField("照片（JPEG/PNG，最多 5 张，可不传）")
    anonymous = BooleanField("匿名举报（不留姓名和联系方式）", default=True)
    reporter_name = StringField("姓名（可不填）", validators=[Optional(), Length(max=64, message="不超过 64 字。")])
    contact = StringField("联系方式（可不填）", validators=[Optional(), Length(max=64, message="不超过 64 字。")])
    # Set when the form was opened by scanning an enterprise's code (一企一码): the tip is about it.
    enterprise_code = HiddenField(validators=[Optional(), Length(max=32)])


class StatusForm(Form):
    code = StringField("查询码", validators=[DataRequired("请输入提交举报时得到的查询码。"),
                                          Length(max=40, message="查询码格式不对。")])


class VerifyForm(Form):
    result = RadioField("核查结论", choices=choices({"true": "属实", "false": "不属实"}),
                        validators=[DataRequired("请选择核查结论。")])
    note = TextAreaField("核查情况（仅内部可见）", validators=[Optional(), Length(max=1000, message="不超过 1000 字。")])
    enterprise_id = SelectField("被举报企业", coerce=_optional_int, validate_choice=False)
    # Checked by the hazard service, and only for a true tip.
    level = SelectField("隐患级别", choices=choices(LEVELS), validate_choice=False)
    item_id = SelectField("判定依据", coerce=_optional_int, validate_choice=False)
    description = TextAreaField("登记的隐患描述", validators=[Optional(), Length(max=500, message="不超过 500 字。")])


class RewardForm(Form):
    amount = DecimalField("奖励金额（万元）", places=2,
                          validators=[InputRequired("请填写奖励金额。"), NumberRange(min=0.01, message="奖励金额须大于 0。")])
    named = BooleanField("实名领取（匿名举报只能匿名领取）")
