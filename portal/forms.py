"""What every module's forms share: the Chinese required-field message and option lists."""
from flask_wtf import FlaskForm
from wtforms.fields import SelectChoice

REQUIRED = "此项必填。"


class Form(FlaskForm):
    """Base of every form: WTForms' own messages (invalid choice, not a number …) in Chinese."""

    class Meta:
        locales = ["zh"]


def choices(pairs) -> list[SelectChoice]:
    """Options from (value, label) pairs or a {value: label} mapping."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


def optional_int(value) -> int | None:
    """Coerce for a select whose first option is empty ("—"): an id, or None."""
    return int(value) if value not in (None, "") else None
