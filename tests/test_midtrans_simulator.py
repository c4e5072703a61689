"""The Midtrans simulator, over real HTTP on 127.0.0.1, driven by the real midtransclient."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import midtransclient
import pytest
from aiohttp import web
from midtransclient.error_midtrans import MidtransAPIError

from bot.sandbox.midtrans import (
    MIDTRANS_STATE,
    MidtransSimulator,
    PaymentRefused,
    create_midtrans_app,
    format_rupiah,
    signature_key,
)

SERVER_KEY = "SB-Mid-server-simulator-TEST-key"
WIB = timezone(timedelta(hours=7))


def expected_signature(body: dict[str, Any], server_key: str = SERVER_KEY) -> str:
    """Computed here, independently of the simulator, exactly as FIELD-NOTES describes."""
    raw = body["order_id"] + body["status_code"] + body["gross_amount"] + server_key
    return hashlib.sha512(raw.encode()).hexdigest()


def verifies(body: dict[str, Any]) -> bool:
    return hmac.compare_digest(body.get("signature_key", ""), expected_signature(body))


class Receiver:
    """A tiny merchant webhook: records every JSON body it is sent and answers `answer`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.answer = 200
        self.url = ""
        app = web.Application()
        app.router.add_post("/midtrans/notification", self._handle)
        self._runner = web.AppRunner(app)

    async def _handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.json_response({"ok": True}, status=self.answer)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/midtrans/notification"

    async def stop(self) -> None:
        await self._runner.cleanup()

    @property
    def statuses(self) -> list[str]:
        return [b["transaction_status"] for b in self.bodies]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    await rec.start()
    yield rec
    await rec.stop()


@pytest.fixture
async def sim(receiver: Receiver) -> AsyncIterator[MidtransSimulator]:
    async with MidtransSimulator(SERVER_KEY, notification_url=receiver.url) as simulator:
        yield simulator


@pytest.fixture
def snap(sim: MidtransSimulator) -> midtransclient.Snap:
    client = midtransclient.Snap(is_production=False, server_key=SERVER_KEY)
    client.api_config.SNAP_SANDBOX_BASE_URL = sim.base_url + "/snap/v1"
    return client


@pytest.fixture
def core(sim: MidtransSimulator) -> midtransclient.CoreApi:
    client = midtransclient.CoreApi(is_production=False, server_key=SERVER_KEY)
    client.api_config.CORE_SANDBOX_BASE_URL = sim.base_url
    return client


def snap_body(order_id: str, amount: int = 150_000, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_details": {"order_id": order_id, "gross_amount": amount},
        "item_details": [{"id": "vip", "price": amount // 2, "quantity": 2, "name": "VIP — Java Jazz"}],
        "customer_details": {"first_name": "Budi", "last_name": "Santoso", "email": "budi@example.com"},
    }
    body.update(extra)
    return body


async def create(snap: midtransclient.Snap, body: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.to_thread(snap.create_transaction, body)


async def api_error(call: Any, *args: Any) -> MidtransAPIError:
    with pytest.raises(MidtransAPIError) as info:
        await asyncio.to_thread(call, *args)
    return info.value


# -- Snap create


async def test_create_returns_token_and_redirect_url(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    body = snap_body("KRC-0001", callbacks={"finish": "https://karcis.example/paid"},
                     expiry={"start_time": "2030-01-31 13:45:00 +0700", "unit": "minute", "duration": 30})
    result = await create(snap, body)

    assert set(result) == {"token", "redirect_url"}
    assert result["redirect_url"] == f"{sim.base_url}/snap/v4/redirection/{result['token']}"
    txn = sim.transaction("KRC-0001")
    assert txn.token == result["token"]
    assert txn.gross_amount == 150_000
    assert txn.customer_details["first_name"] == "Budi"
    assert txn.finish_url == "https://karcis.example/paid"
    assert txn.expires_at == datetime(2030, 1, 31, 14, 15, tzinfo=WIB)
    assert txn.history == []


async def test_public_base_url_prefixes_redirect_url(receiver: Receiver) -> None:
    async with MidtransSimulator(SERVER_KEY, public_base_url="https://pay.karcis.example/") as sim:
        client = midtransclient.Snap(is_production=False, server_key=SERVER_KEY)
        client.api_config.SNAP_SANDBOX_BASE_URL = sim.snap_base_url
        result = await create(client, snap_body("KRC-public"))
    assert result["redirect_url"] == f"https://pay.karcis.example/snap/v4/redirection/{result['token']}"


async def test_reused_order_id_is_refused(snap: midtransclient.Snap) -> None:
    await create(snap, snap_body("KRC-0002"))
    err = await api_error(snap.create_transaction, snap_body("KRC-0002"))
    assert err.http_status_code == 400
    assert err.api_response_dict == {"error_messages": ["transaction_details.order_id sudah digunakan"]}


async def test_item_sum_must_equal_gross_amount(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    body = snap_body("KRC-0003", 150_000)
    body["item_details"].append({"id": "fee", "price": 1, "quantity": 1, "name": "Fee"})
    err = await api_error(snap.create_transaction, body)
    assert err.http_status_code == 400
    assert "transaction_details.gross_amount is not equal to the sum of item_details" in (
        err.api_response_dict["error_messages"])
    assert "KRC-0003" not in sim.transactions


async def test_negative_item_is_a_discount(snap: midtransclient.Snap) -> None:
    body = snap_body("KRC-0004", 140_000)
    body["item_details"] = [
        {"id": "vip", "price": 75_000, "quantity": 2, "name": "VIP"},
        {"id": "promo", "price": -10_000, "quantity": 1, "name": "Promo"},
    ]
    assert "token" in await create(snap, body)


@pytest.mark.parametrize("order_id", ["KRC#1", "KRC 1", "KRC/1", "pesanan-é", "x" * 51, ""])
async def test_bad_order_id_is_refused(snap: midtransclient.Snap, order_id: str) -> None:
    err = await api_error(snap.create_transaction, snap_body(order_id))
    assert err.http_status_code == 400
    assert any("order_id" in m for m in err.api_response_dict["error_messages"])


async def test_every_allowed_order_id_character_is_accepted(snap: midtransclient.Snap) -> None:
    assert "token" in await create(snap, snap_body("Az09-_~." + "x" * 42))


@pytest.mark.parametrize("amount", [0, -5, 1.5, "150000", True])
async def test_gross_amount_must_be_a_positive_integer(snap: midtransclient.Snap, amount: Any) -> None:
    body = snap_body("KRC-amount")
    body["transaction_details"]["gross_amount"] = amount
    del body["item_details"]
    err = await api_error(snap.create_transaction, body)
    assert err.http_status_code == 400
    assert any("gross_amount" in m for m in err.api_response_dict["error_messages"])


async def test_wrong_auth_is_401(sim: MidtransSimulator) -> None:
    wrong = midtransclient.Snap(is_production=False, server_key="SB-Mid-server-wrong")
    wrong.api_config.SNAP_SANDBOX_BASE_URL = sim.snap_base_url
    err = await api_error(wrong.create_transaction, snap_body("KRC-auth"))
    assert err.http_status_code == 401
    assert "error_messages" in err.api_response_dict

    wrong_core = midtransclient.CoreApi(is_production=False, server_key="SB-Mid-server-wrong")
    wrong_core.api_config.CORE_SANDBOX_BASE_URL = sim.api_base_url
    assert (await api_error(wrong_core.transactions.status, "KRC-auth")).http_status_code == 401

    async with aiohttp.ClientSession() as http:
        for headers in (
            {},
            {"Authorization": aiohttp.encode_basic_auth(SERVER_KEY, "not-empty")},
            {"Authorization": aiohttp.encode_basic_auth("", SERVER_KEY)},
            {"Authorization": f"Bearer {SERVER_KEY}"},
            {"Authorization": "Basic not-base64!"},
        ):
            async with http.post(f"{sim.snap_base_url}/transactions", json=snap_body("KRC-auth"),
                                 headers=headers) as r:
                assert r.status == 401
        async with http.post(f"{sim.snap_base_url}/transactions", json=snap_body("KRC-auth"),
                             headers={"Authorization": aiohttp.encode_basic_auth(SERVER_KEY)}) as r:
            assert r.status == 201
    assert list(sim.transactions) == ["KRC-auth"]


# -- status API


async def test_status_is_404_before_payment_then_full_status(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi,
) -> None:
    await create(snap, snap_body("KRC-0010"))
    err = await api_error(core.transactions.status, "KRC-0010")
    assert err.http_status_code == 404
    assert err.api_response_dict["status_code"] == "404"
    assert err.api_response_dict["status_message"] == "Transaction doesn't exist."
    assert (await api_error(core.transactions.status, "KRC-never-created")).http_status_code == 404

    await sim.set_status("KRC-0010", "pending")
    pending = await asyncio.to_thread(core.transactions.status, "KRC-0010")
    assert pending["transaction_status"] == "pending"
    assert pending["status_code"] == "201"
    assert "settlement_time" not in pending

    await sim.set_status("KRC-0010", "settlement")
    status = await asyncio.to_thread(core.transactions.status, "KRC-0010")
    assert status["status_code"] == "200"
    assert status["order_id"] == "KRC-0010"
    assert status["gross_amount"] == "150000.00"
    assert status["currency"] == "IDR"
    assert status["payment_type"] == "bank_transfer"
    assert status["transaction_status"] == "settlement"
    assert status["fraud_status"] == "accept"
    assert status["transaction_id"] == sim.transaction("KRC-0010").transaction_id
    assert status["transaction_time"] == pending["transaction_time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", status["settlement_time"])
    assert status["va_numbers"][0]["bank"] == "bca"
    assert status["va_numbers"][0]["va_number"] == pending["va_numbers"][0]["va_number"]
    assert status["status_message"]
    assert verifies(status)

    by_transaction_id = await asyncio.to_thread(core.transactions.status, status["transaction_id"])
    assert by_transaction_id == status


@pytest.mark.parametrize(
    ("transaction_status", "payment_type", "fraud_status", "code"),
    [
        ("pending", "gopay", None, "201"),
        ("settlement", "gopay", None, "200"),
        ("capture", "credit_card", None, "200"),
        ("capture", "credit_card", "challenge", "201"),
        ("deny", "credit_card", None, "202"),
        ("cancel", "bank_transfer", None, "202"),
        ("expire", "bank_transfer", None, "202"),
        ("refund", "bank_transfer", None, "200"),
    ],
)
async def test_status_codes(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi,
    transaction_status: str, payment_type: str, fraud_status: str | None, code: str,
) -> None:
    await create(snap, snap_body("KRC-codes"))
    body = await sim.set_status("KRC-codes", transaction_status, payment_type=payment_type, fraud_status=fraud_status)
    assert body["status_code"] == code
    status = await asyncio.to_thread(core.transactions.status, "KRC-codes")
    assert status == body
    assert verifies(status)
    if payment_type == "credit_card":
        assert status["fraud_status"] == (fraud_status or ("deny" if transaction_status == "deny" else "accept"))


async def test_signature_verifies_and_matches_the_helper(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    await create(snap, snap_body("KRC-sig.1~x_y"))
    body = await sim.set_status("KRC-sig.1~x_y", "capture", payment_type="credit_card")
    assert body["signature_key"] == expected_signature(body)
    assert body["signature_key"] == signature_key("KRC-sig.1~x_y", "200", "150000.00", SERVER_KEY)
    assert not hmac.compare_digest(body["signature_key"], expected_signature(body, "SB-Mid-server-other"))


async def test_extra_fields_and_removal(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    await create(snap, snap_body("KRC-extra"))
    body = await sim.set_status("KRC-extra", "settlement", extra={"fraud_status": None, "store": "alfamart"})
    assert "fraud_status" not in body
    assert body["store"] == "alfamart"
    assert verifies(body)


# -- notifications


async def test_notify_delivers_signed_body(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-0020"))
    status = await sim.set_status("KRC-0020", "settlement")

    assert await sim.notify(receiver.url, "KRC-0020") == [200]
    [body] = receiver.bodies
    assert verifies(body)
    assert body["status_message"] == "midtrans payment notification"
    assert {k: v for k, v in body.items() if k != "status_message"} == {
        k: v for k, v in status.items() if k != "status_message"}
    assert sim.deliveries[-1].http_status == 200
    assert sim.deliveries[-1].body == body


async def test_notify_defaults_to_notification_url(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-0021"))
    await sim.set_status("KRC-0021", "pending")
    assert await sim.notify(None, "KRC-0021") == [200]
    assert receiver.statuses == ["pending"]

    sim.notification_url = None
    with pytest.raises(ValueError):
        await sim.notify(None, "KRC-0021")


async def test_duplicates_and_out_of_order(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-0022"))
    await sim.set_status("KRC-0022", "pending")
    await sim.set_status("KRC-0022", "settlement")
    assert sim.transaction("KRC-0022").statuses == ["pending", "settlement"]

    assert await sim.notify(receiver.url, "KRC-0022", duplicates=3) == [200, 200, 200]
    assert await sim.notify_snapshot(receiver.url, "KRC-0022", 0) == [200]
    assert receiver.statuses == ["settlement", "settlement", "settlement", "pending"]
    assert receiver.bodies[0] == receiver.bodies[1] == receiver.bodies[2]
    assert all(verifies(b) for b in receiver.bodies)
    assert receiver.bodies[3]["status_code"] == "201"
    assert "settlement_time" not in receiver.bodies[3]

    with pytest.raises(IndexError):
        await sim.notify_snapshot(receiver.url, "KRC-0022", 5)


async def test_nothing_to_notify_before_a_payment_method(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    await create(snap, snap_body("KRC-0023"))
    with pytest.raises(ValueError):
        await sim.notify(None, "KRC-0023")


async def test_unsigned_and_tampered_notifications(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-0024"))
    await sim.set_status("KRC-0024", "settlement")

    await sim.notify(None, "KRC-0024", sign=False)
    await sim.notify(None, "KRC-0024", body_overrides={"gross_amount": "1000.00"})
    await sim.notify(None, "KRC-0024", body_overrides={"gross_amount": "1000.00"}, sign=False)
    await sim.notify(None, "KRC-0024", body_overrides={"signature_key": None})
    await sim.notify(None, "KRC-0024", body_overrides={"signature_key": "abc"})

    unsigned, resigned, forged, missing, literal = receiver.bodies
    assert not verifies(unsigned) and re.fullmatch(r"[0-9a-f]{128}", unsigned["signature_key"])
    assert verifies(resigned) and resigned["gross_amount"] == "1000.00"
    assert not verifies(forged) and forged["gross_amount"] == "1000.00"
    assert "signature_key" not in missing
    assert literal["signature_key"] == "abc"


async def test_amount_override_is_signed_as_sent(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver, core: midtransclient.CoreApi,
) -> None:
    await create(snap, snap_body("KRC-0025"))
    body = await sim.set_status("KRC-0025", "settlement", gross_amount=1_000)
    assert body["gross_amount"] == "1000.00"
    assert verifies(body)
    await sim.notify(None, "KRC-0025")
    assert receiver.bodies[0]["gross_amount"] == "1000.00" and verifies(receiver.bodies[0])
    assert (await asyncio.to_thread(core.transactions.status, "KRC-0025"))["gross_amount"] == "1000.00"
    assert (await sim.set_status("KRC-0025", "refund"))["gross_amount"] == "150000.00"


async def test_failed_deliveries_are_reported(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-0026"))
    await sim.set_status("KRC-0026", "settlement")
    receiver.answer = 500
    assert await sim.notify(None, "KRC-0026", duplicates=2) == [500, 500]

    dead_runner = web.AppRunner(web.Application())  # a port nobody listens on: bind it, note it, close it
    await dead_runner.setup()
    site = web.TCPSite(dead_runner, "127.0.0.1", 0)
    await site.start()
    dead_port = dead_runner.addresses[0][1]
    await dead_runner.cleanup()
    assert await sim.notify(f"http://127.0.0.1:{dead_port}/gone", "KRC-0026") == [None]
    assert sim.deliveries[-1].http_status is None and sim.deliveries[-1].error


async def test_notification_timeout(snap: midtransclient.Snap, receiver: Receiver) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response()

    app = web.Application()
    app.router.add_post("/", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with MidtransSimulator(SERVER_KEY, notify_timeout=0.2) as sim:
            snap.api_config.SNAP_SANDBOX_BASE_URL = sim.snap_base_url
            await create(snap, snap_body("KRC-slow"))
            await sim.set_status("KRC-slow", "settlement")
            started = asyncio.get_running_loop().time()
            assert await sim.notify(f"http://127.0.0.1:{runner.addresses[0][1]}/", "KRC-slow") == [None]
            assert asyncio.get_running_loop().time() - started < 3
    finally:
        await runner.cleanup()


async def test_midtransclient_notification_looks_up_by_transaction_id(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-0027"))
    await sim.set_status("KRC-0027", "settlement")
    await sim.notify(None, "KRC-0027")
    client = midtransclient.Snap(is_production=False, server_key=SERVER_KEY)
    client.api_config.CORE_SANDBOX_BASE_URL = sim.api_base_url
    confirmed = await asyncio.to_thread(client.transactions.notification, receiver.bodies[0])
    assert confirmed["order_id"] == "KRC-0027"
    assert confirmed["transaction_status"] == "settlement"


# -- Core API actions


async def test_expire_and_cancel_actions(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-0030"))
    assert (await api_error(core.transactions.expire, "KRC-0030")).http_status_code == 404

    await sim.set_status("KRC-0030", "pending")
    reply = await asyncio.to_thread(core.transactions.expire, "KRC-0030")
    assert reply["status_code"] == "407"
    assert reply["transaction_status"] == "expire"
    assert receiver.statuses == ["expire"]
    assert receiver.bodies[0]["status_code"] == "202" and verifies(receiver.bodies[0])
    assert (await asyncio.to_thread(core.transactions.status, "KRC-0030"))["transaction_status"] == "expire"
    assert (await api_error(core.transactions.cancel, "KRC-0030")).http_status_code == 412

    await create(snap, snap_body("KRC-0031"))
    await sim.set_status("KRC-0031", "pending", payment_type="gopay")
    reply = await asyncio.to_thread(core.transactions.cancel, "KRC-0031")
    assert reply["transaction_status"] == "cancel"
    assert receiver.statuses[-1] == "cancel"


# -- payment page


async def page(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def press(http: aiohttp.ClientSession, page_url: str, outcome: str, method: str) -> aiohttp.ClientResponse:
    async with http.post(f"{page_url}/simulate", data={"payment_type": method, "outcome": outcome},
                         allow_redirects=False) as resp:
        await resp.read()
        return resp


async def test_page_renders(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    body = snap_body("KRC-0040")
    body["item_details"][0]["name"] = "<script>alert(1)</script> VIP"
    result = await create(snap, body)
    async with aiohttp.ClientSession() as http:
        status, text = await page(http, result["redirect_url"])
        assert status == 200
        assert "Sandbox — no real money moves" in text
        assert "KRC-0040" in text
        assert "Rp150.000" in text
        assert '<meta name="viewport"' in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; VIP" in text and "<script>" not in text
        for label in ("Bank transfer (VA)", "GoPay (e-wallet)", "Card", ">Pay<", ">Fail<", ">Let expire<"):
            assert label in text
        assert (await page(http, f"{sim.base_url}/snap/v4/redirection/no-such-token"))[0] == 404


def test_format_rupiah() -> None:
    assert format_rupiah(150_000) == "Rp150.000"
    assert format_rupiah(1_250_000) == "Rp1.250.000"
    assert format_rupiah(500) == "Rp500"
    assert format_rupiah(-10_000) == "-Rp10.000"


async def test_pay_button_sends_notifications(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
) -> None:
    result = await create(snap, snap_body("KRC-0041", callbacks={"finish": "https://karcis.example/done?lang=id"}))
    url = result["redirect_url"]
    async with aiohttp.ClientSession() as http:
        resp = await press(http, url, "pay", "bank_transfer")
        assert resp.status == 303
        assert resp.headers["Location"].endswith(f"/snap/v4/redirection/{result['token']}")

        assert receiver.statuses == ["pending", "settlement"]
        assert all(verifies(b) for b in receiver.bodies)
        assert [b["status_code"] for b in receiver.bodies] == ["201", "200"]
        assert (await asyncio.to_thread(core.transactions.status, "KRC-0041"))["transaction_status"] == "settlement"

        status, text = await page(http, url)
        assert status == 200
        assert "Payment successful" in text
        assert "https://karcis.example/done?lang=id&amp;order_id=KRC-0041&amp;status_code=200" \
               "&amp;transaction_status=settlement" in text
        assert ">Pay<" not in text

        again = await press(http, url, "pay", "bank_transfer")
        assert again.status == 409
        assert len(receiver.bodies) == 2


@pytest.mark.parametrize(
    ("outcome", "method", "statuses", "fraud"),
    [
        ("pay", "credit_card", ["capture"], "accept"),
        ("pay", "gopay", ["pending", "settlement"], "accept"),
        ("fail", "credit_card", ["deny"], "deny"),
        ("fail", "bank_transfer", ["pending", "deny"], "accept"),
        ("expire", "gopay", ["pending", "expire"], "accept"),
    ],
)
async def test_page_flows(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
    outcome: str, method: str, statuses: list[str], fraud: str,
) -> None:
    result = await create(snap, snap_body("KRC-flow"))
    async with aiohttp.ClientSession() as http:
        assert (await press(http, result["redirect_url"], outcome, method)).status == 303
        assert receiver.statuses == statuses
        assert all(b["payment_type"] == method and b.get("fraud_status") == fraud for b in receiver.bodies)
        assert all(verifies(b) for b in receiver.bodies)
        _, text = await page(http, result["redirect_url"])
    assert {"pay": "Payment successful", "fail": "Payment failed", "expire": "Expired"}[outcome] in text


async def test_double_tap_pays_once(sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver) -> None:
    result = await create(snap, snap_body("KRC-double"))
    async with aiohttp.ClientSession() as http:
        first, second = await asyncio.gather(
            press(http, result["redirect_url"], "pay", "bank_transfer"),
            press(http, result["redirect_url"], "pay", "bank_transfer"),
        )
    assert sorted([first.status, second.status]) == [303, 409]
    assert receiver.statuses == ["pending", "settlement"]
    assert sim.transaction("KRC-double").statuses == ["pending", "settlement"]


async def test_page_refuses_bad_choices(sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver) -> None:
    result = await create(snap, snap_body("KRC-0042"))
    async with aiohttp.ClientSession() as http:
        assert (await press(http, result["redirect_url"], "steal", "bank_transfer")).status == 400
        assert (await press(http, result["redirect_url"], "pay", "bitcoin")).status == 400
    assert receiver.bodies == []
    assert sim.transaction("KRC-0042").history == []


async def test_expired_order_cannot_be_paid(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    start = (datetime.now(WIB) - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S +0700")
    result = await create(snap, snap_body("KRC-0043", expiry={"start_time": start, "unit": "minutes", "duration": 60}))
    async with aiohttp.ClientSession() as http:
        status, text = await page(http, result["redirect_url"])
        assert status == 200
        assert "expired" in text and ">Pay<" not in text
        assert (await press(http, result["redirect_url"], "pay", "bank_transfer")).status == 410
    assert receiver.bodies == []
    with pytest.raises(PaymentRefused) as info:
        await sim.simulate_payment("KRC-0043")
    assert info.value.reason == "expired"


async def test_expiry_follows_the_injected_clock(receiver: Receiver) -> None:
    now = [datetime(2030, 5, 1, 3, 0, tzinfo=UTC)]
    async with MidtransSimulator(SERVER_KEY, notification_url=receiver.url, clock=lambda: now[0]) as sim:
        client = midtransclient.Snap(is_production=False, server_key=SERVER_KEY)
        client.api_config.SNAP_SANDBOX_BASE_URL = sim.snap_base_url
        await create(client, snap_body("KRC-clock", expiry={"unit": "minute", "duration": 15}))
        assert sim.transaction("KRC-clock").expires_at == now[0] + timedelta(minutes=15)
        now[0] += timedelta(minutes=15)
        with pytest.raises(PaymentRefused):
            await sim.simulate_payment("KRC-clock")
        now[0] -= timedelta(seconds=1)
        outcome = await sim.simulate_payment("KRC-clock", payment_type="credit_card")
        assert [d.http_status for d in outcome.deliveries] == [200]
        assert outcome.statuses[0]["transaction_time"] == "2030-05-01 10:14:59"


async def test_pending_order_continues_on_the_page(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    result = await create(snap, snap_body("KRC-0044"))
    await sim.set_status("KRC-0044", "pending")
    async with aiohttp.ClientSession() as http:
        _, text = await page(http, result["redirect_url"])
        assert "Waiting for payment" in text and sim.transaction("KRC-0044").va_number in text
        assert (await press(http, result["redirect_url"], "pay", "bank_transfer")).status == 303
    assert sim.transaction("KRC-0044").statuses == ["pending", "settlement"]
    assert receiver.statuses == ["settlement"]


async def test_app_factory_uses_typed_state_and_works_mounted() -> None:
    app = create_midtrans_app(SERVER_KEY, notification_url="http://127.0.0.1:1/n")
    state = app[MIDTRANS_STATE]
    assert state.notification_url == "http://127.0.0.1:1/n"
    assert SERVER_KEY not in repr(state)

    root = web.Application()
    root.add_subapp("/midtrans", app)
    runner = web.AppRunner(root)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}/midtrans"
        client = midtransclient.Snap(is_production=False, server_key=SERVER_KEY)
        client.api_config.SNAP_SANDBOX_BASE_URL = base + "/snap/v1"
        result = await create(client, snap_body("KRC-mounted"))
        assert result["redirect_url"].startswith(base + "/snap/v4/redirection/")
        pending = state.set_status("KRC-mounted", "pending", payment_type="qris")
        assert "actions" not in pending  # the status API's view
        actions = state.notification_body("KRC-mounted")["actions"]
        assert actions[0]["url"] == f"{base}/v2/qris/{pending['transaction_id']}/qr-code"
        async with aiohttp.ClientSession() as http:
            assert (await page(http, result["redirect_url"]))[0] == 200
            async with http.get(actions[0]["url"]) as r:
                assert r.status == 200 and r.content_type == "image/png"
    finally:
        await runner.cleanup()


async def test_server_key_is_never_logged(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    result = await create(snap, snap_body("KRC-0050"))
    await api_error(snap.create_transaction, snap_body("KRC-0050"))
    async with aiohttp.ClientSession() as http:
        await press(http, result["redirect_url"], "pay", "bank_transfer")
    await asyncio.to_thread(core.transactions.status, "KRC-0050")
    await sim.notify(None, "KRC-0050", sign=False)
    assert caplog.records
    assert SERVER_KEY not in caplog.text
    assert SERVER_KEY not in repr(sim) and SERVER_KEY not in repr(sim.state)


# -- every payment type's body (HTTP(S) Notification / Webhooks, "Sample for Various Payment Methods")


async def paid(
    sim: MidtransSimulator, snap: midtransclient.Snap, order_id: str, amount: int = 150_000, **kwargs: Any,
) -> None:
    await create(snap, snap_body(order_id, amount))
    await sim.simulate_payment(order_id, **kwargs)


@pytest.mark.parametrize(
    ("payment_type", "bank", "store"),
    [("bank_transfer", "bca", None), ("bank_transfer", "bni", None), ("bank_transfer", "bri", None),
     ("permata", None, None), ("bank_transfer", "permata", None), ("echannel", None, None),
     ("cstore", None, "indomaret"), ("cstore", None, "alfamart"), ("gopay", None, None),
     ("shopeepay", None, None), ("qris", None, None)],
)
async def test_each_payment_type_sends_its_documented_fields(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
    payment_type: str, bank: str | None, store: str | None,
) -> None:
    await paid(sim, snap, "KRC-type", payment_type=payment_type, bank=bank, store=store)
    pending, settled = receiver.bodies
    assert [pending["transaction_status"], settled["transaction_status"]] == ["pending", "settlement"]
    assert all(verifies(b) for b in receiver.bodies)
    status = await asyncio.to_thread(core.transactions.status, "KRC-type")
    assert {k: v for k, v in status.items() if k != "status_message"} == (
        {k: v for k, v in settled.items() if k != "status_message"})
    if payment_type in {"bank_transfer", "permata"}:
        assert settled["payment_type"] == "bank_transfer"
        if (bank or "permata") == "permata":
            assert re.fullmatch(r"8562\d{12}", settled["permata_va_number"])
            assert "va_numbers" not in settled
        else:
            assert settled["va_numbers"] == [{"bank": bank, "va_number": sim.transaction("KRC-type").va_number}]
            assert settled["va_numbers"] == pending["va_numbers"]
            assert "permata_va_number" not in settled
    elif payment_type == "echannel":
        assert settled["biller_code"] == "70012" and re.fullmatch(r"\d{12}", settled["bill_key"])
        assert pending["bill_key"] == settled["bill_key"]
    elif payment_type == "cstore":
        assert settled["store"] == store and settled["payment_code"] == pending["payment_code"]
        if store == "indomaret":  # the Indomaret sample has no fraud_status, and an approval_code once paid
            assert "fraud_status" not in settled and "fraud_status" not in pending
            assert settled["approval_code"] and "approval_code" not in pending
        else:
            assert settled["fraud_status"] == "accept"
    else:
        names = [a["name"] for a in pending["actions"]]
        assert names == {"gopay": ["generate-qr-code", "deeplink-redirect", "get-status", "cancel"],
                         "shopeepay": ["deeplink-redirect"], "qris": ["generate-qr-code"]}[payment_type]
        assert "actions" not in settled
        if payment_type == "qris":
            assert settled["acquirer"] == "gopay" and settled["issuer"] == "gopay"
    if payment_type in {"bank_transfer", "echannel", "cstore", "permata"}:
        assert "actions" not in pending


async def test_bni_settlement_lists_the_amount_paid(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                    receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-bni", bank="bni")
    assert receiver.bodies[0]["payment_amounts"] == []
    assert receiver.bodies[1]["payment_amounts"] == [{"paid_at": receiver.bodies[1]["settlement_time"],
                                                      "amount": "150000.00"}]


async def test_gopay_actions_lead_somewhere(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    await create(snap, snap_body("KRC-gopay"))
    await sim.set_status("KRC-gopay", "pending", payment_type="gopay")
    await sim.notify(None, "KRC-gopay")
    actions = {a["name"]: a for a in receiver.bodies[0]["actions"]}
    txn = sim.transaction("KRC-gopay")
    assert actions["generate-qr-code"]["url"] == f"{sim.base_url}/v2/gopay/{txn.transaction_id}/qr-code"
    assert actions["cancel"]["method"] == "POST"
    auth = {"Authorization": aiohttp.encode_basic_auth(SERVER_KEY)}
    async with aiohttp.ClientSession() as http:
        async with http.get(actions["generate-qr-code"]["url"]) as r:
            assert r.status == 200 and r.content_type == "image/png"
            assert (await r.read()).startswith(b"\x89PNG")
        async with http.get(actions["deeplink-redirect"]["url"]) as r:
            assert r.status == 200 and "KRC-gopay" in await r.text()
        async with http.get(actions["get-status"]["url"], headers=auth) as r:
            assert (await r.json())["transaction_status"] == "pending"
        await sim.simulate_payment("KRC-gopay", payment_type="gopay")
        async with http.get(actions["generate-qr-code"]["url"]) as r:
            assert r.status == 404  # nothing left to pay


# -- card: capture with and without fraud_status, challenge


@pytest.mark.parametrize(("fraud", "code"), [("accept", "200"), ("challenge", "201"), ("deny", "200")])
async def test_card_capture_fraud_status(sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
                                         fraud: str, code: str) -> None:
    await paid(sim, snap, "KRC-card", payment_type="credit_card", fraud_status=fraud)
    (body,) = receiver.bodies
    assert body["transaction_status"] == "capture" and body["fraud_status"] == fraud
    assert body["status_code"] == code and verifies(body)


async def test_card_capture_without_fraud_status(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                 core: midtransclient.CoreApi, receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-nofraud", payment_type="credit_card", fraud_status=None)
    (body,) = receiver.bodies
    assert body["transaction_status"] == "capture" and "fraud_status" not in body
    assert body["status_code"] == "200" and verifies(body)
    assert "fraud_status" not in await asyncio.to_thread(core.transactions.status, "KRC-nofraud")


async def test_default_fraud_status_is_kept(sim: MidtransSimulator, snap: midtransclient.Snap,
                                            receiver: Receiver) -> None:
    from bot.sandbox.midtrans import DEFAULT
    await paid(sim, snap, "KRC-default", payment_type="credit_card", fraud_status=DEFAULT)
    assert receiver.bodies[0]["fraud_status"] == "accept"


async def test_challenge_then_approve_or_deny(sim: MidtransSimulator, snap: midtransclient.Snap,
                                              core: midtransclient.CoreApi, receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-ch1", outcome="challenge", payment_type="credit_card")
    await paid(sim, snap, "KRC-ch2", outcome="challenge", payment_type="credit_card")
    approved = await asyncio.to_thread(core.transactions.approve, "KRC-ch1")
    assert approved["status_message"] == "Success, transaction is approved"
    denied = await asyncio.to_thread(core.transactions.deny, "KRC-ch2")
    assert denied["transaction_status"] == "deny" and denied["fraud_status"] == "deny"
    assert [(b["order_id"], b["transaction_status"], b["fraud_status"]) for b in receiver.bodies] == [
        ("KRC-ch1", "capture", "challenge"), ("KRC-ch2", "capture", "challenge"),
        ("KRC-ch1", "capture", "accept"), ("KRC-ch2", "deny", "deny")]
    assert (await api_error(core.transactions.approve, "KRC-ch1")).http_status_code == 412
    with pytest.raises(PaymentRefused):
        await paid(sim, snap, "KRC-ch3", outcome="challenge", payment_type="gopay")


# -- after a sale: reversal, cancel, chargeback, dashboard refunds, lost notifications


@pytest.mark.parametrize(("payment_type", "bank", "store"),
                         [("cstore", None, "indomaret"), ("permata", None, None), ("echannel", None, None)])
async def test_reversal_turns_a_settlement_into_deny(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
    payment_type: str, bank: str | None, store: str | None,
) -> None:
    await paid(sim, snap, "KRC-rev", payment_type=payment_type, bank=bank, store=store)
    outcome = await sim.reverse("KRC-rev")
    assert receiver.statuses == ["pending", "settlement", "deny"]
    assert receiver.bodies[-1]["status_code"] == "202" and verifies(receiver.bodies[-1])
    assert [d.http_status for d in outcome.deliveries] == [200]
    assert (await asyncio.to_thread(core.transactions.status, "KRC-rev"))["transaction_status"] == "deny"


@pytest.mark.parametrize(("payment_type", "bank", "store"),
                         [("bank_transfer", "bca", None), ("cstore", None, "alfamart"), ("gopay", None, None)])
async def test_reversal_only_where_documented(sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
                                              payment_type: str, bank: str | None, store: str | None) -> None:
    await paid(sim, snap, "KRC-norev", payment_type=payment_type, bank=bank, store=store)
    with pytest.raises(PaymentRefused) as info:
        await sim.reverse("KRC-norev")
    assert info.value.reason == "not_allowed"
    assert sim.transaction("KRC-norev").statuses == ["pending", "settlement"] and len(receiver.bodies) == 2


async def test_reversal_needs_a_settlement(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    await create(snap, snap_body("KRC-revpend"))
    await sim.set_status("KRC-revpend", "pending", payment_type="cstore")
    with pytest.raises(PaymentRefused):
        await sim.reverse("KRC-revpend")


async def test_cancel_after_capture(sim: MidtransSimulator, snap: midtransclient.Snap,
                                    core: midtransclient.CoreApi, receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-void", payment_type="credit_card")
    await sim.cancel_after_payment("KRC-void")
    assert receiver.statuses == ["capture", "cancel"] and verifies(receiver.bodies[-1])
    assert (await asyncio.to_thread(core.transactions.status, "KRC-void"))["transaction_status"] == "cancel"


async def test_no_cancel_after_settlement(sim: MidtransSimulator, snap: midtransclient.Snap,
                                          core: midtransclient.CoreApi, receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-settled", payment_type="gopay")
    with pytest.raises(PaymentRefused) as info:
        await sim.cancel_after_payment("KRC-settled")
    assert info.value.reason == "not_allowed"
    err = await api_error(core.transactions.cancel, "KRC-settled")
    assert err.http_status_code == 412
    assert err.api_response_dict["status_message"] == "Merchant cannot modify the status of the transaction"
    assert receiver.statuses == ["pending", "settlement"]


async def test_partial_then_full_chargeback(sim: MidtransSimulator, snap: midtransclient.Snap,
                                            core: midtransclient.CoreApi, receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-cb", payment_type="credit_card")
    with pytest.raises(PaymentRefused):
        await sim.chargeback("KRC-cb", 150_001)
    first = await sim.chargeback("KRC-cb", 50_000)
    assert [s["transaction_status"] for s in first.statuses] == ["settlement", "partial_chargeback"]
    await sim.chargeback("KRC-cb")
    assert receiver.statuses == ["capture", "settlement", "partial_chargeback", "chargeback"]
    assert all(verifies(b) for b in receiver.bodies)
    assert (await asyncio.to_thread(core.transactions.status, "KRC-cb"))["transaction_status"] == "chargeback"
    with pytest.raises(PaymentRefused):
        await sim.chargeback("KRC-cb")


async def test_full_chargeback_of_a_settlement(sim: MidtransSimulator, snap: midtransclient.Snap,
                                               receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-cb2")
    await sim.chargeback("KRC-cb2", 150_000)
    assert receiver.statuses == ["pending", "settlement", "chargeback"]


async def test_dashboard_refunds(sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi,
                                 receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-dash")  # a BCA VA: the refund API would refuse it, the dashboard does not
    await sim.dashboard_refund("KRC-dash", 75_000, reason="one ticket")
    unconfirmed, confirmed = receiver.bodies[2:]
    assert unconfirmed["transaction_status"] == confirmed["transaction_status"] == "partial_refund"
    assert unconfirmed["refund_amount"] == "75000.00" and verifies(confirmed)
    (entry,) = unconfirmed["refunds"]
    assert set(entry) == {"refund_chargeback_id", "refund_amount", "created_at", "reason", "refund_key"}
    assert entry["refund_amount"] == "75000.00" and entry["reason"] == "one ticket" and entry["refund_key"]
    assert confirmed["refunds"] == [{**entry, "refund_method": "offline",
                                     "bank_confirmed_at": confirmed["refunds"][0]["bank_confirmed_at"]}]
    await sim.dashboard_refund("KRC-dash")
    status = await asyncio.to_thread(core.transactions.status, "KRC-dash")
    assert status["transaction_status"] == "refund" and status["refund_amount"] == "150000.00"
    assert [r["refund_amount"] for r in status["refunds"]] == ["75000.00", "75000.00"]
    assert sim.refunds("KRC-dash") == status["refunds"]
    assert receiver.statuses == ["pending", "settlement"] + ["partial_refund"] * 2 + ["refund"] * 2
    with pytest.raises(PaymentRefused):
        await sim.dashboard_refund("KRC-dash", 1)


async def test_dashboard_refund_of_a_capture_settles_it_first(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                              receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-dcap", payment_type="credit_card")
    await sim.dashboard_refund("KRC-dcap", 150_000)
    assert receiver.statuses == ["capture", "settlement", "refund", "refund"]


async def test_lost_notifications(sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi,
                                  receiver: Receiver) -> None:
    await create(snap, snap_body("KRC-lost"))
    outcome = await sim.simulate_payment("KRC-lost", payment_type="cstore", notify=False)
    assert receiver.bodies == [] and outcome.deliveries == []
    assert (await asyncio.to_thread(core.transactions.status, "KRC-lost"))["transaction_status"] == "settlement"
    await sim.reverse("KRC-lost", notify=False)
    assert receiver.bodies == []
    assert (await asyncio.to_thread(core.transactions.status, "KRC-lost"))["transaction_status"] == "deny"
    assert sim.lost == [("KRC-lost", 0), ("KRC-lost", 1), ("KRC-lost", 2)]
    await sim.notify(None, "KRC-lost")  # a late delivery still works
    assert receiver.statuses == ["deny"]


async def test_every_after_sale_flow_can_lose_its_notification(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                               receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-l1", payment_type="credit_card", notify=False)
    await sim.cancel_after_payment("KRC-l1", notify=False)
    await paid(sim, snap, "KRC-l2", notify=False)
    await sim.chargeback("KRC-l2", 1_000, notify=False)
    await paid(sim, snap, "KRC-l3", notify=False)
    await sim.dashboard_refund("KRC-l3", notify=False)
    assert receiver.bodies == []
    assert [sim.transaction(o).transaction_status for o in ("KRC-l1", "KRC-l2", "KRC-l3")] == [
        "cancel", "partial_chargeback", "refund"]


# -- the refund API (Refund Transactions / Direct Refund Transaction)


async def test_refund_api_partial_then_direct_rest(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                   core: midtransclient.CoreApi, receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-r1", payment_type="gopay")
    reply = await asyncio.to_thread(core.transactions.refund, "KRC-r1",
                                    {"refund_key": "KRC-r1-a", "amount": 50_000, "reason": "one ticket"})
    txn = sim.transaction("KRC-r1")
    assert reply == {
        "status_code": "200", "status_message": "Success, refund request is approved",
        "transaction_id": txn.transaction_id, "order_id": "KRC-r1", "gross_amount": "150000.00",
        "payment_type": "gopay", "transaction_time": receiver.bodies[0]["transaction_time"],
        "transaction_status": "partial_refund", "refund_chargeback_id": reply["refund_chargeback_id"],
        "refund_amount": "50000.00", "refund_key": "KRC-r1-a",
    }
    # the notifications came before the answer: both (without, then with bank_confirmed_at) are already here
    assert receiver.statuses == ["pending", "settlement", "partial_refund", "partial_refund"]
    assert receiver.bodies[-1]["refund_amount"] == "50000.00" and verifies(receiver.bodies[-1])
    assert receiver.bodies[-1]["refunds"][0]["refund_key"] == "KRC-r1-a"
    assert receiver.bodies[-1]["refunds"][0]["refund_method"] == "online"

    direct = await asyncio.to_thread(core.transactions.refundDirect, txn.transaction_id, {"refund_key": "KRC-r1-b"})
    assert direct["status_message"] == "Success, refund request is approved by the bank"
    assert direct["transaction_status"] == "refund" and direct["refund_amount"] == "150000.00"  # cumulative
    assert [r["refund_key"] for r in sim.refunds("KRC-r1")] == ["KRC-r1-a", "KRC-r1-b"]
    assert [r["refund_amount"] for r in sim.refunds("KRC-r1")] == ["50000.00", "100000.00"]
    assert receiver.statuses[-2:] == ["refund", "refund"]
    assert (await api_error(core.transactions.refund, "KRC-r1", {"refund_key": "KRC-r1-c"})).api_response_dict == {
        "status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"}


async def test_refund_api_without_a_key_gets_one(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                 core: midtransclient.CoreApi) -> None:
    await paid(sim, snap, "KRC-r2", payment_type="qris")
    reply = await asyncio.to_thread(core.transactions.refund, "KRC-r2", {})
    assert reply["transaction_status"] == "refund" and reply["refund_amount"] == "150000.00"
    assert reply["refund_key"] == sim.refunds("KRC-r2")[0]["refund_key"]


async def test_refund_key_is_used_once(sim: MidtransSimulator, snap: midtransclient.Snap,
                                       core: midtransclient.CoreApi, receiver: Receiver) -> None:
    await paid(sim, snap, "KRC-r3", payment_type="credit_card")
    await sim.set_status("KRC-r3", "settlement")
    await asyncio.to_thread(core.transactions.refund, "KRC-r3", {"refund_key": "k1", "amount": 10_000})
    sent = len(receiver.bodies)
    err = await api_error(core.transactions.refund, "KRC-r3", {"refund_key": "k1", "amount": 10_000})
    assert err.api_response_dict == {"status_code": "406", "status_message": "Duplicate refund ID"}
    assert len(sim.refunds("KRC-r3")) == 1 and sim.transaction("KRC-r3").refund_total == 10_000
    assert len(receiver.bodies) == sent
    err = await api_error(core.transactions.refundDirect, "KRC-r3", {"refund_key": "k1", "amount": 5_000})
    assert err.api_response_dict["status_code"] == "406"


@pytest.mark.parametrize("amount", [150_001, 0, -1])
async def test_refund_amount_must_fit(sim: MidtransSimulator, snap: midtransclient.Snap,
                                      core: midtransclient.CoreApi, amount: int) -> None:
    await paid(sim, snap, "KRC-r4", payment_type="gopay")
    err = await api_error(core.transactions.refund, "KRC-r4", {"refund_key": "k", "amount": amount})
    assert err.api_response_dict == {"status_code": "414",
                                     "status_message": "Refund request is rejected due to invalid amount"}
    assert sim.transaction("KRC-r4").transaction_status == "settlement" and sim.refunds("KRC-r4") == []


async def test_refund_over_what_is_left(sim: MidtransSimulator, snap: midtransclient.Snap,
                                        core: midtransclient.CoreApi) -> None:
    await paid(sim, snap, "KRC-r5", payment_type="gopay")
    await asyncio.to_thread(core.transactions.refund, "KRC-r5", {"refund_key": "a", "amount": 100_000})
    err = await api_error(core.transactions.refund, "KRC-r5", {"refund_key": "b", "amount": 50_001})
    assert err.api_response_dict["status_code"] == "414"
    assert sim.transaction("KRC-r5").refund_total == 100_000


async def test_shopeepay_refunds_only_in_full(sim: MidtransSimulator, snap: midtransclient.Snap,
                                              core: midtransclient.CoreApi) -> None:
    await paid(sim, snap, "KRC-r6", payment_type="shopeepay")
    err = await api_error(core.transactions.refund, "KRC-r6", {"refund_key": "a", "amount": 50_000})
    assert err.api_response_dict["status_code"] == "414"
    assert (await asyncio.to_thread(core.transactions.refund, "KRC-r6", {"refund_key": "b"}))[
        "transaction_status"] == "refund"


@pytest.mark.parametrize(("payment_type", "outcome"),
                         [("bank_transfer", "pay"), ("echannel", "pay"), ("cstore", "pay"),
                          ("credit_card", "pay"), ("gopay", "expire")])
async def test_refund_refused_for_type_or_state(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                core: midtransclient.CoreApi, receiver: Receiver,
                                                payment_type: str, outcome: str) -> None:
    await paid(sim, snap, "KRC-r7", payment_type=payment_type, outcome=outcome)  # a card capture: cancel instead
    sent = len(receiver.bodies)
    for call in (core.transactions.refund, core.transactions.refundDirect):
        err = await api_error(call, "KRC-r7", {"refund_key": "x", "amount": 1_000})
        assert err.api_response_dict["status_code"] == "412"
    assert len(receiver.bodies) == sent and sim.refunds("KRC-r7") == []


async def test_refund_unknown_or_unpaid_is_404(sim: MidtransSimulator, snap: midtransclient.Snap,
                                               core: midtransclient.CoreApi) -> None:
    await create(snap, snap_body("KRC-r8"))
    for order_id in ("KRC-r8", "KRC-never"):
        err = await api_error(core.transactions.refund, order_id, {"refund_key": "x"})
        assert err.http_status_code == 404 and err.api_response_dict["status_code"] == "404"


@pytest.mark.parametrize("body", [{"refund_key": "has space"}, {"refund_key": "k", "amount": "5000"},
                                  {"refund_key": "k", "reason": "x" * 256}, {"amount": 1.5}])
async def test_refund_body_is_validated(sim: MidtransSimulator, snap: midtransclient.Snap,
                                        core: midtransclient.CoreApi, body: dict[str, Any]) -> None:
    await paid(sim, snap, "KRC-r9", payment_type="gopay")
    err = await api_error(core.transactions.refund, "KRC-r9", body)
    assert err.api_response_dict["status_code"] == "400" and err.api_response_dict["validation_messages"]
    assert sim.refunds("KRC-r9") == []


async def test_refund_api_needs_the_server_key(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    await paid(sim, snap, "KRC-r10", payment_type="gopay")
    async with aiohttp.ClientSession() as http:
        for path in ("refund", "refund/online/direct"):
            async with http.post(f"{sim.base_url}/v2/KRC-r10/{path}", json={"refund_key": "k"},
                                 headers={"Authorization": aiohttp.encode_basic_auth("SB-wrong")}) as r:
                assert r.status == 401
    assert sim.refunds("KRC-r10") == []


# -- what Snap refuses (JSON Objects) and what a payment method rejects


async def snap_refusal(snap: midtransclient.Snap, body: dict[str, Any]) -> list[str]:
    err = await api_error(snap.create_transaction, body)
    assert err.http_status_code == 400
    return err.api_response_dict["error_messages"]


async def test_item_fields_over_50_bytes_are_refused(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    body = snap_body("KRC-i1")
    body["item_details"][0]["name"] = "x" * 51
    assert "item_details Name too long" in await snap_refusal(snap, body)
    body["item_details"][0]["name"] = "VIP — " + "x" * 44  # 50 characters, 52 bytes
    assert "item_details Name too long" in await snap_refusal(snap, body)
    body["item_details"][0]["name"] = "x" * 50
    body["item_details"][0]["id"] = "i" * 51
    assert "item_details Id too long" in await snap_refusal(snap, body)
    body["item_details"][0]["id"] = "i" * 50
    body["item_details"][0]["merchant_name"] = "m" * 51
    assert "item_details Merchant name too long" in await snap_refusal(snap, body)
    del body["item_details"][0]["merchant_name"]
    assert "token" in await create(snap, body)


async def test_customer_fields_over_their_lengths_are_refused(sim: MidtransSimulator,
                                                              snap: midtransclient.Snap) -> None:
    body = snap_body("KRC-c1")
    body["customer_details"]["first_name"] = "B" * 256
    assert "customer_details.first_name may not be greater than 255 characters" in await snap_refusal(snap, body)
    body["customer_details"]["first_name"] = "B" * 255
    body["customer_details"]["billing_address"] = {"city": "J" * 101}
    assert any("billing_address.city" in m for m in await snap_refusal(snap, body))
    body["customer_details"]["billing_address"] = {"postal_code": "1" * 11}
    assert any("billing_address.postal_code" in m for m in await snap_refusal(snap, body))
    body["customer_details"]["billing_address"] = {"country_code": "ID"}
    assert any("country_code must be IDN" in m for m in await snap_refusal(snap, body))
    body["customer_details"]["billing_address"] = {"city": "J" * 100, "postal_code": "12190", "country_code": "IDN"}
    assert "token" in await create(snap, body)


@pytest.mark.parametrize(("unit", "duration", "ok"),
                         [("minute", 4, False), ("minutes", 5, True), ("day", 7, True), ("hours", 169, False),
                          ("day", 8, False)])
async def test_expiry_range(sim: MidtransSimulator, snap: midtransclient.Snap, unit: str, duration: int,
                            ok: bool) -> None:
    body = snap_body("KRC-e1", expiry={"unit": unit, "duration": duration})
    if ok:
        assert "token" in await create(snap, body)
    else:
        assert "expiry.duration must be between 5 minutes and 7 days" in await snap_refusal(snap, body)


async def test_expiry_without_start_time_counts_from_the_charge(receiver: Receiver) -> None:
    now = [datetime(2030, 5, 1, 3, 0, tzinfo=UTC)]
    async with MidtransSimulator(SERVER_KEY, notification_url=receiver.url, clock=lambda: now[0]) as sim:
        client = midtransclient.Snap(is_production=False, server_key=SERVER_KEY)
        client.api_config.SNAP_SANDBOX_BASE_URL = sim.snap_base_url
        await create(client, snap_body("KRC-e2", expiry={"unit": "minute", "duration": 30}))
        await create(client, snap_body("KRC-e3", expiry={"unit": "minute", "duration": 30,
                                                          "start_time": "2030-05-01 10:00:00 +0700"}))
        now[0] += timedelta(minutes=20)
        await sim.set_status("KRC-e2", "pending")
        await sim.set_status("KRC-e3", "pending")
        assert sim.transaction("KRC-e2").expires_at == now[0] + timedelta(minutes=30)
        assert sim.transaction("KRC-e3").expires_at == datetime(2030, 5, 1, 3, 30, tzinfo=UTC)


async def test_finish_url_over_255_is_refused(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    base = "https://karcis.example/"
    long = snap_body("KRC-f1", callbacks={"finish": base + "x" * (256 - len(base))})
    assert "callbacks.finish may not be greater than 255 characters" in await snap_refusal(snap, long)
    assert "token" in await create(snap, snap_body("KRC-f1", callbacks={"finish": base + "x" * (255 - len(base))}))


async def test_pipe_in_an_item_name_is_only_refused_by_alfamart(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                                receiver: Receiver) -> None:
    for order_id in ("KRC-p1", "KRC-p2"):
        body = snap_body(order_id)
        body["item_details"][0]["name"] = "VIP | Day 1"
        await create(snap, body)  # Snap accepts it
    with pytest.raises(PaymentRefused) as info:
        await sim.simulate_payment("KRC-p1", payment_type="cstore", store="alfamart")
    assert info.value.reason == "rejected" and sim.transaction("KRC-p1").history == []
    await sim.simulate_payment("KRC-p2", payment_type="cstore", store="indomaret")
    assert receiver.statuses == ["pending", "settlement"]


@pytest.mark.parametrize(("phone", "ok"), [("+6281234567890", True), ("081234567890", True), ("+1 415 555 0100", False),
                                           ("6281234567890", False), ("0" + "8" * 30, False)])
async def test_bni_va_rejects_a_phone_not_starting_with_62_or_0(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver, phone: str, ok: bool,
) -> None:
    body = snap_body("KRC-bniphone")
    body["customer_details"]["phone"] = phone
    await create(snap, body)
    if ok:
        await sim.simulate_payment("KRC-bniphone", bank="bni")
        assert receiver.statuses == ["pending", "settlement"]
        return
    with pytest.raises(PaymentRefused) as info:
        await sim.simulate_payment("KRC-bniphone", bank="bni")
    assert info.value.reason == "rejected" and "+62 or 0" in str(info.value)
    assert sim.transaction("KRC-bniphone").history == [] and receiver.bodies == []
    await sim.simulate_payment("KRC-bniphone", bank="bri")  # another bank takes it
    assert receiver.statuses == ["pending", "settlement"]


async def test_bca_va_rejects_a_name_over_30(sim: MidtransSimulator, snap: midtransclient.Snap) -> None:
    body = snap_body("KRC-bcaname")
    body["customer_details"].update(first_name="Bartholomew Alexander", last_name="Wicaksono")  # 31 with the space
    await create(snap, body)
    with pytest.raises(PaymentRefused) as info:
        await sim.simulate_payment("KRC-bcaname", bank="bca")
    assert info.value.reason == "rejected"
    await sim.simulate_payment("KRC-bcaname", bank="bni")


@pytest.mark.parametrize(("payment_type", "bank", "store"),
                         [("bank_transfer", "mandiri", None), ("gopay", "bca", None), ("cstore", None, "lawson"),
                          ("echannel", None, "indomaret")])
async def test_unknown_bank_or_store_is_refused(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                payment_type: str, bank: str | None, store: str | None) -> None:
    await create(snap, snap_body("KRC-bad"))
    with pytest.raises(PaymentRefused) as info:
        await sim.simulate_payment("KRC-bad", payment_type=payment_type, bank=bank, store=store)
    assert info.value.reason == "invalid" and sim.transaction("KRC-bad").history == []


# -- the payment page offers all of it


async def test_page_offers_every_method_and_after_sale_flow(
    sim: MidtransSimulator, snap: midtransclient.Snap, receiver: Receiver,
) -> None:
    from bot.sandbox.midtrans import PAGE_METHODS
    result = await create(snap, snap_body("KRC-page"))
    url = result["redirect_url"]
    async with aiohttp.ClientSession() as http:
        _, text = await page(http, url)
        for value, label in PAGE_METHODS:
            assert f'value="{value}"' in text and label in text
        assert "Pay, lose the notification" in text and "Card: fraud challenge" in text
        assert (await press(http, url, "pay", "cstore:indomaret")).status == 303
        assert receiver.bodies[-1]["store"] == "indomaret"
        _, text = await page(http, url)
        for outcome in ("reverse", "chargeback", "partial_chargeback", "refund", "partial_refund"):
            assert f'value="{outcome}"' in text
        assert 'value="cancel"' not in text  # a settlement is not cancelled
        assert (await press(http, url, "partial_refund", "")).status == 303
        assert receiver.statuses[-2:] == ["partial_refund", "partial_refund"]
        assert receiver.bodies[-1]["refund_amount"] == "75000.00"  # one item's price
        assert (await press(http, url, "reverse", "")).status == 409  # a partial refund is not reversed
        _, text = await page(http, url)
        assert "Refunded Rp75.000" in text and 'value="reverse"' not in text


async def test_page_reversal_cancel_and_chargeback(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                   receiver: Receiver) -> None:
    async with aiohttp.ClientSession() as http:
        one = (await create(snap, snap_body("KRC-pg1")))["redirect_url"]
        await press(http, one, "pay", "bank_transfer:permata")
        assert (await press(http, one, "reverse", "")).status == 303
        _, text = await page(http, one)
        assert "Payment reversed" in text
        two = (await create(snap, snap_body("KRC-pg2")))["redirect_url"]
        await press(http, two, "pay", "credit_card")
        assert (await press(http, two, "cancel", "")).status == 303
        three = (await create(snap, snap_body("KRC-pg3")))["redirect_url"]
        await press(http, three, "pay", "gopay")
        assert (await press(http, three, "partial_chargeback", "")).status == 303
        assert (await press(http, three, "chargeback", "")).status == 303
    assert sim.transaction("KRC-pg1").statuses == ["pending", "settlement", "deny"]
    assert sim.transaction("KRC-pg2").statuses == ["capture", "cancel"]
    assert sim.transaction("KRC-pg3").statuses == ["pending", "settlement", "partial_chargeback", "chargeback"]


async def test_page_pay_with_the_notification_lost(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                   receiver: Receiver) -> None:
    result = await create(snap, snap_body("KRC-pglost"))
    async with aiohttp.ClientSession() as http:
        assert (await press(http, result["redirect_url"], "pay_lost", "gopay")).status == 303
        _, text = await page(http, result["redirect_url"])
    assert receiver.bodies == [] and sim.transaction("KRC-pglost").statuses == ["pending", "settlement"]
    assert "lost (never sent)" in text and "Payment successful" in text


async def test_page_challenge_then_approve(sim: MidtransSimulator, snap: midtransclient.Snap,
                                           receiver: Receiver) -> None:
    result = await create(snap, snap_body("KRC-pgch"))
    async with aiohttp.ClientSession() as http:
        assert (await press(http, result["redirect_url"], "challenge", "credit_card")).status == 303
        _, text = await page(http, result["redirect_url"])
        assert "fraud review" in text and 'value="approve"' in text
        assert (await press(http, result["redirect_url"], "approve", "")).status == 303
    assert [b.get("fraud_status") for b in receiver.bodies] == ["challenge", "accept"]


async def test_page_refuses_what_the_methods_refuse(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                    receiver: Receiver) -> None:
    body = snap_body("KRC-pgbad")
    body["customer_details"]["phone"] = "+44 20 7946 0000"
    result = await create(snap, body)
    async with aiohttp.ClientSession() as http:
        assert (await press(http, result["redirect_url"], "pay", "bank_transfer:bni")).status == 422
        assert (await press(http, result["redirect_url"], "pay", "bank_transfer:mandiri")).status == 400
        assert (await press(http, result["redirect_url"], "pay", "gopay:bca")).status == 400
        assert (await press(http, result["redirect_url"], "refund", "")).status == 409
    assert receiver.bodies == [] and sim.transaction("KRC-pgbad").history == []


async def test_a_muted_order_loses_the_refund_api_notifications(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
) -> None:
    await paid(sim, snap, "KRC-mute", payment_type="gopay")
    sim.mute("KRC-mute")
    reply = await asyncio.to_thread(core.transactions.refund, "KRC-mute", {"refund_key": "m1", "amount": 1_000})
    assert reply["transaction_status"] == "partial_refund"
    assert receiver.statuses == ["pending", "settlement"]
    assert (await asyncio.to_thread(core.transactions.status, "KRC-mute"))["transaction_status"] == "partial_refund"
    assert [i for o, i in sim.lost if o == "KRC-mute"] == [2, 3]
    sim.mute("KRC-mute", False)
    await sim.dashboard_refund("KRC-mute", 1_000)
    assert receiver.statuses[-2:] == ["partial_refund", "partial_refund"]


async def test_a_bank_can_reject_a_direct_refund(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
) -> None:
    await paid(sim, snap, "KRC-rej", payment_type="credit_card")
    await sim.set_status("KRC-rej", "settlement")
    sim.reject_direct_refunds("KRC-rej")
    reply = await asyncio.to_thread(core.transactions.refundDirect, "KRC-rej", {"refund_key": "r1"})
    assert reply["status_code"] == "202" and reply["status_message"] == "Refund denied by the bank"
    assert reply["transaction_status"] == "settlement" and reply["refund_amount"] == "0.00"
    assert sim.refunds("KRC-rej") == [] and receiver.statuses == ["capture"]
    sim.reject_direct_refunds("KRC-rej", False)
    again = await asyncio.to_thread(core.transactions.refundDirect, "KRC-rej", {"refund_key": "r1"})  # retry, same key
    assert again["status_code"] == "200" and again["transaction_status"] == "refund"


async def test_status_api_shows_actions_only_for_shopeepay(
    sim: MidtransSimulator, snap: midtransclient.Snap, core: midtransclient.CoreApi, receiver: Receiver,
) -> None:
    for order_id, kind in (("KRC-a1", "gopay"), ("KRC-a2", "qris"), ("KRC-a3", "shopeepay")):
        await create(snap, snap_body(order_id))
        await sim.set_status(order_id, "pending", payment_type=kind)
        await sim.notify(None, order_id)
        status = await asyncio.to_thread(core.transactions.status, order_id)
        assert ("actions" in status) == (kind == "shopeepay")
        assert "actions" in receiver.bodies[-1]
    sim.state.actions_in_notifications = False
    await sim.notify(None, "KRC-a1")
    assert "actions" not in receiver.bodies[-1] and verifies(receiver.bodies[-1])


async def test_only_enabled_payments_are_offered(sim: MidtransSimulator, snap: midtransclient.Snap,
                                                 receiver: Receiver) -> None:
    result = await create(snap, snap_body("KRC-en", enabled_payments=["bni_va", "gopay", "other_qris"]))
    async with aiohttp.ClientSession() as http:
        _, text = await page(http, result["redirect_url"])
        assert 'value="bank_transfer:bni"' in text and 'value="gopay"' in text and 'value="qris"' in text
        assert 'value="bank_transfer:bca"' not in text and 'value="credit_card"' not in text
        assert (await press(http, result["redirect_url"], "pay", "credit_card")).status == 400
    with pytest.raises(PaymentRefused) as info:
        await sim.simulate_payment("KRC-en")  # BCA VA, the default, is not enabled
    assert info.value.reason == "invalid" and receiver.bodies == []
    await sim.simulate_payment("KRC-en", payment_type="qris")
    assert receiver.statuses == ["pending", "settlement"]
