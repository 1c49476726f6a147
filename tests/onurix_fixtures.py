"""Pytest fixtures for the Onurix sandbox and client. Registered by the root conftest.py.

No Django here: these fixtures work with and without pytest-django.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from campaigns.onurix import OnurixClient
from onurix_sandbox import SandboxConfig, SandboxServer, start_sandbox

# A key nobody would type: tests assert it never appears in logs, exceptions or bodies.
CANARY_KEY = "CANARY-KEY-7f3a9c"
SANDBOX_CLIENT_ID = "1000"
SANDBOX_KEY = "sandbox-key"


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Factory: ``make_sandbox(**config_overrides)`` starts a sandbox on a free port of
    127.0.0.1; every sandbox started is shut down after the test."""
    started: list[SandboxServer] = []

    def make(**config_overrides: object) -> SandboxServer:
        server = start_sandbox(SandboxConfig(**config_overrides))
        started.append(server)
        return server

    yield make
    for server in started:
        server.shutdown()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A sandbox with the default config (client 1000, key sandbox-key)."""
    return make_sandbox()


@pytest.fixture
def onurix_client(sandbox: SandboxServer) -> Iterator[OnurixClient]:
    """A client of the `sandbox` fixture, 2 s timeout."""
    client = OnurixClient(sandbox.url, SANDBOX_CLIENT_ID, SANDBOX_KEY, timeout=2)
    yield client
    client.close()
