"""What every module's forms share: the Chinese required-field message and option lists."""
from wtforms.fields import SelectChoice

REQUIRED = "此项必填。"


def choices(pairs) -> list[SelectChoice]:
    """Options from (value, label) pairs or a {value: label} mapping."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]
