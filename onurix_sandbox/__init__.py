"""A local fake of the Onurix API for tests, development and benchmarks.

Run it with ``python -m onurix_sandbox`` or, in tests::

    with start_sandbox(SandboxConfig(settle_seconds=0.2)) as sandbox:
        requests.post(sandbox.url + "/call/send", data={...})

``SandboxConfig(dialect="phones_national,states_caps")`` answers in other plausible shapes
(``DIALECTS`` describes each).

Standard library only; never imports ``campaigns`` or Django.
"""

from onurix_sandbox.api import GROUPS, VOICES, CallRecord, SandboxState
from onurix_sandbox.config import DIALECTS, SandboxConfig
from onurix_sandbox.server import SandboxServer, start_sandbox

__all__ = [
    "DIALECTS",
    "GROUPS",
    "VOICES",
    "CallRecord",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "start_sandbox",
]
