"""Stored values as words a person reads: 'not_clinically_indicated' -> 'Not clinically
indicated', and a user as the name every page calls them by."""

from refloop.core.models import User


def words(value: str) -> str:
    """'not_clinically_indicated' -> 'Not clinically indicated'."""
    if value == "no_show":
        return "No-show"
    return value.replace("_", " ").capitalize()


def person(user: User | None) -> str:
    """The name pages, timelines, lists and messages give a user: their full name, or their
    username when the account has none; '' for nobody."""
    if user is None:
        return ""
    return user.get_full_name().strip() or user.get_username()
