"""Forms for nodes: a child level or department, an enterprise, a rename, a move."""
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import REQUIRED, Form, choices
from tenants.models import INDUSTRIES, KINDS

NAME = [DataRequired(REQUIRED), Length(max=100, message="名称最多 100 个字。")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChildForm(Form):
    # Which kinds fit under which parent is the service's rule; it names the allowed kinds.
    kind = SelectField("类型", choices=choices((k, v) for k, v in KINDS.items() if k != "enterprise"),
                       validate_choice=False)
    name = StringField("名称", validators=NAME)
    code = StringField("区划代码", validators=[Optional(), Length(max=12, message="区划代码最多 12 位。")])
    # An unknown industry is refused by the service, in Chinese (WTForms' own message is English).
    supervised_industries = MultiCheckboxField("监管行业（部门、站所）", choices=choices(INDUSTRIES),
                                               validate_choice=False)


class EnterpriseForm(Form):
    name = StringField("企业名称", validators=NAME)
    credit_code = StringField("统一社会信用代码", validators=[
        DataRequired(REQUIRED), Length(max=18, message="统一社会信用代码应为 18 位。")])
    industry = SelectField("行业领域", choices=choices([("", "请选择")] + list(INDUSTRIES.items())))
    address = StringField("生产经营地址", validators=[Optional(), Length(max=200, message="地址最多 200 个字。")])
    high_risk = BooleanField("高危企业")


class EditForm(Form):
    name = StringField("名称", validators=NAME)
    industry = SelectField("行业领域", choices=choices([("", "—")] + list(INDUSTRIES.items())), validate_choice=False)
    high_risk = BooleanField("高危企业")
    supervised_industries = MultiCheckboxField("监管行业", choices=choices(INDUSTRIES), validate_choice=False)


class MoveForm(Form):
    # Choices are offered by the view; a forged value is judged by the service, which names the problem.
    new_parent_id = SelectField("新上级单位", coerce=int, validate_choice=False,
                                validators=[DataRequired("请选择新上级单位。")])
