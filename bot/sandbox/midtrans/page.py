"""The sandbox payment page ("Sandbox — no real money moves"): its HTML and its buttons' outcomes."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template
from typing import Final

from aiohttp import web
from yarl import URL

from bot.sandbox.midtrans.errors import PaymentRefused
from bot.sandbox.midtrans.records import SnapTransaction
from bot.sandbox.midtrans.rules import AFTER_SALE, OUTCOMES, PAGE_METHODS, REVERSIBLE, WIB, format_rupiah
from bot.sandbox.midtrans.state import MidtransState
from bot.sandbox.midtrans.validation import offered

PAGE_OUTCOMES: Final = (*OUTCOMES, "pay_lost", *AFTER_SALE, "approve", "deny_challenge")
"""Every button of the payment page ("pay_lost": pay, and every notification of it is lost)."""


async def _run_page_outcome(state: MidtransState, txn: SnapTransaction, outcome: str, choice: str) -> None:
    order_id = txn.order_id
    if outcome in OUTCOMES or outcome == "pay_lost":
        choice = choice or (f"{txn.payment_type}:{txn.bank or txn.store}" if txn.payment_type else "")
        payment_type, _, detail = choice.partition(":")
        bank = detail or None if payment_type == "bank_transfer" else None
        store = detail or None if payment_type == "cstore" else None
        if detail and bank is None and store is None:
            raise PaymentRefused("invalid", f"{payment_type} takes no bank or store")
        await state.simulate_payment(order_id, "pay" if outcome == "pay_lost" else outcome,
                                     payment_type=payment_type, bank=bank, store=store,
                                     notify=outcome != "pay_lost")
    elif outcome == "reverse":
        await state.reverse(order_id)
    elif outcome == "cancel":
        await state.cancel_after_payment(order_id)
    elif outcome in {"chargeback", "partial_chargeback"}:
        await state.chargeback(order_id, _partial_amount(txn) if outcome == "partial_chargeback" else None)
    elif outcome in {"refund", "partial_refund"}:
        await state.dashboard_refund(order_id, _partial_amount(txn) if outcome == "partial_refund" else None)
    elif outcome in {"approve", "deny_challenge"}:
        status, body = await state.core_action(order_id, "approve" if outcome == "approve" else "deny")
        if status != 200:
            raise PaymentRefused("not_allowed", body["status_message"])
    else:
        raise PaymentRefused("invalid", f"outcome must be one of {', '.join(PAGE_OUTCOMES)}")


def _partial_amount(txn: SnapTransaction) -> int:
    """The page's "partial" amount: one item's price when that is less than what is left, else half of it."""
    left = txn.refundable
    prices = [int(i["price"]) for i in txn.item_details if 0 < int(i["price"]) < left]
    if prices:
        return prices[0]
    if left < 2:
        raise PaymentRefused("not_allowed", "too little is left for a partial amount")
    return left // 2


# --------------------------------------------------------------------------------------------------------------
# The payment page


@cache
def _template() -> Template:
    text = resources.files("bot.sandbox").joinpath("static/midtrans_pay.html").read_text(encoding="utf-8")
    return Template(text)


def _not_found_page() -> web.Response:
    section = '<section class="card"><h2>Payment page not found</h2><p>This link is not valid.</p></section>'
    text = _template().safe_substitute(title="Not found", body=section)
    return web.Response(text=text, status=404, content_type="text/html")


def finish_redirect_url(txn: SnapTransaction) -> str | None:
    """`callbacks.finish` with `order_id`, `status_code` and `transaction_status` added, as Snap redirects."""
    if not txn.finish_url:
        return None
    query: dict[str, str] = {"order_id": txn.order_id}
    if txn.current is not None:
        query["status_code"] = txn.current["status_code"]
        query["transaction_status"] = txn.current["transaction_status"]
    return str(URL(txn.finish_url).update_query(query))


def render_payment_page(
    state: MidtransState, txn: SnapTransaction, request: web.Request, *, notice: str | None = None,
) -> str:
    """The HTML payment page for a transaction in its current state."""
    e = html.escape
    rows = "".join(
        f'<tr><td>{e(str(i["name"]))}<span class="muted"> × {int(i["quantity"])}</span></td>'
        f'<td class="num">{e(format_rupiah(int(i["price"]) * int(i["quantity"])))}</td></tr>'
        for i in txn.item_details
    )
    customer = txn.customer_details
    buyer = " ".join(str(customer.get(k, "")) for k in ("first_name", "last_name")).strip()
    parts = [
        '<section class="card">',
        f'<div class="label">Order</div><div class="order-id">{e(txn.order_id)}</div>',
        f'<div class="muted">{e(buyer)}</div>' if buyer else "",
        f'<table class="items">{rows}</table>' if rows else "",
        f'<div class="total"><span>Total</span><span class="amount">{e(format_rupiah(txn.gross_amount))}</span></div>',
        f'<div class="muted">Pay before {e(txn.expires_at.astimezone(WIB).strftime("%d %b %Y, %H:%M"))} WIB</div>',
        "</section>",
    ]
    if notice:
        parts.append(f'<section class="notice">{e(notice)}</section>')

    status = txn.transaction_status
    if status is not None and status != "pending":
        parts.append(_result_section(state, txn, request))
    elif state.is_expired(txn):
        parts.append('<section class="card result expired"><h2>Expired</h2>'
                     "<p>This payment page has expired. No payment can be made.</p></section>")
        parts.append(_finish_link(state, txn))
    else:
        parts.append(_choose_section(txn, request))
    title = e(f"Pay {format_rupiah(txn.gross_amount)} — {txn.order_id}")
    return _template().safe_substitute(title=title, body="\n".join(p for p in parts if p))


def _choose_section(txn: SnapTransaction, request: web.Request) -> str:
    e = html.escape
    action = request.app.router["snap_simulate"].url_for(token=txn.token)
    chosen = _page_choice(txn) or "bank_transfer:bca"
    shown = [(value, label) for value, label in PAGE_METHODS if _page_offers(txn, value)]
    if chosen not in {value for value, _ in shown} and shown:
        chosen = shown[0][0]
    options = "".join(
        f'<label class="method"><input type="radio" name="payment_type" value="{e(value)}"'
        f'{" checked" if value == chosen else ""}><span>{e(label)}</span></label>'
        for value, label in shown
    )
    waiting = ""
    if txn.transaction_status == "pending":
        waiting = f'<div class="pending">Waiting for payment via {e(_method_label(txn))}{_pay_details(txn)}</div>'
    return (
        f'<section class="card"><h2>Choose how to pay</h2>{waiting}'
        f'<form method="post" action="{e(str(action))}">'
        f'<div class="methods">{options}</div>'
        '<button class="btn pay" name="outcome" value="pay">Pay</button>'
        '<div class="row"><button class="btn fail" name="outcome" value="fail">Fail</button>'
        '<button class="btn expire" name="outcome" value="expire">Let expire</button></div>'
        '<div class="row"><button class="btn other" name="outcome" value="pay_lost">Pay, lose the notification'
        '</button><button class="btn other" name="outcome" value="challenge">Card: fraud challenge</button></div>'
        "</form></section>"
    )


def _page_offers(txn: SnapTransaction, value: str) -> bool:
    payment_type, _, detail = value.partition(":")
    return offered(txn, payment_type, detail or None, None)


def _page_choice(txn: SnapTransaction) -> str | None:
    if txn.payment_type is None:
        return None
    detail = txn.bank or txn.store
    return f"{txn.payment_type}:{detail}" if detail else txn.payment_type


def _method_label(txn: SnapTransaction) -> str:
    choice = _page_choice(txn)
    return dict(PAGE_METHODS).get(choice or "", choice or "")


def _pay_details(txn: SnapTransaction) -> str:
    """What a buyer needs to pay a pending transaction: the VA number, bill key, payment code or QR / app link."""
    e = html.escape
    current = txn.current or {}
    if txn.payment_type == "bank_transfer" and txn.va_number:
        return f" — VA number <b>{e(txn.va_number)}</b>"
    if txn.payment_type == "echannel":
        return f" — biller code <b>70012</b>, bill key <b>{e(txn.bill_key or '')}</b>"
    if txn.payment_type == "cstore":
        return f" — payment code <b>{e(txn.payment_code or '')}</b> at {e((txn.store or '').capitalize())}"
    links = [
        f'<a href="{e(a["url"])}">{e({"generate-qr-code": "QR code", "deeplink-redirect": "open the app"}[a["name"]])}'
        "</a>"
        for a in current.get("actions", []) if a["name"] in {"generate-qr-code", "deeplink-redirect"}
    ]
    return " — " + ", ".join(links) if links else ""


def _result_section(state: MidtransState, txn: SnapTransaction, request: web.Request) -> str:
    e = html.escape
    current = txn.current or {}
    status = current.get("transaction_status", "")
    fraud = current.get("fraud_status")
    paid = status == "settlement" or (status == "capture" and fraud in {"accept", None})
    reversed_ = status == "deny" and "settlement" in txn.statuses
    kind, title = (
        ("paid", "Payment successful") if paid
        else ("failed", "Payment reversed") if reversed_
        else ("expired", "Expired") if status == "expire"
        else ("failed", "Payment failed") if status in {"deny", "cancel"}
        else ("other", "Payment under fraud review") if status == "capture" and fraud == "challenge"
        else ("other", status.replace("_", " ").capitalize())
    )
    sent = [d for d in state.deliveries if d.order_id == txn.order_id]
    lost = [txn.history[i]["transaction_status"] for o, i in state.lost if o == txn.order_id]
    if sent or lost:
        items = "".join(
            f"<li><code>{e(str(d.transaction_status))}</code> → "
            f"{e(f'HTTP {d.http_status}' if d.http_status is not None else 'no answer')}</li>"
            for d in sent
        ) + "".join(f"<li><code>{e(s)}</code> → lost (never sent)</li>" for s in lost)
        deliveries = f'<div class="label">Notifications to the merchant</div><ul class="log">{items}</ul>'
    else:
        deliveries = '<p class="muted">No notification was sent (no notification URL is set).</p>'
    money = ""
    if txn.refund_total or txn.chargeback_total:
        money = (f'<p class="muted">Refunded {e(format_rupiah(txn.refund_total))}, charged back '
                 f"{e(format_rupiah(txn.chargeback_total))}, left {e(format_rupiah(txn.refundable))}</p>")
    return (
        f'<section class="card result {kind}"><h2>{e(title)}</h2>'
        f'<p>{e(format_rupiah(txn.gross_amount))} via {e(_method_label(txn))} — status <code>{e(status)}</code></p>'
        f"{money}{deliveries}</section>{_after_sale_section(txn, request)}{_finish_link(state, txn)}"
    )


def _after_sale_section(txn: SnapTransaction, request: web.Request) -> str:
    """Buttons for what Midtrans documents after this status (Transaction Status Cycle)."""
    e = html.escape
    current = txn.current or {}
    status, fraud = current.get("transaction_status"), current.get("fraud_status")
    sold = status == "settlement" or (status == "capture" and fraud != "challenge")
    buttons: list[tuple[str, str]] = []
    if status == "capture" and fraud == "challenge":
        buttons += [("approve", "Merchant approves"), ("deny_challenge", "Merchant denies")]
    method = (txn.payment_type, txn.bank if txn.payment_type == "bank_transfer" else txn.store)
    if status == "settlement" and method in REVERSIBLE:
        buttons.append(("reverse", "Reversal (settlement → deny)"))
    if status in {"capture", "authorize"}:
        buttons.append(("cancel", "Cancel (void the capture)"))
    partial_ok = txn.refundable >= 2
    if sold or status == "partial_chargeback":
        buttons.append(("chargeback", "Chargeback"))
        if partial_ok:
            buttons.append(("partial_chargeback", f"Partial chargeback ({format_rupiah(_safe_partial(txn))})"))
    if sold or status == "partial_refund":
        buttons.append(("refund", "Refund from the dashboard"))
        if partial_ok:
            label = f"Partial refund from the dashboard ({format_rupiah(_safe_partial(txn))})"
            buttons.append(("partial_refund", label))
    if not buttons:
        return ""
    action = request.app.router["snap_simulate"].url_for(token=txn.token)
    items = "".join(f'<button class="btn other" name="outcome" value="{e(v)}">{e(label)}</button>'
                    for v, label in buttons)
    return (f'<section class="card"><h2>After the sale</h2><p class="muted">What Midtrans, a bank or the dashboard '
            f'may do next. Each sends its notification.</p><form method="post" action="{e(str(action))}">'
            f'<div class="methods">{items}</div></form></section>')


def _safe_partial(txn: SnapTransaction) -> int:
    try:
        return _partial_amount(txn)
    except PaymentRefused:
        return 0


def _finish_link(state: MidtransState, txn: SnapTransaction) -> str:
    url = finish_redirect_url(txn)
    if url is None:
        return ""
    if state.finish_link_rewrite is not None:
        url = state.finish_link_rewrite(url)
    return f'<a class="btn back" href="{html.escape(url)}">Back to the merchant</a>'
