"""The one kind of error a user is meant to read."""


class Refused(ValueError):
    """A change the rules refuse. Its message is Chinese, says what to do, and is shown as is;
    the view rolls back and answers 422 (see portal.web.attempt)."""
