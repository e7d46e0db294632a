"""The form that creates an API token."""
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.forms import REQUIRED, Form


class TokenForm(Form):
    name = StringField("令牌名称（对接的系统）", validators=[DataRequired(REQUIRED), Length(max=64, message="不超过 64 字。")])
    role = SelectField("以何种角色读写", validators=[DataRequired("请选择角色。")])
