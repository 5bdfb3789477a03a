"""The one `to_decimal`: each option changes exactly the rule it names."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kraken_monitor.domain.decimals import to_decimal
from kraken_monitor.domain.errors import InvalidAmount


def test_thousands_separators_only_when_asked():
    assert to_decimal("1,000", "Amount", thousands=True) == D(1000)
    with pytest.raises(InvalidAmount, match="Amount is not a number"):
        to_decimal("1,000", "Amount")


@pytest.mark.parametrize("value", ["0", "-0", "-5", 0, D("-0.00000001")])
def test_positive_refuses_zero_and_below(value):
    assert to_decimal(value, "Volume") == D(value)  # without the option, any finite number
    with pytest.raises(InvalidAmount, match="Volume must be greater than zero"):
        to_decimal(value, "Volume", positive=True)


def test_floats_are_read_by_their_shortest_repr_only_when_allowed():
    assert to_decimal(0.1, "margin_call", floats=True) == D("0.1")  # not 0.1000000000000000055511151231257827
    with pytest.raises(InvalidAmount, match="exact decimal number, not float"):
        to_decimal(0.1, "margin_call")
    with pytest.raises(InvalidAmount):
        to_decimal(float("nan"), "margin_call", floats=True)


def test_text_only_refuses_numbers_that_should_have_been_strings():
    assert to_decimal(" 12.5 ", "tb", text_only=True) == D("12.5")
    for value in (12, D("12.5"), 12.5):
        with pytest.raises(InvalidAmount, match="expected a numeric string"):
            to_decimal(value, "tb", text_only=True, floats=True)
