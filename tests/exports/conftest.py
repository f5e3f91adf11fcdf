"""Exports are tried on the funds' and the penalties' lists and reports too."""

from tests.funds.conftest import funds  # noqa: F401 - a fixture
from tests.penalties.conftest import case, penalty_api  # noqa: F401 - fixtures
