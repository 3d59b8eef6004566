"""The error of an invocation that cannot be carried out as given."""


class CommandError(ValueError):
    """An invocation that cannot be carried out as given (exit 2)."""
