"""IBANs: generated with valid mod-97 check digits for Flux accounts, validated for everyone else."""

from __future__ import annotations

import functools
import secrets

from django.conf import settings
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from core.errors import ApplicationError


def normalize_iban(value: str) -> str:
    return "".join(str(value).split()).upper()


def group_iban(iban: object) -> str:
    """"NL91FLUX0417164300" -> "NL91 FLUX 0417 1643 00": groups of four, as IBANs are printed and
    read aloud (pages, statements, receipts). Whatever spaces it came with are dropped first."""
    compact = "".join(str(iban or "").split())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def parse_iban(value: object) -> IBAN:
    """Validate an IBAN (country format, length, mod-97 check digits) or raise `invalid_iban`."""
    if not isinstance(value, str) or not value.strip():
        raise ApplicationError("invalid_iban", "Enter an IBAN.")
    try:
        return _valid_iban(normalize_iban(value))
    except (SchwiftyException, ValueError) as exc:
        raise ApplicationError("invalid_iban", f"This is not a valid IBAN: {exc}.") from exc


@functools.lru_cache(maxsize=4096)
def _valid_iban(text: str) -> IBAN:
    """schwifty's validation of one IBAN, remembered: a transfer parsed its destination twice, each
    time about 0.1 ms of CPU (its registry look-ups and mod-97; py-spy, 16 clients, issue 11), and
    customers pay the same IBANs again and again. An IBAN object is never changed after it is
    made; an invalid one raises, which lru_cache does not remember."""
    return IBAN(text)


def is_flux_iban(iban: IBAN) -> bool:
    return iban.country_code == settings.FLUX_IBAN_COUNTRY and iban.bank_code == settings.FLUX_IBAN_BANK_CODE


def generate_flux_iban() -> str:
    """A new random Flux IBAN (NLkk FLUX nnnn nnnn nn); the caller retries on a collision."""
    account_code = f"{secrets.randbelow(10**10):010d}"
    return str(
        IBAN.generate(
            settings.FLUX_IBAN_COUNTRY, bank_code=settings.FLUX_IBAN_BANK_CODE, account_code=account_code
        )
    )
