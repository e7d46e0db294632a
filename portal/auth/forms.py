"""Login, user and membership forms; all input validation of accounts happens here."""
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.auth.service import password_problem
from portal.forms import REQUIRED, Form, choices
from portal.reminders.models import CHOICES
from tenants.models import ROLES



class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=128)])


def _policy(form, field):
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class UserForm(Form):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(3, 64, "用户名为 3–64 位。")])
    display_name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=64, message="姓名过长。")])
    post = StringField("职务", validators=[Optional(), Length(max=64, message="职务过长。")])
    phone = StringField("联系电话", validators=[Optional(), Length(max=32, message="电话过长。")])
    password = PasswordField("初始密码", validators=[DataRequired(REQUIRED), _policy])
    role = SelectField("角色", choices=choices(ROLES))


class MembershipForm(Form):
    tenant_id = SelectField("单位", coerce=int, validate_choice=True)
    role = SelectField("角色", choices=choices(ROLES))


class PasswordChangeForm(Form):
    old_password = PasswordField("原密码", validators=[DataRequired(REQUIRED)])
    new_password = PasswordField("新密码", validators=[DataRequired(REQUIRED), _policy])


class PasswordResetForm(Form):
    new_password = PasswordField("新密码", validators=[DataRequired(REQUIRED), _policy])


class ReminderForm(Form):
    email = StringField("邮箱", validators=[Optional(), Length(max=120, message="邮箱过长。")])
    phone = StringField("手机号码（短信/即时消息）", validators=[Optional(), Length(max=32, message="号码过长。")])
    remind_by = SelectField("提醒方式", choices=choices(CHOICES))


class ActiveForm(Form):
    active = BooleanField("启用")
