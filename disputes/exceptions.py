"""Domain errors raised by the services; views, the API and sockets map them to answers."""


class DisputeError(Exception):
    """Base of every refusal the desk explains to a user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(DisputeError):
    """The request itself is wrong; `errors` maps field names to messages."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class FilingRefused(InvalidInput):
    """A case cannot be opened on this order (window, duplicate, amount, no policy)."""


class TransitionRefused(DisputeError):
    """The case is not in a state (or condition) that allows this action."""

    def __init__(self, message: str, *, state: str, action: str, allowed_actions: list[str]):
        super().__init__(message)
        self.state = state
        self.action = action
        self.allowed_actions = allowed_actions


class CaseChanged(TransitionRefused):
    """Someone else moved the case first; reload and try again."""


class AlreadySubmitted(DisputeError):
    """The same form was sent twice (a refresh or a double click); the first one counted."""
