"""National Provider Identifier checks (10 digits, Luhn check digit over the 80840 prefix)."""


def npi_problem(value: str) -> str | None:
    """Why `value` is not a valid NPI, or None if it is."""
    if len(value) != 10 or not value.isdigit():
        return "An NPI is exactly 10 digits."
    if value[-1] != check_digit(value[:9]):
        return "This NPI's check digit is wrong; please re-check the number."
    return None


def check_digit(first_nine: str) -> str:
    # The card-issuer prefix 80840 contributes a constant 24 to the Luhn sum.
    total = 24
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(value: str) -> bool:
    return npi_problem(value) is None
