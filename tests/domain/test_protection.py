"""Protective orders in the domain: validation, attaching to positions, warnings, preview and P&L at the trigger."""

from decimal import Decimal

import pytest

from kraken_monitor.domain import margin, protection
from kraken_monitor.domain.models import Side
from kraken_monitor.domain.orders import InvalidOrder, OrderSide, OrderSpec, OrderType, TriggerSignal
from kraken_monitor.domain.protection import OrderWarning, Relation
from kraken_monitor.testing.builders import BTC, ETH, RULES, T0, account_state, open_order, position

D = Decimal
# One long: 1 BTC at 20,000, 5x (cost 20,000, margin 4,000), no fees so far, trade balance 10,000, BTC at 20,000.
# Cross margin: equity = 10,000 + (P - 20,000), used margin 4,000 (a long's margin does not move).
# Margin call at 80 %: equity 3,200 -> P = 13,200. Liquidation at 40 %: equity 1,600 -> P = 11,600.
LONG = position("P1", BTC, Side.LONG, "1", "20000", 5)
PRICES = {BTC: D("20000"), ETH: D("2000")}


def figures(*orders, positions=(LONG,)):
    state = account_state("10000", *positions, orders=tuple(orders))
    account, pfs = margin.compute(state, PRICES, RULES, T0)
    return protection.attach(state.orders, pfs, T0)


def stop_spec(**kwargs):
    fields = {"position_id": "P1", "pair": BTC, "type": OrderType.STOP_LOSS, "side": OrderSide.SELL,
              "volume": D("1"), "trigger_price": D("19000")} | kwargs
    return OrderSpec(**fields)


def test_the_engine_s_trigger_prices_are_the_worked_ones():
    (pf,), _ = figures()
    assert pf.margin_call_price == D("13200") and pf.liquidation_price == D("11600")


def test_a_stop_is_attached_with_its_distance_and_net_pnl_if_it_fires():
    (pf,), loose = figures(open_order("S1", trigger="19000"))
    assert loose == ()
    assert [o.id for o in pf.orders] == ["S1"] and pf.orders[0].position_id == "P1"
    assert pf.stop_loss_price == D("19000")
    assert pf.stop_loss_distance_pct == D("5")  # (20,000 - 19,000) / 20,000
    # Sold at 19,000: -1,000 unrealised, minus the closing fee 0.40 % x 19,000 = 76 (no fees paid so far).
    assert pf.stop_loss_pnl == D("-1076")
    assert pf.warnings == ()


def test_reduce_only_is_inferred_for_a_margin_order_on_the_closing_side_no_larger_than_the_position():
    (pf,), _ = figures(open_order("S1", trigger="19000"))
    assert pf.orders[0].reduce_only and pf.orders[0].reduce_only_inferred
    (pf,), _ = figures(open_order("S1", trigger="19000", reduce_only=True))
    assert pf.orders[0].reduce_only and not pf.orders[0].reduce_only_inferred  # Kraken said so
    (pf,), _ = figures(open_order("S1", vol="1.5", trigger="19000"))
    assert not pf.orders[0].reduce_only and not pf.orders[0].reduce_only_inferred


def test_take_profit_and_nearest_stop():
    (pf,), _ = figures(open_order("S1", trigger="18000", vol="0.5"), open_order("S2", trigger="19000", vol="0.5"),
                       open_order("T1", kind="take-profit", trigger="22000"))
    assert pf.stop_loss_price == D("19000")  # the one the price reaches first
    assert pf.take_profit_price == D("22000") and pf.take_profit_distance_pct == D("10")
    # 2,000 gained, minus 0.40 % x 22,000 = 88.
    assert pf.take_profit_pnl == D("1912")
    assert pf.warnings == ()  # two stops of 0.5 each cover the 1 BTC exactly


def test_unprotected_when_no_stop():
    (pf,), _ = figures(open_order("T1", kind="take-profit", trigger="22000"))
    assert pf.warnings == (OrderWarning.UNPROTECTED.value,) == ("unprotected",)
    assert pf.stop_loss_price is None and pf.take_profit_price == D("22000")


def test_stop_beyond_liquidation_never_protects():
    (pf,), _ = figures(open_order("S1", trigger="11000"))  # below the 11,600 liquidation price
    assert pf.warnings == ("stop_beyond_liquidation",)


def test_orders_larger_than_the_position():
    (pf,), _ = figures(open_order("S1", trigger="19000"), open_order("S2", trigger="18000", vol="0.1"))
    assert pf.warnings == ("order_exceeds_position",)  # 1.1 of stops on 1 BTC


def test_orders_that_protect_nothing_are_unattached():
    buy = open_order("B1", kind="limit", side="buy", trigger=None, limit="19000")  # adds to the long
    eth = open_order("E1", pair=ETH, trigger="1900")
    spot = open_order("X1", trigger="19000", margin=False)  # a spot sell: sells coins, not the position
    (pf,), loose = figures(buy, eth, spot)
    assert [o.id for o in loose] == ["B1", "E1", "X1"] and pf.orders == ()


def test_an_order_naming_its_position_goes_to_it():
    older = position("P0", BTC, Side.LONG, "1", "20000", 5, opened=T0.replace(hour=1))
    pfs, _ = figures(open_order("S1", trigger="19000", position_id="P1"), open_order("S0", trigger="19000"),
                     positions=(older, LONG))
    by_id = {pf.position.id: [o.id for o in pf.orders] for pf in pfs}
    assert by_id == {"P0": ["S0"], "P1": ["S1"]}  # the unnamed one goes to the oldest position


def test_short_stop_above_the_price():
    short = position("P2", BTC, Side.SHORT, "1", "20000", 5)
    (pf,), _ = figures(open_order("S1", side="buy", trigger="21000"), positions=(short,))
    assert pf.stop_loss_price == D("21000") and pf.stop_loss_distance_pct == D("5")
    # Bought back at 21,000: -1,000, minus 0.40 % x 21,000 = 84.
    assert pf.stop_loss_pnl == D("-1084")


def test_preview_of_a_stop_between_margin_call_and_liquidation():
    (pf,), _ = figures()
    result = protection.preview(pf, stop_spec(trigger_price=D("12000")), T0)
    assert result.relation is Relation.PAST_MARGIN_CALL
    assert result.trigger_distance_pct == D("40")  # (20,000 - 12,000) / 20,000
    # -8,000 at 12,000, minus 0.40 % x 12,000 = 48.
    assert result.pnl_at_trigger == D("-8048") and result.currency == "USD"
    assert result.vs_margin_call == D("-1200") and result.vs_liquidation == D("400")
    assert result.warnings == ()
    assert protection.preview(pf, stop_spec(), T0).relation is Relation.BEFORE_MARGIN_CALL
    beyond = protection.preview(pf, stop_spec(trigger_price=D("11000")), T0)
    assert beyond.relation is Relation.BEYOND_LIQUIDATION and beyond.warnings == ("stop_beyond_liquidation",)


def test_preview_of_a_half_stop_limit_and_a_trailing_stop():
    (pf,), _ = figures()
    half = protection.preview(pf, stop_spec(type=OrderType.STOP_LOSS_LIMIT, volume=D("0.5"),
                                            limit_price=D("18900")), T0)
    # Fills at its limit 18,900 for half: -550, minus 0.40 % x 9,450 = 37.8.
    assert half.fill_price == D("18900") and half.pnl_at_trigger == D("-587.8")
    trailing = protection.preview(pf, stop_spec(type=OrderType.TRAILING_STOP, trigger_price=None,
                                                trailing_offset=D("2"), trailing_percent=True), T0)
    assert trailing.trigger_price == D("19600") and trailing.trigger_distance_pct == D("2")  # 2 % of 20,000


@pytest.mark.parametrize(("changes", "message"), [
    ({"volume": D("0")}, "volume must be more than zero"),
    ({"volume": D("1.5")}, "more than the position's remaining 1"),
    ({"side": OrderSide.BUY}, "protected by a sell order"),
    ({"trigger_price": D("20500")}, "sell stop must trigger below the price"),
    ({"trigger_price": None}, "needs a trigger price"),
    ({"limit_price": D("18900")}, "takes no limit price"),
    ({"type": OrderType.STOP_LOSS_LIMIT}, "needs a limit price"),
    ({"type": OrderType.TAKE_PROFIT}, "take-profit must trigger above"),
    ({"type": OrderType.TRAILING_STOP, "trigger_price": None}, "needs its trailing distance"),
    ({"type": OrderType.TRAILING_STOP, "trigger_price": None, "trailing_offset": D("100"),
      "trailing_percent": True}, "below 100 %"),
])
def test_validation_messages(changes, message):
    with pytest.raises(InvalidOrder, match=message):
        stop_spec(**changes).validate(D("20000"), D("1"), Side.LONG)


def test_a_valid_spec_passes_and_accepts_strings_for_its_enums():
    spec = OrderSpec("P1", BTC, "take-profit", "sell", D("1"), D("22000"), None, "index", None, False)
    assert spec.type is OrderType.TAKE_PROFIT and spec.trigger is TriggerSignal.INDEX
    assert spec.validate(D("20000"), D("1"), Side.LONG) is spec
    assert OrderSide(Side.LONG) is OrderSide.BUY and OrderSide.closing(Side.LONG) is OrderSide.SELL


def test_the_fast_copy_is_dataclasses_replace_and_keeps_validation_where_there_is_some():
    from dataclasses import dataclass, replace

    from kraken_monitor.domain.protection import _replaced

    @dataclass(frozen=True)
    class Plain:
        a: int = 0
        b: tuple = ()

    @dataclass(frozen=True)
    class Checked:
        a: int = 0

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    plain = Plain(1, (2,))
    copy = _replaced(plain, {"b": (3,)})
    assert copy == replace(plain, b=(3,)) and copy is not plain and plain.b == (2,)  # the original untouched
    with pytest.raises(ValueError):
        _replaced(Checked(1), {"a": -1})  # __post_init__ still judges the new value
    with pytest.raises(TypeError):
        _replaced(plain, {"c": 1})  # an unknown field is refused, as replace() refuses it
