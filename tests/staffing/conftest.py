"""A contracted county with one dispatched worker, for the tests that need a dispatch's wage."""

from tests.penalties.conftest import case, penalty_api  # noqa: F401 - fixtures
