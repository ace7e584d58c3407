"""YAML reading from libyaml's events: what it reads is what PyYAML's safe loader reads, for
every layout and scalar style (plain, quoted, tagged), however often a text repeats."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from models.io import PlatformFileError, parse_text

#: Texts whose meaning depends on their quotes and YAML 1.1's resolvers.
WORDS = st.sampled_from(
    ["1", "1.5", "yes", "no", "on", "~", "null", "", "0o17", "0x1f", "1_000", "2024-01-02", "a b"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | WORDS
    | st.text(max_size=5)
)
KEYS = WORDS | st.text(alphabet="abc:-# ", min_size=1, max_size=4) | st.integers(0, 3)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)
STYLES = st.sampled_from([None, False, True])


@settings(max_examples=300, derandomize=True, deadline=None)
@given(VALUES, STYLES)
def test_a_file_reads_as_the_safe_loader_reads_it(value: Any, flow: bool | None) -> None:
    # Copies, so that the dumper writes the value out thrice rather than with an anchor.
    copies = [copy.deepcopy(value) for _ in range(3)]
    text = yaml.safe_dump({"a": copies[0], "b": copies[1:]}, default_flow_style=flow)
    assert parse_text(text, "x.yaml") == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!str 1\nb: 1\nc: !!str 1\n",
        "a: !!int '7'\nb: '7'\n",
        "a: ! 1\nb: 1\n",
        "a: !!float 1\nb: [1, !!float 1]\n",
    ],
)
def test_a_tag_changes_what_a_text_means_and_only_there(text: str) -> None:
    assert parse_text(text, "x.yaml") == yaml.safe_load(text)


def test_a_key_given_twice_in_a_nested_mapping_is_refused_at_its_line() -> None:
    text = "a:\n  b: 1\n  c:\n    - {x: 1, x: 2}\n"
    with pytest.raises(PlatformFileError) as error:
        parse_text(text, "x.yaml")
    assert error.value.lines() == ["x.yaml:4:14: YAML syntax error: key 'x' is given twice"]


def test_a_mapping_as_a_key_is_refused() -> None:
    with pytest.raises(PlatformFileError, match="a key must be a plain value"):
        parse_text("? {a: 1}\n: 1\n", "x.yaml")
