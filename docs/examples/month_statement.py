"""A customer's month through the Flux API, with the standard library only.

Signs in, lists the accounts, pages through last month's entries of the first checking account,
makes a transfer with an Idempotency-Key (and sends it again, as a client would after a lost
answer: the money moves once), then saves last month's statement as CSV.

    python docs/examples/month_statement.py [BASE_URL [USERNAME [PASSWORD]]]

or with FLUX_API, FLUX_USERNAME and FLUX_PASSWORD in the environment. Optional: FLUX_TO_IBAN (the
transfer's destination; default: the customer's other account) and FLUX_AMOUNT (default "1.00").
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        error = body.get("error", {})
        super().__init__(f"{status} {error.get('code')}: {error.get('message')} {error.get('fields', '')}")
        self.status, self.code = status, error.get("code")


class Flux:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/") + "/"
        self.access: str | None = None

    def request(self, method: str, path: str, *, body: dict | None = None, query: dict | None = None,
                headers: dict | None = None, attempts: int = 5) -> tuple[int, dict, bytes]:
        """One call: JSON in, (status, response headers, raw body) out. A 429 is retried after
        its Retry-After; any other 4xx/5xx raises ApiError with the error envelope's code."""
        url = urllib.parse.urljoin(self.base_url, path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        all_headers = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        if self.access:
            all_headers["Authorization"] = f"Bearer {self.access}"
        for _ in range(attempts):
            req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as response:
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as error:
                raw = error.read()
                if error.code == 429 and error.headers.get("Retry-After"):
                    time.sleep(int(error.headers["Retry-After"]))
                    continue
                try:
                    envelope = json.loads(raw)
                except ValueError:
                    envelope = {"error": {"code": "http_error", "message": raw[:200].decode(errors="replace")}}
                raise ApiError(error.code, envelope) from None
        raise ApiError(429, {"error": {"code": "throttled", "message": "still throttled, giving up"}})

    def json(self, method: str, path: str, **kwargs) -> dict:
        return json.loads(self.request(method, path, **kwargs)[2] or b"{}")

    def sign_in(self, username: str, password: str) -> dict:
        tokens = self.json("POST", "auth/token/", body={"username": username, "password": password})
        self.access = tokens["access"]
        return tokens

    def pages(self, path: str, query: dict | None = None):
        """Every item of a paginated list, following `next` (cursor links) to the end."""
        page = self.json("GET", path, query=query)
        while True:
            yield from page["results"]
            if not page["next"]:
                return
            page = self.json("GET", page["next"])


def last_month(today: datetime.date) -> tuple[str, str, str]:
    """('YYYY-MM', first day, last day) of the month before `today`."""
    last_day = today.replace(day=1) - datetime.timedelta(days=1)
    return last_day.strftime("%Y-%m"), last_day.replace(day=1).isoformat(), last_day.isoformat()


def main() -> None:
    args = sys.argv[1:]
    base_url = args[0] if len(args) > 0 else os.environ.get("FLUX_API", "http://127.0.0.1:8000/api/v1/")
    username = args[1] if len(args) > 1 else os.environ.get("FLUX_USERNAME", "alice")
    password = args[2] if len(args) > 2 else os.environ["FLUX_PASSWORD"]
    flux = Flux(base_url)

    tokens = flux.sign_in(username, password)
    me = flux.json("GET", "me/")
    print(f"Signed in as {me['username']} ({me['role']})")

    accounts = list(flux.pages("accounts/"))
    for account in accounts:
        print(f"  account {account['id']} {account['iban']} {account['kind']:8} "
              f"balance {account['balance']} {account['currency']}, available {account['available']}")
    checking = next(a for a in accounts if a["kind"] == "checking")

    month, first, last = last_month(datetime.date.today())
    entries = list(flux.pages(f"accounts/{checking['id']}/entries/", {"from": first, "to": last, "page_size": 10}))
    amounts = [Decimal(entry["amount"]) for entry in entries]  # decimal strings: never floats
    money_in, money_out = sum(a for a in amounts if a > 0), -sum(a for a in amounts if a < 0)
    print(f"{month}: {len(entries)} entries on {checking['iban']} (pages of 10), in {money_in}, out {money_out}")

    destination = os.environ.get("FLUX_TO_IBAN") or next(a["iban"] for a in accounts if a["id"] != checking["id"])
    transfer = {"source_account": checking["id"], "destination_iban": destination,
                "amount": os.environ.get("FLUX_AMOUNT", "1.00"), "reference": "Example script"}
    key = str(uuid.uuid4())  # one key per operation, kept until it is known to have succeeded
    status, headers, raw = flux.request("POST", "transfers/", body=transfer, headers={"Idempotency-Key": key})
    first_answer = json.loads(raw)
    print(f"Transfer {first_answer['id']}: {status} {first_answer['status']} {first_answer['amount']} "
          f"{first_answer['currency']} to {first_answer['destination_iban']}")
    # Say the answer was lost: sending the same request with the same key is safe.
    status, headers, raw = flux.request("POST", "transfers/", body=transfer, headers={"Idempotency-Key": key})
    print(f"Retried with the same key: {status}, Idempotent-Replayed: {headers.get('Idempotent-Replayed')}, "
          f"same transfer: {json.loads(raw)['id'] == first_answer['id']}")

    _, headers, csv_bytes = flux.request("GET", f"accounts/{checking['id']}/statement/",
                                         query={"month": month, "format": "csv"})
    file_name = headers["Content-Disposition"].split('filename="')[1].rstrip('"')
    with open(file_name, "wb") as statement:
        statement.write(csv_bytes)
    text = csv_bytes.decode("utf-8-sig")
    print(f"Saved {file_name} ({len(csv_bytes)} bytes): " + "; ".join(text.splitlines()[3:7]))

    flux.request("POST", "auth/logout/", body={"refresh": tokens["refresh"]})
    print("Signed out (the refresh token is revoked)")


if __name__ == "__main__":
    try:
        main()
    except ApiError as error:
        sys.exit(f"Flux API error: {error}")
