"""Template quick-reply buttons: a template configured with buttons is sent with their payloads (the door's reply
ids), so "My tickets" tapped on the template works as the reply button would; the simulator enforces the
documented shape of a button component."""

from __future__ import annotations

import pytest

from bot.accounts import whatsapp_address
from bot.config import Settings
from bot.qr_reading import decode_qr
from bot.sandbox.whatsapp import FakeWhatsApp
from bot.sandbox.whatsapp.rules import GraphApiError, template_button_payloads
from handlers.whatsapp.client import TemplateRef, template_payload, templates_from_settings
from storage.store import Store
from tests.conftest import FakeClock
from tests.test_whatsapp_door import buy_to_payment_link, late_settlement
from tests.whatsapp_stack import AYU, PUBLIC, whatsapp_stack


def test_a_template_with_buttons_carries_one_payload_component_per_button() -> None:
    payload = template_payload("+6281234567890", TemplateRef("karcis_tickets", "id", ("tickets", "orders")),
                               ["Jazz", "KRC-1"])
    components = payload["template"]["components"]
    assert components[0] == {"type": "body", "parameters": [{"type": "text", "text": "Jazz"},
                                                              {"type": "text", "text": "KRC-1"}]}
    assert components[1:] == [
        {"type": "button", "sub_type": "quick_reply", "index": "0",
         "parameters": [{"type": "payload", "payload": "tickets"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "1",
         "parameters": [{"type": "payload", "payload": "orders"}]}]
    assert "components" not in template_payload("+6281234567890", TemplateRef("karcis_notice", "id"))["template"]


def test_buttons_are_configured_by_what_they_do() -> None:
    settings = Settings(_env_file=None, whatsapp_template_tickets="karcis_tickets",  # type: ignore[call-arg]
                        whatsapp_template_tickets_buttons="tickets, orders")
    templates = templates_from_settings(settings)
    assert templates.tickets is not None and templates.tickets.buttons == ("tickets", "orders")
    with pytest.raises(ValueError, match="unknown template button refund"):
        Settings(_env_file=None, whatsapp_template_tickets_buttons="tickets,refund")  # type: ignore[call-arg]


@pytest.mark.parametrize(("component", "code"), [
    ({"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "payload", "payload": "x"}]},
     131009),
    ({"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "payload", "payload": "x"}]},
     132000),  # the template has one button
    ({"type": "button", "sub_type": "quick_reply", "index": "10", "parameters": [{"type": "payload", "payload": "x"}]},
     131009),
    ({"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "text", "text": "x"}]},
     131009),
    ({"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": ""}]},
     131009),
    ({"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": []}, 131009),
])
def test_the_simulator_refuses_a_button_component_meta_refuses(component: dict[str, object], code: int) -> None:
    with pytest.raises(GraphApiError) as refused:
        template_button_payloads([component], 1)
    assert refused.value.code == code
    ok = {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "p"}]}
    assert template_button_payloads([ok], 1) == {0: "p"}
    with pytest.raises(GraphApiError):
        template_button_payloads([ok, ok], 1)  # the same button twice


async def test_my_tickets_tapped_on_the_late_payment_template_sends_the_qr_images(memory_store: Store,
                                                                                  clock: FakeClock) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        summary = await buy_to_payment_link(stack)
        await stack.tap(AYU, summary, "Konfirmasi")
        [order] = await stack.services.orders.pending_for_user(whatsapp_address(AYU))
        await late_settlement(stack, order.id)
        await stack.settle()
        [template] = [m for m in stack.wa.all_messages_to(AYU) if m.type == "template"]
        assert template.template_buttons() == [{"index": "0", "text": "Tiket saya", "payload": "tickets"}]
        await stack.answer(AYU, lambda: stack.wa.press_template_button(AYU, template.id, 0),
                           lambda m: m.type == "image")
        await stack.settle()
        images = stack.images(AYU)
        assert len(images) == 2 and all(decode_qr(stack.image_bytes(m))[0].startswith(f"{PUBLIC}/t/")
                                        for m in images)


async def test_a_template_button_without_a_payload_comes_back_with_its_label(clock: FakeClock) -> None:
    async with FakeWhatsApp(clock=clock) as wa:
        wa.add_template("t", "id", "Halo {{1}}", buttons=("Tiket saya",))
        wa.add_user(AYU, "Ayu")
        await wa.api_send({"messaging_product": "whatsapp", "to": AYU, "type": "template",
                           "template": {"name": "t", "language": {"code": "id"},
                                        "components": [{"type": "body", "parameters": [{"type": "text",
                                                                                        "text": "Ayu"}]}]}})
        [sent] = wa.all_messages_to(AYU)
        assert sent.template_buttons() == [{"index": "0", "text": "Tiket saya", "payload": "Tiket saya"}]
