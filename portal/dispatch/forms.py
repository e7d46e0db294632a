"""Dispatch forms: the typed rows of a table, a return with its reason, an export."""
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import REQUIRED, Form, choices


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
