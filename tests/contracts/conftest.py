"""contract_api through the gateway and straight to the service."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Stack


@pytest.fixture
def contract_api(stack: Stack, target: str) -> httpx.AsyncClient:
    return stack.gateway if target == "gateway" else stack.direct["contract"]
