"""Forms for list items, answers, signing, duty records and special-operation workers."""
from wtforms import (BooleanField, DateField, IntegerField, MultipleFileField, PasswordField, SelectField,
                     StringField, TextAreaField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.checklists.models import DUTIES, EVIDENCE, OVERVIEW_STATES, STATES, WORK_TYPES, WORKER_TYPES
from portal.forms import REQUIRED, Form, choices, optional_int
from tenants.models import INDUSTRIES

DATE = {"render_kw": {"type": "date"}}


class ItemForm(Form):
    title = StringField("事项内容", validators=[DataRequired(REQUIRED), Length(max=300, message="最多 300 个字。")])
    body = TextAreaField("具体要求", validators=[Optional(), Length(max=2000, message="最多 2000 个字。")])
    evidence = SelectField("证明材料要求", choices=choices(EVIDENCE), default="text")
    duty = SelectField("对应企业履职记录（企业清单）", choices=choices([("", "不对应")] + list(DUTIES.items())), default="")


class EvidenceForm(Form):
    evidence = SelectField("证明材料要求", choices=choices(EVIDENCE))


class DueForm(Form):
    due_on = DateField("签署期限", validators=[InputRequired("请填写签署期限。")], **DATE)


class EntryForm(Form):
    responsible_name = StringField("责任人", validators=[Optional(), Length(max=50, message="最多 50 个字。")])
    responsible_post = StringField("职务或岗位", validators=[Optional(), Length(max=100, message="最多 100 个字。")])
    state = SelectField("落实情况", choices=choices([("", "请选择")] + list(STATES.items())))
    evidence_text = TextAreaField("证明材料说明", validators=[Optional(), Length(max=2000, message="最多 2000 个字。")])
    evidence_date = DateField("材料日期", validators=[Optional()], **DATE)
    files = MultipleFileField("上传文件或照片")
    # Only for an item that is a duty: which of the unit's records of that kind it rests on.
    duty_record_id = SelectField("依据的履职记录", coerce=optional_int, validate_choice=False)


class SignForm(Form):
    password = PasswordField("登录密码", validators=[DataRequired("签署须输入您本人的登录密码。")])
    confirm = BooleanField("本人确认清单内容真实，对其负责", validators=[DataRequired("请勾选确认后再签署。")])


class DutyForm(Form):
    occurred_on = DateField("日期", validators=[InputRequired("请填写日期。")], **DATE)
    findings = TextAreaField("情况说明", validators=[Optional(), Length(max=2000, message="最多 2000 个字。")])
    files = MultipleFileField("上传照片或记录（可多选）")


class InspectionForm(DutyForm):
    person = StringField("带队负责人", validators=[DataRequired(REQUIRED), Length(max=100)])
    subject = StringField("检查范围", validators=[DataRequired(REQUIRED), Length(max=300)])


class DrillForm(DutyForm):
    subject = StringField("演练科目（事故情景）", validators=[DataRequired(REQUIRED), Length(max=300)])
    participants = IntegerField("参加人数", validators=[InputRequired("请填写参加人数。"),
                                                     NumberRange(min=1, message="参加人数应大于 0。")])
    escape_routes_known = BooleanField("从业人员熟知安全逃生出口（避灾路线）")


class EducationForm(DutyForm):
    subject = StringField("警示教育主题", validators=[DataRequired(REQUIRED), Length(max=300)])
    participants = IntegerField("参加人数", validators=[InputRequired("请填写参加人数。"),
                                                     NumberRange(min=1, message="参加人数应大于 0。")])


class OutsourcingForm(DutyForm):
    person = StringField("承包或承租方", validators=[DataRequired(REQUIRED), Length(max=100)])
    subject = StringField("外包外租的项目或场所", validators=[DataRequired(REQUIRED), Length(max=300)])
    qualified = BooleanField("具备安全生产条件和相应资质")
    agreement_signed = BooleanField("双方已签订安全生产管理协议")
    duties_clear = BooleanField("安全生产管理职责清楚")
    managed = BooleanField("已纳入本企业安全生产统一管理")


class TrainingForm(DutyForm):
    person = StringField("人员姓名", validators=[DataRequired(REQUIRED), Length(max=100)])
    worker_type = SelectField("人员类别", choices=choices(WORKER_TYPES))
    subject = StringField("培训内容", validators=[DataRequired(REQUIRED), Length(max=300)])
    passed = BooleanField("考核合格")


class KeyPostForm(DutyForm):
    person = StringField("排查负责人", validators=[DataRequired(REQUIRED), Length(max=100)])
    subject = StringField("排查的岗位和人员", validators=[DataRequired(REQUIRED), Length(max=300)],
                          render_kw={"placeholder": "如：电焊工、动火作业人员、危化品库管员"})
    participants = IntegerField("排查人数", validators=[InputRequired("请填写排查人数。"),
                                                     NumberRange(min=1, message="排查人数应大于 0。")])


class HotWorkForm(DutyForm):
    """动火作业审批 (seed 002): the permit, its guard, and the checks before the work starts."""

    person = StringField("动火作业人员", validators=[DataRequired(REQUIRED), Length(max=100)])
    subject = StringField("动火地点及作业内容", validators=[DataRequired(REQUIRED), Length(max=300)])
    approver = StringField("审批人", validators=[DataRequired(REQUIRED), Length(max=50)])
    guard = StringField("现场监护人", validators=[DataRequired(REQUIRED), Length(max=50)])
    starts_at = TimeField("作业开始时间", validators=[InputRequired("请填写作业开始时间。")])
    ends_at = TimeField("作业结束时间", validators=[InputRequired("请填写作业结束时间。")])
    equipment_checked = BooleanField("作业前已对电气焊设备进行安全检查")
    fire_measures_checked = BooleanField("消防安全措施已检查落实")


DUTY_FORMS = {"inspection": InspectionForm, "drill": DrillForm, "education": EducationForm,
              "outsourcing": OutsourcingForm, "training": TrainingForm, "key_post": KeyPostForm,
              "hot_work": HotWorkForm}


class WorkerForm(Form):
    name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=50)])
    work_type = SelectField("作业类别", choices=choices((k, v[0]) for k, v in WORK_TYPES.items()))
    certificate_no = StringField("证书编号", validators=[DataRequired(REQUIRED), Length(max=32)])
    expires_on = DateField("有效期至", validators=[InputRequired("请填写证书有效期。")], **DATE)


class RenewForm(Form):
    certificate_no = StringField("新证书编号", validators=[DataRequired(REQUIRED), Length(max=32)])
    expires_on = DateField("有效期至", validators=[InputRequired("请填写证书有效期。")], **DATE)


class FilterForm(Form):
    """The overview's filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField("企业名称或信用代码")
    industry = SelectField("行业领域", choices=choices([("", "全部行业")] + list(INDUSTRIES.items())))
    high_risk = SelectField("高危", choices=choices([("", "高危与非高危"), ("1", "高危企业"), ("0", "非高危企业")]))
    state = SelectField("状态", choices=choices([("", "全部状态")] + list(OVERVIEW_STATES.items())))
