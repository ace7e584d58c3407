"""JSON reading: orjson reads a file when it reads it as the standard library would, and every
key given twice, wide integer and deep nesting is still found and refused the same way."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.io import MAX_DEPTH, loads_json

#: Keys and strings with what could fool a scan of the text: quotes, colons, backslashes, blanks.
TEXT = st.text(alphabet=st.sampled_from('ab":\\ \n\t{}[],é'), max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**29), max_value=10**29)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
#: The ways a writer may lay out JSON: compact, indented, blanks before colons.
LAYOUTS = st.sampled_from(
    [{}, {"indent": 1}, {"separators": (",", ":")}, {"separators": (", ", " : ")}]
)


def exact(value: Any) -> str:
    """The value written back: tells 1 from 1.0 and True from 1, as ``==`` does not."""
    return json.dumps(value, sort_keys=True)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(VALUES, LAYOUTS)
def test_a_file_reads_as_the_standard_library_reads_it(value: Any, layout: dict[str, Any]) -> None:
    text = json.dumps(value, ensure_ascii=False, **layout)
    assert exact(loads_json(text)) == exact(json.loads(text))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(TEXT, SCALARS), min_size=1, max_size=5), st.integers(0, 3))
def test_a_key_given_twice_is_refused_wherever_it_is(
    pairs: list[tuple[str, Any]], depth: int
) -> None:
    text = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"
    text = '{"x": [' * depth + text + "]}" * depth
    keys = [k for k, _ in pairs]
    twice = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
    if twice is None:
        assert loads_json(text) == json.loads(text)
    else:
        with pytest.raises(ValueError, match="is given twice") as error:
            loads_json(text)
        assert str(error.value) == f"key {twice!r} is given twice"


def test_a_key_given_twice_after_a_string_with_a_quote_and_colon_is_refused() -> None:
    with pytest.raises(ValueError, match="key 'a' is given twice"):
        loads_json('{"x": "q\\": 1", "a": 1, "a": 2}')
    assert loads_json('{"x": "q\\": 1", "a": 1}') == {"x": 'q": 1', "a": 1}


@pytest.mark.parametrize("number", [2**63 - 1, 2**63, 2**64, -(2**63), -(2**63) - 1, 10**29])
def test_integers_wider_than_64_bits_stay_integers(number: int) -> None:
    assert loads_json(f'{{"a": {number}}}') == {"a": number}
    assert type(loads_json(f"[{number}]")[0]) is int
    assert loads_json(str(number)) == number and type(loads_json(str(number))) is int


def test_an_integer_over_30_digits_is_refused() -> None:
    with pytest.raises(ValueError, match="an integer of 31 digits"):
        loads_json("[" + "9" * 31 + "]")


def test_nesting_is_refused_one_level_past_the_limit() -> None:
    assert loads_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels deep"):
        loads_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels deep"):
        loads_json('{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))


def test_what_the_standard_library_reads_beyond_json_is_still_read() -> None:
    # NaN and overflowing floats are refused by orjson, read by the standard library (and
    # then refused by the schema where a number is expected, with the field named).
    values = loads_json("[NaN, 1e400, -Infinity]")
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]


def test_a_syntax_error_names_line_and_column() -> None:
    with pytest.raises(json.JSONDecodeError) as error:
        loads_json('{\n "a": 1,\n}')
    assert (error.value.lineno, error.value.colno) == (3, 1)
