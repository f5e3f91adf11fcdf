"""Exports are tried on the funds' lists and reports too."""

from tests.funds.conftest import funds  # noqa: F401 - a fixture
