"""An import line's message in the language of whoever reads it.

A line's problem is found when the file is checked or applied, and read later, maybe in the other
language (the page, the CSV report). So the message is stored in English (`in_english`, around
the code that writes it) and translated when it is shown (`for_people`): it is one or more of the
sentences below, each found back with its values and put in the reader's language. A message
that is none of them (a service's own words) is shown as stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _noop

from core.errors import ErrorCode

# Every sentence an import line may hold (workspace/imports/reader.py and services.py write them).
TEMPLATES = (
    _noop("The %(column)s is missing."),
    _noop("The %(column)s %(iban)s is not a valid IBAN."),
    _noop("No Flux customer account has the IBAN %(iban)s (%(column)s)."),
    _noop("The account %(iban)s is closed."),
    _noop("The account %(iban)s is frozen."),
    _noop("Expected %(expected)d cells (%(header)s), found %(found)d."),
    _noop("The type must be deposit, withdrawal or transfer."),
    _noop("The amount must be a positive decimal such as 12.50 (at most two decimals)."),
    _noop("The account and the counterparty are the same account."),
    _noop("The account is in %(source)s, the counterparty in %(destination)s."),
    _noop("Only a transfer has a counterparty."),
    _noop("Keep the reference to %(max)d characters."),
    _noop("Waits for a second member of staff to approve it."),
    _noop("Refused by import #%(batch)s: %(reason)s To try this line again, send it in a new file."),
    _noop("Already applied by import #%(batch)s."),
)
# Words put into the sentences: the column a problem is in.
WORDS = (_noop("account"), _noop("counterparty"))


@contextmanager
def in_english() -> Iterator[None]:
    """Write line messages in English: the stored form that for_people() translates."""
    with translation.override("en"):
        yield


@cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    """Each sentence as a regular expression catching its values, with the sentence (its msgid)."""
    patterns = []
    with translation.override("en"):  # the refusal sentences of core.errors, as stored
        sentences = [*TEMPLATES, *(str(code.message) for code in ErrorCode)]
    for template in dict.fromkeys(sentences):
        regex, position = "", 0
        for placeholder in re.finditer(r"%\((\w+)\)([sd])", template):
            regex += re.escape(template[position:placeholder.start()])
            name, kind = placeholder.groups()
            regex += rf"(?P<{name}>\d+)" if kind == "d" else rf"(?P<{name}>.+?)"
            position = placeholder.end()
        regex += re.escape(template[position:])
        patterns.append((re.compile(regex + r"(?: |$)", re.S), template))
    # The longest first: a sentence that contains another must win.
    return sorted(patterns, key=lambda pattern: -len(pattern[1]))


def for_people(message: str) -> str:
    """`message` (stored in English) in the active language, sentence by sentence."""
    if not message or translation.get_language() in (None, "en"):
        return message
    said, rest = [], message
    while rest:
        for pattern, template in _patterns():
            match = pattern.match(rest)
            if match:
                values = {name: int(value) if f"%({name})d" in template else _word(name, value)
                          for name, value in match.groupdict().items()}
                said.append(gettext(template) % values)
                rest = rest[match.end():]
                break
        else:
            return message  # not a sentence of ours: as it was stored
    return " ".join(said)


def _word(name: str, value: str) -> str:
    if name == "reason":
        return for_people(value)
    if name == "column" and value in WORDS:
        return gettext(value)
    return value
