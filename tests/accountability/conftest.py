"""The inspection fixtures serve the trace too: the same department, inspectors and plant."""
from tests.inspections.conftest import field, inspect  # noqa: F401  (fixtures)
