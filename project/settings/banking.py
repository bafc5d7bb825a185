"""Settings of the ledger's rules and of money with other banks (banking/, banking/clearing/).
Imported by base.py."""

import os
from decimal import Decimal

# --- Ledger rules ---------------------------------------------------------------------------
# Amounts at or above these thresholds wait for a second staff member's approval.
FLUX_APPROVAL_THRESHOLD = Decimal(os.environ.get("FLUX_APPROVAL_THRESHOLD", "10000.00"))
FLUX_CASH_APPROVAL_THRESHOLD = Decimal(os.environ.get("FLUX_CASH_APPROVAL_THRESHOLD", "5000.00"))
FLUX_PENDING_TTL_DAYS = int(os.environ.get("FLUX_PENDING_TTL_DAYS", "7"))
# An agent approves pending transactions up to this amount; a supervisor approves any amount.
FLUX_AGENT_APPROVAL_LIMIT = Decimal(os.environ.get("FLUX_AGENT_APPROVAL_LIMIT", "50000.00"))
FLUX_DEFAULT_CURRENCY = "EUR"
FLUX_CURRENCIES = ("EUR", "USD", "GBP", "CHF")
# Flux IBANs: country NL, bank code FLUX (a code no real Dutch bank uses).
FLUX_IBAN_COUNTRY = "NL"
FLUX_IBAN_BANK_CODE = "FLUX"
# Flux's name and BIC as printed on receipts (proof of payment); the BIC's bank and country codes
# follow the IBANs' (FLUX, NL).
FLUX_BANK_NAME = os.environ.get("FLUX_BANK_NAME", "Flux")
FLUX_BIC = os.environ.get("FLUX_BIC", "FLUXNL2AXXX")
# Money with other banks (banking/clearing/, docs/clearing.md): Flux's own account at its
# correspondent bank, the debtor of every pain.001 file and the account of every camt.053
# statement; the pain.001 version written; the daily cut-off (local time, TIME_ZONE) at which the
# scheduler runs clearing by itself when something waits.
FLUX_CLEARING_IBAN = os.environ.get("FLUX_CLEARING_IBAN", "NL36INGB0007654321")
# The correspondent's BIC: the debtor agent of every pain.001 file (Flux's account is held there).
FLUX_CLEARING_BIC = os.environ.get("FLUX_CLEARING_BIC", "INGBNL2AXXX")
FLUX_CLEARING_SCHEMA = "pain.001.001.09"
FLUX_CLEARING_CUTOFF = os.environ.get("FLUX_CLEARING_CUTOFF", "15:00")
# A camt.053 statement (POST clearing/statements/, the desk's upload) of up to this many bytes: a
# day of 10,000 entries with names and remittance is some 8 MB. The API's body limit for that path
# is the same (core/middleware.py body_limit); the reader refuses a larger file as validation_error.
FLUX_STATEMENT_MAX_BYTES = int(os.environ.get("FLUX_STATEMENT_MAX_BYTES", str(16 * 1024 * 1024)))
FLUX_API_STATEMENT_PATHS = ("/api/v1/clearing/statements/",)
# Idempotency keys are kept at least this long; then the scheduler (or `manage.py purge_idempotency_keys`) purges them.
FLUX_IDEMPOTENCY_TTL_HOURS = int(os.environ.get("FLUX_IDEMPOTENCY_TTL_HOURS", "48"))
