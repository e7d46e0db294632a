"""What every module's forms share: the Chinese required-field message and option lists."""
from flask_wtf import FlaskForm
from wtforms import fields
from wtforms.fields import SelectChoice

REQUIRED = "此项必填。"
DATE = "请填写有效日期（年-月-日），例如 2024-04-01。"


class Form(FlaskForm):
    """Base of every form: WTForms' own messages (invalid choice, not a number …) in Chinese."""

    class Meta:
        locales = ["zh"]


class DateField(fields.DateField):
    """A date, picked in the browser's date input. Left empty, it is for the field's validators to
    say so (InputRequired(REQUIRED): 此项必填); a value that is no date says how to write one."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE) from None


def choices(pairs) -> list[SelectChoice]:
    """Options from (value, label) pairs or a {value: label} mapping."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


def optional_int(value) -> int | None:
    """Coerce for a select whose first option is empty ("—"): an id, or None."""
    return int(value) if value not in (None, "") else None
