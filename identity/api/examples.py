"""Request and response examples of the identity API for the OpenAPI schema."""

from drf_spectacular.utils import OpenApiExample

# Shortened; real tokens are longer JWTs.
ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6NX0.Zm9v"
REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsInVzZXJfaWQiOjV9.YmFy"
CUSTOMER = {
    "id": 5, "username": "alice", "first_name": "Alice", "last_name": "Martin", "email": "alice@example.com",
    "phone": "+31 6 1234 5678", "address": "Keizersgracht 1, 1015 CJ Amsterdam", "is_active": True,
    "date_joined": "2026-01-15T10:00:00Z", "password_set": True,
}
CONTACT = {"email": "alice@example.com", "phone": "+31 6 1234 5678", "address": "Keizersgracht 1, 1015 CJ Amsterdam"}
STAFF_MEMBER = {
    "id": 3, "username": "agnes", "role": "agent", "first_name": "Agnes", "last_name": "Visser",
    "email": "agnes@flux.example", "is_active": True, "has_2fa": True, "locked_out": False, "password_set": True,
}


def response(name: str, value: dict, status: int = 200) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status)])


def request(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


TOKEN_OBTAIN_EXAMPLES = [
    request("Customer", {"username": "alice", "password": "correct horse battery staple"}),
    request("Staff with two-factor sign-in", {"username": "agnes", "password": "correct horse battery staple",
                                              "otp": "492039"}),
    response("Token pair", {"access": ACCESS, "refresh": REFRESH}),
]
TOKEN_REFRESH_EXAMPLES = [request("Refresh", {"refresh": REFRESH}),
                          response("New pair", {"access": ACCESS, "refresh": REFRESH})]
LOGOUT_EXAMPLES = [request("Refresh token", {"refresh": REFRESH})]
ME_EXAMPLES = [response("Customer", {"id": 5, "username": "alice", "role": "customer", "first_name": "Alice",
                                     "last_name": "Martin", "email": "alice@example.com"})]
CUSTOMER_EXAMPLES = [response("Customer", CUSTOMER)]
CUSTOMER_CREATE_EXAMPLES = [
    request("Without a password: a link is mailed", {"username": "carol", "first_name": "Carol",
                                                     "last_name": "Jansen", "email": "carol@example.com",
                                                     "phone": "+31 6 8765 4321"}),
    response("Created; the link to choose a password went to carol@example.com",
             {**CUSTOMER, "id": 9, "username": "carol", "first_name": "Carol", "last_name": "Jansen",
              "email": "carol@example.com", "phone": "+31 6 8765 4321", "address": "", "password_set": False}, 201),
]
CONTACT_EXAMPLES = [request("New phone", {"phone": "+31 6 2222 3333"}), response("Contact", CONTACT)]
CUSTOMER_CONTACT_EXAMPLES = [request("New address", {"address": "Prinsengracht 2, 1015 DV Amsterdam"}),
                             response("Customer", {**CUSTOMER, "address": "Prinsengracht 2, 1015 DV Amsterdam"})]
PASSWORD_EXAMPLES = [request("Change", {"old_password": "correct horse battery staple",
                                        "new_password": "a longer passphrase of my own"})]
STAFF_LIST_EXAMPLES = [response("Staff", {"results": [STAFF_MEMBER], "next": None, "previous": None})]
STAFF_MEMBER_EXAMPLES = [response("Member of staff", STAFF_MEMBER)]
AGENT_CREATE_EXAMPLES = [
    request("New agent", {"username": "anton", "first_name": "Anton", "last_name": "de Vries",
                          "email": "anton@flux.example"}),
    response("Created; the link to choose a password went to anton@flux.example",
             {**STAFF_MEMBER, "id": 11, "username": "anton", "first_name": "Anton", "last_name": "de Vries",
              "email": "anton@flux.example", "has_2fa": False, "password_set": False}, 201),
]
