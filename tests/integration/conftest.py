"""Fixtures of the integration tests of every service."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
async def client(api):
    """An HTTP client of the `api` fixture's process (each service's folder says which API that is)."""
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as client:
        yield client
