"""The chat front doors, one package per channel, and what they share.

    handlers/telegram/   the Telegram door (python-telegram-bot): register(application, services)
    handlers/whatsapp/   the WhatsApp door (Cloud API webhook + Graph API client)
    handlers/messages.py the message catalog, English and Indonesian, for every door
    handlers/formatting.py  rupiah, times in the event's zone, length fitting
    handlers/views.py    texts built from the catalog that both doors render (event cards, order lines, answers)

Nothing here is imported by the domain (bot/) or storage/; the composition root (bot/runtime.py) wires the doors.
"""
