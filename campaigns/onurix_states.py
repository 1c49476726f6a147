"""The one mapping from Onurix's state text to our per-phone states.

Onurix reports a call's state as free text. Known: `Enviado` (accepted, queued),
`Entregado` (delivered: for a call, answered), `Rechazado` (failed; credits refunded) and
`Error:<code> msg: <text>`. Anything else is kept raw by the caller and treated as still
sent (not final), never as an error of ours.
"""

import re
import unicodedata
from dataclasses import dataclass

from .models import CallResult

_ERROR = re.compile(r"^\s*error\s*:?\s*(?P<code>\d+)?\s*(?:msg\s*:)?\s*(?P<text>.*)$", re.I | re.S)


@dataclass(frozen=True)
class MappedState:
    state: str  # a CallResult.State value
    error_code: int | None = None
    error_message: str = ""
    refunded: bool = False  # Onurix gives the credits back for this state
    known: bool = True  # False: a text we have never seen; kept raw, shown as such


def _bare(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def map_onurix_state(text: str) -> MappedState:
    """Our state for Onurix's state text. Never raises, whatever the text."""
    bare = _bare(text or "")
    if bare == "enviado":
        return MappedState(CallResult.State.SENT)
    if bare in {"entregado", "leido"}:
        return MappedState(CallResult.State.ANSWERED)
    if bare == "rechazado":
        return MappedState(CallResult.State.FAILED, refunded=True)
    if bare.startswith("error"):
        match = _ERROR.match(text or "")
        code = int(match.group("code")) if match and match.group("code") else None
        message = match.group("text").strip() if match else text
        return MappedState(CallResult.State.FAILED, error_code=code, error_message=message)
    return MappedState(CallResult.State.SENT, known=False)
