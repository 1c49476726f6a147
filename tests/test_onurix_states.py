"""The one mapping from Onurix's state text to our per-phone states."""

import pytest

from campaigns.models import CallResult
from campaigns.onurix_states import map_onurix_state

State = CallResult.State


@pytest.mark.parametrize(
    ("text", "state", "refunded"),
    [
        ("Enviado", State.SENT, False),
        ("Entregado", State.ANSWERED, False),
        ("Leído", State.ANSWERED, False),
        ("Rechazado", State.FAILED, True),
        ("ENTREGADO", State.ANSWERED, False),
        ("  rechazado\n", State.FAILED, True),
        ("Leido", State.ANSWERED, False),
        ("enviado", State.SENT, False),
    ],
)
def test_documented_states(text, state, refunded):
    mapped = map_onurix_state(text)
    assert mapped.state == state
    assert mapped.refunded is refunded
    assert mapped.known
    assert mapped.error_code is None and mapped.error_message == ""


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("Error:1081 msg: Destino inaccesible", 1081, "Destino inaccesible"),
        ("Error: 1081 msg: Destino inaccesible", 1081, "Destino inaccesible"),
        ("error:2002 MSG: Número no existe", 2002, "Número no existe"),
        ("Error:1081", 1081, ""),
        ("Error: msg: sin código", None, "sin código"),
        ("Error", None, ""),
        ("Error:1081 msg: a: b: c", 1081, "a: b: c"),
    ],
)
def test_error_states_keep_code_and_text(text, code, message):
    mapped = map_onurix_state(text)
    assert mapped.state == State.FAILED
    assert mapped.error_code == code
    assert mapped.error_message == message
    assert mapped.known and not mapped.refunded


@pytest.mark.parametrize(
    "text",
    ["", "   ", "Buzón de voz", "No contesta", "Ocupado", "Pendiente", "🤖", "x" * 10_000, None],
)
def test_unknown_texts_are_kept_as_sent_and_never_raise(text):
    mapped = map_onurix_state(text)
    assert mapped.state == State.SENT
    assert not mapped.known
    assert mapped.error_code is None and not mapped.refunded
