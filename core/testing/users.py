"""The passwords test users get: TEST_PASSWORD from the factories (identity/tests/factories.py),
API_PASSWORD from the API tests' make_user (banking/tests/api_support.py)."""

TEST_PASSWORD = "flux-test-password-2026"
API_PASSWORD = "api-test-password-2026"
