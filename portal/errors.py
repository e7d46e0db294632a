"""The one kind of error a user is meant to read."""


class Refused(ValueError):
    """A change the rules refuse. Its message is Chinese, says what to do, and is shown as is;
    the view rolls back and answers 422 (see portal.web.attempt).

    `kept`, when given, is a write that must stand although the change is refused (a wrong signing
    password still counts toward the lockout): attempt() runs and commits it after the rollback."""

    def __init__(self, message: str, *, kept=None):
        super().__init__(message)
        self.kept = kept
