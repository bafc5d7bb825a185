"""The password every test user signs in with: the factories' (identity/tests/factories.py, the
demo cast of the root conftest.py) and make_user's alike."""

TEST_PASSWORD = "flux-test-password-2026"
