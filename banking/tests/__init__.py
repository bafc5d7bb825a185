import pytest

# The shared helpers assert like the tests do; let pytest rewrite them too, so that a failing
# assert there reports its values (this package is imported before it).
pytest.register_assert_rewrite("banking.tests.factories")
