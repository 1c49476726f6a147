"""Message placeholders, rendering per contact, batching for call/send, speech length."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.personalisation import (
    SPEECH_WORDS_PER_MINUTE,
    count_requests,
    estimate_speech_seconds,
    has_placeholders,
    message_placeholders,
    plan_batches,
    render_message,
    unknown_placeholders,
)

field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(),
    st.lists(st.text(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
# Text rich in the characters the renderer cares about, so the property tests reach them.
message_text = st.text(alphabet=st.sampled_from("{} \t\n,.¿¡!?abcñÑé_0{{}}")) | st.text()


# Finding placeholders


def test_placeholders_are_words_in_single_braces():
    message = "Hola {nombre} {Apellido}, su pago de {monto_1} vence el { fecha }."
    assert message_placeholders(message) == {"nombre", "Apellido", "monto_1", "fecha"}
    assert has_placeholders(message)


@pytest.mark.parametrize(
    "message",
    ["", "Hola", "Hola { } mundo", "{{", "}}", "{", "}{", "{fecha de pago}", "{-}", "{a-b}"],
)
def test_other_brace_text_is_not_a_placeholder(message):
    assert message_placeholders(message) == set()
    assert not has_placeholders(message)
    assert render_message(message, first_name="Ana") == message


def test_unknown_placeholders_are_those_nobody_can_fill():
    message = "{Nombre} {first_name} {APELLIDO} {last_name} {ciudad} {Fecha_de_Pago} {deuda}"
    assert unknown_placeholders(message, ["Ciudad", "fecha de pago"]) == {"deuda"}
    assert unknown_placeholders(message, []) == {"ciudad", "Fecha_de_Pago", "deuda"}


def test_field_names_match_without_accents():
    assert unknown_placeholders("{codigo} {ciudád}", ["Código", "ciudad"]) == set()
    assert render_message("Su {codigo}", custom_fields={"Código": "A1"}) == "Su A1"


# Rendering


def test_names_and_custom_fields_are_filled():
    message = "Hola {nombre} {apellido}, su cita en {Ciudad} es el {fecha_de_pago}."
    rendered = render_message(
        message,
        first_name="Ana",
        last_name="Pérez",
        custom_fields={"ciudad": "Medellín", "Fecha de pago": "5 de mayo"},
    )
    assert rendered == "Hola Ana Pérez, su cita en Medellín es el 5 de mayo."


def test_english_aliases_and_padded_placeholders():
    assert render_message("{first_name} { last_name }", first_name="Ana", last_name="Ruiz") == (
        "Ana Ruiz"
    )


def test_built_in_names_win_over_custom_fields():
    assert render_message("{nombre}", first_name="Ana", custom_fields={"nombre": "X"}) == "Ana"


def test_custom_field_values_that_are_not_text():
    fields = {"monto": 150000, "activo": True, "nada": None, "decimal": 1.5}
    assert render_message("{monto} {activo} {nada}{decimal}", custom_fields=fields) == (
        "150000 True 1.5"
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Hola {nombre}, ¿cómo está?", "Hola, ¿cómo está?"),
        ("Hola {nombre} {apellido}, bienvenido", "Hola, bienvenido"),
        ("Hola {nombre}", "Hola"),
        ("Hola {nombre}.", "Hola."),
        ("Hola, {nombre}.", "Hola."),
        ("Hola, {nombre}, le llamamos", "Hola, le llamamos"),
        ("{nombre}, le llamamos", "le llamamos"),
        ("¡Hola {nombre}!", "¡Hola!"),
        ("¿{nombre}, sabía que...?", "¿sabía que...?"),
        ("Hola {nombre} le llamamos", "Hola le llamamos"),
        ("Hola {nombre}\nAdiós", "Hola\nAdiós"),
        ("Hola {nombre}{apellido} x", "Hola x"),
        ("{nombre}", ""),
    ],
)
def test_an_empty_value_leaves_no_gap(message, expected):
    assert render_message(message) == expected


def test_one_empty_name_beside_a_filled_one():
    assert render_message("Hola {nombre} {apellido}, x", last_name="Ruiz") == "Hola Ruiz, x"
    assert render_message("Hola {nombre} {apellido}, x", first_name="Ana") == "Hola Ana, x"
    assert render_message("Hola {nombre}{apellido}, x", last_name="Ruiz") == "Hola Ruiz, x"


def test_unknown_placeholders_render_as_nothing():
    assert render_message("Hola {nombre}, su {deuda} vence", first_name="Ana") == (
        "Hola Ana, su vence"
    )


def test_odd_braces_around_placeholders():
    assert render_message("{{nombre}}", first_name="Ana") == "{Ana}"
    assert render_message("{ } {nombre} {{ }}", first_name="Ana") == "{ } Ana {{ }}"
    # str.format syntax is not ours: "{0}" is an (unknown) placeholder, the rest is text.
    assert render_message("{0} {nombre!r} {nombre:>10}", first_name="Ana") == (
        "{nombre!r} {nombre:>10}"
    )


def test_a_message_without_placeholders_is_the_same_object():
    message = "Le recordamos su cita de mañana."
    assert render_message(message, first_name="Ana") is message
    assert render_message("Texto {con llaves}") == "Texto {con llaves}"


@given(
    message=message_text,
    first_name=st.text(),
    last_name=st.text(),
    custom_fields=st.dictionaries(st.text(), field_values, max_size=5),
)
def test_render_message_never_raises(message, first_name, last_name, custom_fields):
    rendered = render_message(
        message, first_name=first_name, last_name=last_name, custom_fields=custom_fields
    )
    assert isinstance(rendered, str)
    if not has_placeholders(message):
        assert rendered == message


@given(message=st.text().filter(lambda text: "{" not in text), first_name=st.text())
def test_a_message_without_a_brace_is_returned_unchanged(message, first_name):
    assert render_message(message, first_name=first_name, custom_fields={"x": 1}) == message


@given(message=message_text)
def test_filled_placeholders_leave_no_placeholder_behind(message):
    # A value with a hyphen cannot form a new placeholder with the braces around it.
    names = message_placeholders(message)
    rendered = render_message(message, custom_fields=dict.fromkeys(names, "v-w"))
    assert message_placeholders(rendered) == set()


# Batching


def test_identical_messages_go_out_in_full_batches():
    items = [(f"57300{index:07d}", "Recuerde su cita.") for index in range(10_000)]
    batches = plan_batches(items, batch_size=50)
    assert len(batches) == 200
    assert all(len(keys) == 50 and text == "Recuerde su cita." for text, keys in batches)
    assert batches[0][1][0] == "573000000000"
    assert batches[-1][1][-1] == "573000009999"


def test_personalised_messages_are_grouped_by_identical_text():
    items = [(1, "Hola Ana"), (2, "Hola Luis"), (3, "Hola Ana"), (4, "Hola"), (5, "Hola Ana")]
    assert plan_batches(items, batch_size=2) == [
        ("Hola Ana", [1, 3]),
        ("Hola Ana", [5]),
        ("Hola Luis", [2]),
        ("Hola", [4]),
    ]


def test_plan_batches_of_nothing_is_empty():
    assert plan_batches([], batch_size=10) == []
    assert count_requests([], batch_size=10) == 0


def test_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        plan_batches([(1, "x")], batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        count_requests(["x"], batch_size=0)


def test_plan_batches_accepts_a_generator():
    batches = plan_batches(((index, "x") for index in range(5)), batch_size=2)
    assert batches == [("x", [0, 1]), ("x", [2, 3]), ("x", [4])]


@given(
    texts=st.lists(st.sampled_from(["a", "b", "c", "", "Hola Ana"]), max_size=300),
    batch_size=st.integers(min_value=1, max_value=40),
)
def test_every_key_goes_out_exactly_once_in_bounded_batches(texts, batch_size):
    items = list(enumerate(texts))
    batches = plan_batches(items, batch_size=batch_size)

    sent = [key for _, keys in batches for key in keys]
    assert sorted(sent) == list(range(len(texts)))
    assert all(1 <= len(keys) <= batch_size for _, keys in batches)
    assert all(texts[key] == text for text, keys in batches for key in keys)
    # Keys stay in input order within each text, and texts in order of first appearance.
    for text in set(texts):
        assert [key for t, keys in batches if t == text for key in keys] == [
            key for key, t in items if t == text
        ]
    assert list(dict.fromkeys(text for text, _ in batches)) == list(dict.fromkeys(texts))
    assert plan_batches(items, batch_size=batch_size) == batches
    assert count_requests(texts, batch_size=batch_size) == len(batches)


def test_count_requests_matches_the_plan_for_the_preview():
    texts = ["a"] * 101 + ["b"] * 50 + ["c"]
    assert count_requests(texts, batch_size=50) == 3 + 1 + 1
    assert count_requests(iter(texts), batch_size=50) == len(
        plan_batches(enumerate(texts), batch_size=50)
    )


# Speech length


def test_speech_estimate():
    assert SPEECH_WORDS_PER_MINUTE == 150
    assert estimate_speech_seconds("") == 0
    assert estimate_speech_seconds("   \n ") == 0
    assert estimate_speech_seconds("Hola") == 1
    assert estimate_speech_seconds(" ".join(["palabra"] * 150)) == 60
    assert estimate_speech_seconds(" ".join(["palabra"] * 151)) == 61
    assert estimate_speech_seconds(" ".join(["palabra"] * 25)) == 10


@given(st.text())
def test_speech_estimate_grows_with_the_text(text):
    assert 0 <= estimate_speech_seconds(text) <= estimate_speech_seconds(text + " y más")
