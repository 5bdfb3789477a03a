"""parse_amount: every bad input gives InvalidAmount with a readable reason; good input an exact Decimal."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_monitor.domain.errors import InvalidAmount
from kraken_monitor.text.numbers import fmt_decimal
from kraken_monitor.ui.validators import parse_amount, to_input_text


@pytest.mark.parametrize(
    ("text", "kwargs", "reason"),
    [
        ("", {}, "Enter an amount"),
        ("   ", {}, "Enter an amount"),
        ("0", {}, "greater than zero"),
        ("0.00", {}, "greater than zero"),
        ("-0", {}, "greater than zero"),
        ("-5", {}, "positive"),
        ("\u22125", {}, "positive"),
        ("NaN", {}, "Not a number"),
        ("-nan", {}, "Not a number"),
        ("inf", {}, "finite"),
        ("-Infinity", {}, "finite"),
        ("abc", {}, "Not a number"),
        ("1e5", {}, "Not a number"),
        ("0x10", {}, "Not a number"),
        ("1.2.3", {}, "only once"),
        ("1.234", {}, "At most 2 decimal places"),
        ("1.5", {"decimals": 0}, "Whole numbers only"),
        ("1,5", {}, "Use '.' as the decimal point"),
        ("12,34,567", {}, "group thousands"),
        ("100.01", {"maximum": Decimal("100")}, "More than available"),
        ("9" * 40, {}, "too large"),
        ("\u0661\u0662", {}, "Not a number"),  # Arabic-Indic digits: Decimal would accept them
    ],
)
def test_bad_input_is_refused_with_a_reason(text, kwargs, reason):
    options = {"decimals": 2, "maximum": None} | kwargs
    with pytest.raises(InvalidAmount, match=reason.replace("(", r"\(").replace(".", r"\.")):
        parse_amount(text, **options)


@pytest.mark.parametrize(
    ("text", "point", "expected"),
    [
        ("1.5", ".", Decimal("1.5")),
        ("1,5", ",", Decimal("1.5")),
        ("1.234,56", ",", Decimal("1234.56")),
        ("1,234.56", ".", Decimal("1234.56")),
        ("1,500", ".", Decimal("1500")),
        ("1 234 567", ".", Decimal("1234567")),
        ("1\u202f234,5", ",", Decimal("1234.5")),  # fr_FR groups with a narrow no-break space
        ("+12.50", ".", Decimal("12.5")),
        (".5", ".", Decimal("0.5")),
        ("  250 ", ".", Decimal("250")),
    ],
)
def test_good_input_parses_exactly(text, point, expected):
    value = parse_amount(text, decimals=2, maximum=Decimal("10000000"), decimal_point=point)
    assert value == expected
    assert isinstance(value, Decimal)


def test_zero_allowed_when_asked_and_never_negative_zero():
    value = parse_amount("-0", decimals=2, maximum=None, allow_zero=True)
    assert value == 0 and not value.is_signed()


def test_maximum_is_inclusive_and_message_names_the_unit():
    assert parse_amount("100", decimals=2, maximum=Decimal("100")) == Decimal("100")
    with pytest.raises(InvalidAmount, match="at most 100.00 USD"):
        parse_amount("100.5", decimals=2, maximum=Decimal("100"), unit="USD")


def test_input_text_round_trips_in_both_locales():
    for point in (".", ","):
        text = to_input_text(Decimal("1234.5"), 2, decimal_point=point)
        assert parse_amount(text, decimals=2, maximum=None, decimal_point=point) == Decimal("1234.5")
    assert fmt_decimal(Decimal("1234.5"), 2) == "1,234.50"


_pieces = st.sampled_from(
    [
        "0",
        "1",
        "9",
        "5",
        ".",
        ",",
        " ",
        "-",
        "+",
        "e",
        "E",
        "nan",
        "inf",
        "Infinity",
        "\u2212",
        "'",
        "\u00a0",
        "x",
    ]
)


@given(
    text=st.one_of(
        st.text(max_size=40),
        st.lists(_pieces, max_size=20).map("".join),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ),
    decimals=st.integers(min_value=0, max_value=10),
    maximum=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**9, places=4)),
    allow_zero=st.booleans(),
    point=st.sampled_from([".", ","]),
)
def test_any_text_gives_invalid_amount_or_a_valid_finite_decimal(text, decimals, maximum, allow_zero, point):
    try:
        value = parse_amount(
            text, decimals=decimals, maximum=maximum, allow_zero=allow_zero, decimal_point=point
        )
    except InvalidAmount as err:
        assert str(err)  # always a reason to show
        return
    assert isinstance(value, Decimal) and value.is_finite()
    assert value > 0 or (allow_zero and value == 0 and not value.is_signed())
    assert maximum is None or value <= maximum
    assert value.as_tuple().exponent >= -decimals
