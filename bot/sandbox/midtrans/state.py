"""`MidtransState`: the simulator's memory and behaviour, composed of its parts."""

from __future__ import annotations

from bot.sandbox.midtrans.refunds import AfterSale

# --------------------------------------------------------------------------------------------------------------
# State: everything the simulator knows, and the rules for changing it


class MidtransState(AfterSale):
    """The simulator's memory and behaviour, shared by the HTTP handlers and `MidtransSimulator`."""
