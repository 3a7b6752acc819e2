"""Stored values as words a person reads: 'not_clinically_indicated' -> 'Not clinically indicated'."""


def words(value: str) -> str:
    """'not_clinically_indicated' -> 'Not clinically indicated'."""
    if value == "no_show":
        return "No-show"
    return value.replace("_", " ").capitalize()
