"""The passwords test users get: TEST_PASSWORD from the factories (identity/tests/factories.py),
API_PASSWORD from make_user (identity/tests/factories.py), which the API tests use."""

TEST_PASSWORD = "flux-test-password-2026"
API_PASSWORD = "api-test-password-2026"
