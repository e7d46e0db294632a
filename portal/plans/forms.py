"""Forms of plans and tasks. Choices that depend on the tree (phases, receivers) come from the
view; a forged value is judged by the service, which names the problem."""
import secrets

from wtforms import (BooleanField, HiddenField, IntegerField, MultipleFileField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import REQUIRED, DateField, Form, choices
from portal.plans.rules import PERIODS
from tenants.forms import MultiCheckboxField

FREQUENCY_PERIODS = [(k, f"每{label}") for k, (label, _) in PERIODS.items()]


class CampaignForm(Form):
    name = StringField("专项行动名称", validators=[DataRequired(REQUIRED), Length(max=200)])
    starts_on = DateField("开始日期", validators=[InputRequired(REQUIRED)])
    ends_on = DateField("结束日期", validators=[InputRequired(REQUIRED)])


class PlanForm(Form):
    campaign_id = SelectField("专项行动", coerce=int, validate_choice=False)
    title = StringField("方案标题", validators=[DataRequired(REQUIRED), Length(max=200)])
    issuer = StringField("发文机关", validators=[DataRequired(REQUIRED), Length(max=100)])
    doc_number = StringField("文号", validators=[Optional(), Length(max=64)])
    issued_on = DateField("印发日期", validators=[Optional()])
    recipients = StringField("主送单位", validators=[Optional(), Length(max=300)])
    preamble = TextAreaField("正文导语（总体要求）", validators=[Optional()])


class ClauseForm(Form):
    """One clause: its text, and where the clause carries a rule, the rule's value."""

    section = StringField("所属部分", validators=[Optional(), Length(max=200)])
    title = StringField("条款标题", validators=[DataRequired(REQUIRED), Length(max=200)])
    body = TextAreaField("条款内容", validators=[DataRequired(REQUIRED)])
    rule = SelectField("规则", validate_choice=False)
    # frequency rules
    all_times = IntegerField("一般要求：次数", validators=[Optional(), NumberRange(1, 100, "次数应为 1 到 100。")])
    all_per = SelectField("一般要求：周期", choices=choices(FREQUENCY_PERIODS), validate_choice=False)
    high_risk_times = IntegerField("高危行业领域企业：次数",
                                   validators=[Optional(), NumberRange(1, 100, "次数应为 1 到 100。")])
    high_risk_per = SelectField("高危行业领域企业：周期", choices=choices([("", "同一般要求")] + FREQUENCY_PERIODS),
                                validate_choice=False)
    # report rules
    period = SelectField("上报周期", choices=choices(FREQUENCY_PERIODS), validate_choice=False)
    due_day = IntegerField("截止日（每月/每季度末月几日前；每周填 1–7，1 为周一）", validators=[Optional()])
    cumulative = BooleanField("上报累计数据")

    def rule_value(self, shape: str) -> dict:
        if shape == "frequency":
            value = {"all": {"times": self.all_times.data, "per": self.all_per.data}}
            if self.high_risk_per.data:
                value["high_risk"] = {"times": self.high_risk_times.data or 1, "per": self.high_risk_per.data}
            return value
        return {"period": self.period.data, "due_day": self.due_day.data, "cumulative": self.cumulative.data}

    def fill_rule(self, shape: str, value: dict | None) -> None:
        if not value:
            return
        if shape == "frequency":
            self.all_times.data, self.all_per.data = value["all"]["times"], value["all"]["per"]
            if "high_risk" in value:
                self.high_risk_times.data = value["high_risk"]["times"]
                self.high_risk_per.data = value["high_risk"]["per"]
        else:
            self.period.data, self.due_day.data = value["period"], value.get("due_day")
            self.cumulative.data = value.get("cumulative")


class PhaseForm(Form):
    name = StringField("阶段名称", validators=[DataRequired(REQUIRED), Length(max=50)])
    starts_on = DateField("开始日期", validators=[Optional()])
    ends_on = DateField("结束日期", validators=[Optional()])
    body = TextAreaField("工作重点", validators=[Optional()])


class TaskForm(Form):
    title = StringField("任务标题", validators=[DataRequired(REQUIRED), Length(max=200)])
    body = TextAreaField("任务内容与要求", validators=[DataRequired(REQUIRED)])
    phase_id = SelectField("服务阶段", coerce=int, validate_choice=False,
                           validators=[DataRequired("请选择任务服务的阶段。")])
    deadline = DateField("截止日期", validators=[InputRequired(REQUIRED)])
    receivers = MultiCheckboxField("接收单位", coerce=int, validate_choice=False)
    kinds = MultiCheckboxField("或：交办给全部", validate_choice=False)
    # A department's: all the enterprises of an industry it supervises, all its high-risk ones.
    industries = MultiCheckboxField("或：按行业领域", validate_choice=False)
    high_risk = BooleanField("高危企业")
    files = MultipleFileField("附件（PDF、图片、Office 文档，每个不超过 20 MB）")
    # One key per form shown: the service refuses a second task with the same key.
    request_key = HiddenField(default=lambda: secrets.token_hex(16))


class ReportForm(Form):
    body = TextAreaField("办理情况", validators=[DataRequired("请填写办理情况。")])
    files = MultipleFileField("佐证材料（PDF、图片、Office 文档，每个不超过 20 MB）")


class ReturnForm(Form):
    reason = TextAreaField("退回理由", validators=[DataRequired("请填写退回理由，接收单位将据此修改。"),
                                               Length(max=500)])



# Both sit on the task page: their reasons need ids of their own.
class DeadlineForm(Form):
    deadline = DateField("新的截止日期", validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("调整理由", id="deadline-reason",
                           validators=[DataRequired("请填写调整理由，接收单位将收到通知。"), Length(max=500)])


class WithdrawForm(Form):
    reason = TextAreaField("撤回理由", id="withdraw-reason",
                           validators=[DataRequired("请填写撤回理由，接收单位将收到通知。"), Length(max=500)])
