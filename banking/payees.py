"""Verification of payee (EU Instant Payments Regulation): before paying an IBAN, the payer is told
whether the name they typed is the account holder's. Flux can answer for its own IBANs only.

Names are compared as words: case, accents (Unicode NFKD, combining marks dropped), punctuation and
word order do not count ("martin alice" is "Alice Martin", "Élodie" is "elodie"). The rule:

- match: the same words;
- close_match: not the same, but near: difflib's ratio of the two names (words joined by a space, the
  typed words in whichever order is nearest the holder's, so that a typo does not reorder them) is
  at least CLOSE_RATIO (0.8: "Alice Marten" for "Alice Martin", "Bob Bilder" for "Bob Builder", a
  typo or two). Only then is the name on record given back, so that the payer can correct it;
- no_match: anything else, and also a Flux IBAN that holds no customer account: the two are told
  apart by nothing, so the answer never says whether an IBAN is Flux's customer's;
- unavailable: another bank's IBAN (Flux does not know its holders).

A no_match never carries the holder's name. The API rate-limits the check (scope `payee_check`),
so that it cannot be used to list who holds which IBAN.
"""

from __future__ import annotations

import difflib
import itertools
import unicodedata
from dataclasses import dataclass

from django.db.models import Value
from django.db.models.functions import Concat, Trim

from banking.iban import is_flux_iban, parse_iban
from banking.models import Account, PayeeCheck
from core.errors import ValidationFailed

CLOSE_RATIO = 0.8
MAX_PERMUTED_WORDS = 5
MAX_NAME = 70


@dataclass(frozen=True)
class PayeeCheckResult:
    result: PayeeCheck
    name: str | None = None  # the name on record, on a close match only

    def as_body(self) -> dict:
        body: dict = {"result": self.result.value}
        if self.name is not None:
            body["name"] = self.name
        return body


def name_words(name: str) -> list[str]:
    """A name as sorted words without case, accents or punctuation: "Élodie  d'Arc" -> ["arc", "d", "elodie"]."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    bare = "".join(character for character in decomposed if not unicodedata.combining(character)).casefold()
    cleaned = "".join(character if character.isalnum() else " " for character in bare)
    return sorted(cleaned.split())


def compare_names(typed: str, on_record: str) -> PayeeCheck:
    """match, close_match or no_match (the module's rule)."""
    typed_words, record_words = name_words(typed), name_words(on_record)
    if not typed_words or not record_words:
        return PayeeCheck.NO_MATCH
    if typed_words == record_words:
        return PayeeCheck.MATCH
    record = " ".join(record_words)
    # Every order of a short name (at most 5! = 120 tries of a few dozen characters); a longer one sorted.
    orders = itertools.permutations(typed_words) if len(typed_words) <= MAX_PERMUTED_WORDS else [typed_words]
    ratio = max(difflib.SequenceMatcher(None, " ".join(order), record).ratio() for order in orders)
    return PayeeCheck.CLOSE_MATCH if ratio >= CLOSE_RATIO else PayeeCheck.NO_MATCH


def holder_name_of(iban: str) -> str | None:
    """The name of the customer holding this Flux IBAN, or None (no such customer account). One query."""
    return (
        Account.objects.filter(iban=iban, customer__isnull=False)
        .annotate(holder=Trim(Concat("customer__first_name", Value(" "), "customer__last_name")))
        .values_list("holder", flat=True)
        .first()
    )


def payee_check(*, iban: str, name: str) -> PayeeCheckResult:
    """Check `name` against the holder of `iban`.

    Errors: invalid_iban (not an IBAN), validation_error (no name, or longer than 70 characters)."""
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed({"name": ["Enter the payee's name."]})
    if len(name) > MAX_NAME:
        raise ValidationFailed({"name": [f"Keep the name to {MAX_NAME} characters."]})
    parsed = parse_iban(iban)
    if not is_flux_iban(parsed):
        return PayeeCheckResult(PayeeCheck.UNAVAILABLE)
    return check_against(name, holder_name_of(str(parsed)))


def check_against(name: str, holder_name: str | None) -> PayeeCheckResult:
    """The answer for `name` when the IBAN's holder is `holder_name` (None or "": no customer)."""
    if not holder_name:
        return PayeeCheckResult(PayeeCheck.NO_MATCH)
    result = compare_names(name, holder_name)
    return PayeeCheckResult(result, holder_name if result == PayeeCheck.CLOSE_MATCH else None)
