from core.errors import NotFound

MAX_ID = 2**63 - 1  # a BIGINT primary key


def parse_id(value: object) -> int:
    """A primary key from a URL or body, or not_found: never a database error."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 1 <= number <= MAX_ID:
        raise NotFound()
    return number
