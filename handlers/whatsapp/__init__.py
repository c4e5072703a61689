"""The WhatsApp front door (Meta's WhatsApp Cloud API), beside the Telegram one.

- `client`: sending through the Graph API (`POST /{phone-number-id}/messages`, media upload and download), with
  the documented limits checked before anything is sent, timeouts, bounded retries and typed errors.
- `updates`: what the webhook hands the door: one typed `InboundMessage` per message a person sent, and the
  `StatusUpdate`s of the messages we sent, parsed defensively from Meta's webhook payload.

The webhook itself (signature, handshake, durable de-duplication, the queue) is `webhooks/whatsapp.py`.
See docs/whatsapp.md.
"""
