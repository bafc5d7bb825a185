"""Request and response examples of the banking API for the OpenAPI schema: alice's checking
account NL20FLUX0000000017 (id 17) and bob's NL24FLUX0000000042 (id 42)."""

from drf_spectacular.utils import OpenApiExample

ALICE_IBAN = "NL20FLUX0000000017"
BOB_IBAN = "NL24FLUX0000000042"
EXTERNAL_IBAN = "DE89370400440532013000"

ACCOUNT = {
    "id": 17, "iban": ALICE_IBAN, "kind": "checking", "currency": "EUR", "balance": "1250.00",
    "available": "1125.00", "overdraft_limit": "0.00", "status": "active", "customer": 5,
    "opened_at": "2026-03-02T09:14:00Z",
}
ENTRY = {
    "id": 301, "transaction": 88, "amount": "-125.00", "balance_after": "1125.00", "kind": "transfer",
    "counterparty": BOB_IBAN, "reference": "Rent March", "created_at": "2026-03-31T18:02:11Z",
}
TRANSFER_POSTED = {
    "id": 88, "kind": "transfer", "status": "posted", "amount": "125.00", "currency": "EUR",
    "source_account": 17, "source_iban": ALICE_IBAN, "destination_account": 42, "destination_iban": BOB_IBAN,
    "reference": "Rent March", "initiated_by": 5, "created_at": "2026-03-31T18:02:11Z",
    "posted_at": "2026-03-31T18:02:11Z", "expires_at": None, "decided_by": None, "decided_at": None,
    "decision_reason": "", "reverses": None, "reversed_by": None, "reversal_status": None,
}
TRANSFER_PENDING = {
    **TRANSFER_POSTED, "id": 91, "status": "pending", "amount": "12500.00", "destination_account": None,
    "destination_iban": EXTERNAL_IBAN, "kind": "external_transfer", "reference": "Car", "posted_at": None,
    "expires_at": "2026-04-08T10:00:00Z", "created_at": "2026-04-01T10:00:00Z",
}
DEPOSIT = {
    **TRANSFER_POSTED, "id": 95, "kind": "deposit", "amount": "200.00", "source_account": 2,
    "source_iban": "NL37FLUX0000000002", "destination_account": 17, "destination_iban": ALICE_IBAN,
    "reference": "Cash at the counter", "initiated_by": 3,
}
APPROVED = {**TRANSFER_PENDING, "status": "posted", "posted_at": "2026-04-01T11:30:00Z", "decided_by": 4,
            "decided_at": "2026-04-01T11:30:00Z"}
REJECTED = {**TRANSFER_PENDING, "status": "rejected", "decided_by": 4, "decided_at": "2026-04-01T11:30:00Z",
            "decision_reason": "The customer called to cancel it."}
CANCELLED = {**TRANSFER_PENDING, "status": "cancelled", "decided_by": 5, "decided_at": "2026-04-01T10:20:00Z"}
REVERSAL = {
    **TRANSFER_POSTED, "id": 97, "kind": "reversal", "status": "pending", "source_account": 42,
    "source_iban": BOB_IBAN, "destination_account": 17, "destination_iban": ALICE_IBAN,
    "reference": "Reversal of #88: Paid twice by mistake.", "initiated_by": 3, "created_at": "2026-04-01T10:00:00Z",
    "posted_at": None, "expires_at": "2026-04-08T10:00:00Z", "reverses": 88,
}


def response(name: str, value: dict, status: int = 200, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary or name, response_only=True,
                          status_codes=[str(status)])


def request(name: str, value: dict, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary or name, request_only=True)


ACCOUNT_EXAMPLES = [response("Account", ACCOUNT)]
ACCOUNT_OPEN_EXAMPLES = [
    request("Open a savings account", {"customer": 5, "kind": "savings", "currency": "EUR"}),
    response("Opened", {**ACCOUNT, "id": 18, "iban": "NL90FLUX0000000018", "kind": "savings",
                        "balance": "0.00", "available": "0.00"}, 201),
]
REASON_EXAMPLES = [request("Reason", {"reason": "Card reported stolen by the customer."}), response("Account", ACCOUNT)]
OVERDRAFT_EXAMPLES = [
    request("Overdraft", {"overdraft_limit": "500.00", "reason": "Salary account, reviewed."}),
    response("Account", {**ACCOUNT, "overdraft_limit": "500.00", "available": "1625.00"}),
]
ENTRY_EXAMPLES = [response("Entry", ENTRY)]
TRANSACTION_EXAMPLES = [
    response("Posted transfer", TRANSFER_POSTED),
    response("Pending transfer", TRANSFER_PENDING),
    response("Posted transfer, its reversal waiting for approval",
             {**TRANSFER_POSTED, "reversed_by": 97, "reversal_status": "pending"}),
]
TRANSFER_LIST_EXAMPLES = [response("Transfer", TRANSFER_POSTED)]
TRANSFER_CREATE_EXAMPLES = [
    request("To a Flux account", {"source_account": 17, "destination_iban": BOB_IBAN, "amount": "125.00",
                                  "reference": "Rent March"}),
    request("To another bank, pending approval",
            {"source_account": 17, "destination_iban": EXTERNAL_IBAN, "amount": "12500.00", "reference": "Car"}),
    response("Posted", TRANSFER_POSTED, 201),
    response("Pending", TRANSFER_PENDING, 201),
]
TRANSFER_BATCH_EXAMPLES = [
    request("Two transfers", {"transfers": [
        {"source_account": 17, "destination_iban": BOB_IBAN, "amount": "125.00", "reference": "Rent March"},
        {"source_account": 17, "destination_iban": EXTERNAL_IBAN, "amount": "900000.00", "reference": "Boat"},
    ]}),
    response("Results in order", {"results": [
        {"status": "posted", "transaction": TRANSFER_POSTED},
        {"status": "refused", "error": {"code": "insufficient_funds",
                                        "message": "Account NL20FLUX0000000017 does not have enough available funds."}},
    ]}),
]
CASH_EXAMPLES = [
    request("Cash", {"account": 17, "amount": "200.00", "reference": "Cash at the counter"}),
    response("Posted", DEPOSIT, 201),
]
APPROVAL_LIST_EXAMPLES = [response("Pending transfer", TRANSFER_PENDING), response("Pending reversal", REVERSAL)]
APPROVE_EXAMPLES = [response("Approved", APPROVED)]
CANCEL_EXAMPLES = [response("Cancelled", CANCELLED)]
REJECT_EXAMPLES = [request("Reason", {"reason": "The customer called to cancel it."}), response("Rejected", REJECTED)]
REVERSE_EXAMPLES = [request("Reason", {"reason": "Paid twice by mistake."}), response("Reversal", REVERSAL, 201)]
BENEFICIARY = {"id": 7, "name": "Bob", "iban": BOB_IBAN, "created_at": "2026-03-01T08:00:00Z"}
BENEFICIARY_EXAMPLES = [response("Beneficiary", BENEFICIARY)]
BENEFICIARY_CREATE_EXAMPLES = [request("Save", {"name": "Bob", "iban": "NL24 FLUX 0000 0000 42"}),
                               response("Saved", BENEFICIARY, 201)]
BENEFICIARY_RENAME_EXAMPLES = [request("Rename", {"name": "Bob (rent)"}),
                               response("Renamed", {**BENEFICIARY, "name": "Bob (rent)"})]
