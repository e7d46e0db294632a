"""Dispatch forms: a table's definition, the typed rows of a table, a return with its reason, an
export."""
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.dispatch.periods import PERIOD_LABELS, WEEKDAYS
from portal.forms import REQUIRED, Form, choices, optional_int
from tenants.forms import MultiCheckboxField

DATE = "日期格式应为 年-月-日，例如 2024-04-01。"


class DefinitionForm(Form):
    """Types only; what may be chosen with what (due day per period, rows kept from the parent
    table, kinds of unit below the owner) is the service's rule, which names every problem."""

    name = StringField("调度表名称", validators=[DataRequired(REQUIRED), Length(max=200, message="最多 200 个字。")])
    campaign_id = SelectField("专项行动", coerce=optional_int, validate_choice=False)
    parent_id = SelectField("继承上级调度表", coerce=optional_int, validate_choice=False)
    period = SelectField("上报周期", choices=choices({k: v for k, v in PERIOD_LABELS.items()}))
    due_weekday = SelectField("每周截止：星期", choices=choices((str(k), v) for k, v in WEEKDAYS.items()),
                              coerce=int)
    due_time = TimeField("截止时间（北京时间，不填为当日24时）", validators=[Optional()],
                         render_kw={"placeholder": "12:00"})
    due_day = IntegerField("截止日（月报：次月几日；季报：季度末月几日；年报：几日）",
                           validators=[Optional(), NumberRange(1, 31, "截止日应为 1 到 31。")])
    due_month = IntegerField("年报截止：月", validators=[Optional(), NumberRange(1, 12, "月份应为 1 到 12。")])
    starts_on = DateField("开始上报日期（不填为专项行动开始）", validators=[Optional()])
    ends_on = DateField("停止上报日期（不填为专项行动结束）", validators=[Optional()])
    cumulative = BooleanField("报累计数据（自专项行动开展以来）", default=True)
    fillers = MultiCheckboxField("由哪些下级单位填报", validate_choice=False)
    rows = MultiCheckboxField("调度表的行", validate_choice=False)
    notes = TextAreaField("注", validators=[Length(max=2000, message="最多 2000 字。")])


def manual_form(codes_labels: list[tuple[str, str]], values: dict, formdata=None):
    """A field per typed row; numbers are checked by the service, which names the row."""
    fields = {code.replace(".", "__"): StringField(label, default=values.get(code, ""))
              for code, label in codes_labels}
    cls = type("ManualForm", (Form,), fields)
    return cls(formdata=formdata)


def manual_values(form) -> dict[str, str]:
    return {name.replace("__", "."): field.data for name, field in form._fields.items() if name != "csrf_token"}


class ReturnForm(Form):
    reason = TextAreaField("退回原因", validators=[DataRequired(REQUIRED), Length(max=500)])


class ExportForm(Form):
    file_type = SelectField("格式", choices=choices({"xlsx": "Excel", "pdf": "PDF"}))
    children = BooleanField("并列显示各下级")
