"""Every text Karcis says in Telegram, in English and Indonesian: one catalog, one dict per language.

    t(lang, key, **values)      HTML for parse_mode=HTML; every value is escaped unless it is `Html`
    label(lang, key, **values)  plain text, for buttons, callback answers and command descriptions
    lang_of(language_code)      "id" for Telegram language codes starting with "id", else "en"

Templates use `str.format` fields. Both languages have the same keys and the same fields (tests check it, and
that every template is valid Telegram HTML).
"""

from __future__ import annotations

import html

DEFAULT = "en"


class Html(str):
    """Text that already is valid Telegram HTML: inserted as is."""


def lang_of(language_code: str | None) -> str:
    return "id" if language_code and language_code.lower().startswith("id") else DEFAULT


def _escaped(value: object) -> str:
    return value if isinstance(value, Html) else html.escape(str(value), quote=False)


def t(lang: str, key: str, /, **values: object) -> Html:
    """The HTML message `key` in `lang`, with `values` escaped into it."""
    return Html(CATALOG[lang][key].format(**{k: _escaped(v) for k, v in values.items()}))


def label(lang: str, key: str, /, **values: object) -> str:
    """The plain-text `key` in `lang` (no HTML is parsed where it goes)."""
    return CATALOG[lang][key].format(**{k: str(v) for k, v in values.items()})


def has(key: str) -> bool:
    return key in CATALOG[DEFAULT]


EN: dict[str, str] = {
    # ---- time ----
    "time.weekdays": "Mon Tue Wed Thu Fri Sat Sun",
    "time.months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    # ---- commands (menus) ----
    "cmd.start": "Events on sale",
    "cmd.mytickets": "My tickets",
    "cmd.orders": "Unpaid orders: pay or cancel",
    "cmd.help": "Help",
    "cmd.checkin": "Check a ticket in by its code",
    "cmd.scan": "Check in from a photo of the QR",
    "cmd.stats": "Sales figures",
    "cmd.expire": "Release holds that have ended",
    # ---- buttons ----
    "btn.sold_out": "{tier} · sold out",
    "btn.checkout": "Continue · {total}",
    "btn.events": "« Events",
    "btn.cancel_purchase": "✖ Cancel",
    "btn.pay": "💳 Pay {total}",
    "btn.pay_order": "💳 Pay …{order} · {total}",
    "btn.cancel_order": "✖ Cancel order",
    "btn.cancel_short": "✖ Cancel",
    "btn.use_last": "✅ Use these details",
    "btn.new_details": "✏️ Enter other details",
    "btn.confirm": "✅ Confirm and hold the seats",
    "btn.change_details": "✏️ Change details",
    "btn.change_tickets": "🎟 Change tickets",
    "btn.try_again": "🔁 Try again",
    "btn.my_orders": "🧾 My orders",
    "btn.my_tickets": "🎟 My tickets",
    "btn.buy_again": "🎟 Buy again",
    # ---- callback answers ----
    "alert.event_gone": "This event is no longer available.",
    "alert.max_per_order": "That is the most of this ticket in one order.",
    "alert.no_seats": "No more seats left in this tier.",
    "alert.cart_full": "This order cannot hold another kind of ticket; buy it in a second order.",
    "alert.use_buttons": "Use ➕ and ➖ to choose how many.",
    "alert.sales_closed": "Ticket sales for this event are closed.",
    "alert.cart_empty": "Choose at least one ticket first.",
    "alert.draft_gone": "This purchase is no longer open. Start again from the event.",
    "alert.order_gone": "Order not found.",
    "alert.cancelled": "Order cancelled.",
    "alert.not_your_ticket": "That ticket is not yours.",
    # ---- browsing ----
    "welcome": "👋 Hi {name}! This is <b>Karcis</b>: event tickets, paid with Midtrans, delivered here as QR codes.",
    "events.list": "🎫 <b>Events on sale</b>: tap one to see its tickets.",
    "events.none": "There are no events on sale right now.",
    "event.gone": "That event is not available.",
    "card.head": "<b>{title}</b>\n🗓 {when}\n📍 {venue}",
    "card.tiers": "🎟 <b>Tickets</b>",
    "card.tier": "• {tier}: {price} · {left}",
    "card.left": "{n} left",
    "card.sold_out": "sold out",
    "card.selection": "🛒 <b>Your selection</b>\n{lines}\n<b>Total: {total}</b>",
    "card.pick": "Choose how many with ➕ and ➖.",
    "card.sales_closed": "⛔ Ticket sales for this event are closed.",
    "price.free": "Free",
    "order.line": "{qty} × {tier}: {amount}",
    # ---- contact details ----
    "contact.use_last": "👤 Use the details from last time?\n\nName: <b>{name}</b>\nEmail: {email}\nPhone: {phone}",
    "contact.ask.name": "👤 <b>Step 1 of 3</b>: what name should be on the tickets?",
    "contact.ask.email": "📧 <b>Step 2 of 3</b>: your email address (for the receipt)?",
    "contact.ask.phone": "📱 <b>Step 3 of 3</b>: your mobile number, e.g. 0812 3456 7890?",
    "contact.error.name.empty": "⚠️ The name is empty.",
    "contact.error.name.too_long": "⚠️ That name is too long (80 characters at most).",
    "contact.error.name.no_letters": "⚠️ A name needs letters.",
    "contact.error.name.control_characters": "⚠️ That name contains invisible control characters.",
    "contact.error.name.invalid": "⚠️ That name cannot be used.",
    "contact.error.email.invalid": "⚠️ That is not a valid email address (like name@example.com).",
    "contact.error.phone.not_a_number": "⚠️ That is not a phone number: use digits, like 0812 3456 7890.",
    "contact.error.phone.too_short": "⚠️ That phone number is too short.",
    "contact.error.phone.too_long": "⚠️ That phone number is too long.",
    "contact.error.phone.invalid": "⚠️ That phone number does not exist.",
    "contact.error.phone.not_mobile": "⚠️ Please give a mobile number; a landline cannot receive messages.",
    "summary": (
        "🧾 <b>Order summary</b>\n<b>{title}</b>\n🗓 {when}\n\n{lines}\n<b>Total: {total}</b>\n\n"
        "👤 {name}\n📧 {email}\n📱 {phone}\n\nConfirm to hold the seats, then pay with Midtrans."
    ),
    "purchase.dropped": "Purchase cancelled. Nothing was reserved.",
    "hint.start": "Send /start to see the events, /mytickets for your tickets, /help for more.",
    # ---- reserving ----
    "free.confirmed": "🎉 <b>Confirmed!</b> Order <code>{order}</code>\n{lines}\nYour tickets are on their way.",
    "refused.sold_out_left": (
        "😕 Not enough seats: only {n} left for <b>{tier}</b>. Change the quantity and try again."
    ),
    "refused.sold_out": "😕 <b>{tier}</b> is sold out.",
    "refused.rate_limited": "⏳ Too many reservations in one minute (at most {n}). Wait a moment, then try again.",
    "refused.too_many_pending": "🧾 You already have {n} unpaid orders. Pay or cancel one of them first.",
    "refused.over_max": "At most {n} × <b>{tier}</b> per order.",
    "refused.unknown_tier": "<b>{tier}</b> is no longer on sale.",
    "refused.empty": "Choose at least one ticket.",
    "refused.sales_closed": "⛔ Ticket sales for <b>{title}</b> are closed.",
    "refused.unknown_event": "That event is no longer available.",
    "refused.staff_only": "🙏 Sorry, this command is for event organisers.",
    "refused.admin_only": "🙏 Sorry, this command is for Karcis admins.",
    # ---- paying ----
    "pay.link": (
        "✅ <b>Seats held!</b> Order <code>{order}</code>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏰ Pay before <b>{until}</b>; after that the seats are released."
    ),
    "pay.unavailable": (
        "⚠️ Your seats are held (order <code>{order}</code>, until {until}), but the payment link is unavailable "
        "right now. Try again in a moment."
    ),
    "pay.over": "⌛ The hold on order <code>{order}</code> has ended; it can no longer be paid.",
    "pay.pending": "🏦 <b>Finish your payment</b> for order <code>{order}</code> ({total}):\n{rows}",
    "pay.va": "• {bank} virtual account: <code>{number}</code>",
    "pay.bill": "• Mandiri bill payment: company code <code>{biller}</code>, bill key <code>{bill_key}</code>",
    "pay.store": "• Pay at {store} with the code <code>{code}</code>",
    "pay.action": '• <a href="{url}">{name}</a>',
    "pay.pdf": '• <a href="{url}">Payment instructions (PDF)</a>',
    "pay.expiry": "⏰ Pay before {until}",
    "pay.no_details": "Follow the steps on the payment page.",
    # ---- orders ----
    "order.cancelled": "✖ Order <code>{order}</code> cancelled; the seats were released.\n{lines}",
    "order.not_found": "I can't find that order.",
    "order.status.pending": (
        "🧾 Order <code>{order}</code>: <b>{title}</b>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏳ Waiting for payment until <b>{until}</b>."
    ),
    "order.status.paid": "✅ Order <code>{order}</code>: <b>{title}</b>\n{lines}\n\nPaid. Your tickets: /mytickets",
    "order.status.cancelled": "✖ Order <code>{order}</code> (<b>{title}</b>) was cancelled; its seats were released.",
    "order.status.expired": (
        "⌛ Order <code>{order}</code> (<b>{title}</b>) was not paid in time; its seats were released."
    ),
    "order.status.failed": (
        "❌ The payment for order <code>{order}</code> (<b>{title}</b>) failed; its seats were "
        "released."
    ),
    "order.status.needs_refund": (
        "💸 Order <code>{order}</code> (<b>{title}</b>): your payment arrived after the seats were gone. "
        "{total} will be refunded to you."
    ),
    "order.status.refunded": (
        "💸 Order <code>{order}</code> (<b>{title}</b>) was refunded ({total}); its tickets are "
        "void."
    ),
    "orders.none": "You have no unpaid orders. Your tickets: /mytickets",
    "orders.head": "🧾 <b>Unpaid orders</b>",
    "orders.item": "<code>{order}</code>: <b>{title}</b>\n{lines}\nTotal {total} · pay before {until}",
    # ---- tickets ----
    "tickets.none": "You have no tickets yet. /start to see the events.",
    "tickets.head": "🎟 <b>Your tickets</b> (page {page} of {pages}): tap one to get its QR again.",
    "tickets.event": "<b>{title}</b> · {when}",
    "tickets.item.valid": "• {tier} · <code>{code}</code> · {holder}",
    "tickets.item.in": "• {tier} · <code>{code}</code> · {holder} · ✅ checked in",
    "tickets.item.void": "• <s>{tier} · {code}</s> · {holder} · void",
    "ticket.caption": "🎟 <b>{title}</b>\n{tier}\n👤 {holder}\n<code>{code}</code>\n🗓 {when}",
    "ticket.void": "❌ <b>VOID</b>",
    "ticket.stranger": "🎟 This is a Karcis ticket. Show it at the door to get in.",
    # ---- at the door ----
    "checkin.ok": "✅ <b>{holder}</b>, {tier}\n{title}",
    "checkin.already": "⚠️ <b>Already checked in</b> at {time} by {by}\n{holder}, {tier}",
    "checkin.void": "❌ <b>Void ticket</b>\n{holder}, {tier}",
    "checkin.not_yours": "❌ <b>Not your event</b>",
    "checkin.unknown": "❌ <b>Unknown code</b>",
    "checkin.usage": "Send <code>/checkin CODE</code>: the code under the QR, or the ticket's link.",
    "scan.ready": "📷 Send a photo of the ticket's QR code. Scan mode stays on for 15 minutes after each scan.",
    "scan.first": "To check a ticket in from a photo, send /scan first (or write /scan as the photo's caption).",
    "scan.no_code": "❌ <b>No QR code found</b> in that photo. Try again, closer and sharper.",
    "photo.not_expected": "I can't do anything with photos. /start to see the events.",
    # ---- figures ----
    "stats.head": "📊 <b>{title}</b> · {when}",
    "stats.tier": "• {tier}: sold {sold}/{capacity} · held {pending} · left {available} · in {checked_in} · {revenue}",
    "stats.total": (
        "<b>Total</b>: sold {sold}/{capacity} · held {pending} · left {available} · in {checked_in} · "
        "<b>{revenue}</b>"
    ),
    "stats.none": "No events yet.",
    "expire.none": "Nothing to expire: no hold has ended.",
    "expire.done": "⌛ <b>{orders}</b> orders expired, <b>{seats}</b> seats released.",
    "expire.event": "• {title}: {orders} orders, {seats} seats",
    # ---- help and errors ----
    "help.buyer": (
        "<b>Karcis</b>\n/start: events on sale\n/mytickets: your tickets (QR codes)\n"
        "/orders: unpaid orders, to pay or cancel\n/help: this help"
    ),
    "help.organiser": (
        "<b>Organisers</b>\n/checkin CODE: check a ticket in\n/scan: then send a photo of a QR\n"
        "/stats: sales of your events\nOpening a ticket's QR with your phone camera also checks it in."
    ),
    "help.admin": "<b>Admins</b>\n/expire: release holds that have ended\n/stats: every event",
    "error.generic": "😵 Sorry, something went wrong. Please try again in a moment.",
    # ---- notices ----
    "notice.paid": (
        "💳 <b>Payment received</b>: order <code>{order}</code>\n<b>{title}</b>\n{lines}\nTotal {total}\n\n"
        "Your tickets follow. Show the QR at the door."
    ),
    "notice.free": (
        "🎉 <b>Your free tickets</b>: order <code>{order}</code>\n<b>{title}</b>\n{lines}\n\n"
        "Show the QR at the door."
    ),
    "notice.sale": (
        "💰 <b>New sale</b>: <b>{title}</b>\n{lines}\n👤 {buyer}\n<code>{order}</code>\n\n"
        "<b>Sold so far</b>\n{figures}\nAll tiers: {sold}/{capacity}"
    ),
    "notice.sale.tier": "• {tier}: {sold}/{capacity}",
    # onsale-messages: the receipt in the first ticket photo's caption, and the organisers' sale digest
    "receipt.paid": "💳 <b>Payment received</b>: order <code>{order}</code>\n{lines}\nTotal {total}",
    "receipt.free": "🎉 <b>Your free tickets</b>: order <code>{order}</code>\n{lines}",
    "digest.head": "📊 <b>Sales since {since}</b>\nOrders: {orders} · seats: {seats}",
    "digest.event": "<b>{title}</b> · orders: {orders} · seats: {seats}",
    "digest.tier": "• {tier}: +{qty} · sold {sold}/{capacity}",
    "digest.tier.gone": "• {tier}: +{qty}",
    "digest.total": "All tiers: {sold}/{capacity}",
    "digest.latest": "<b>Latest</b>",
    "digest.sale": "• {buyer} · {seats} · <code>{order}</code>",
    "digest.more": "… and {n} earlier order(s) in this digest (/stats for the totals)",
    "notice.expired": (
        "⌛ Order <code>{order}</code> for <b>{title}</b> was not paid in time; the seats were released.\n{lines}"
    ),
    "notice.failed": (
        "❌ The payment for order <code>{order}</code> (<b>{title}</b>) failed; the seats were "
        "released.\n{lines}"
    ),
    "notice.refunded": "💸 Order <code>{order}</code> (<b>{title}</b>) was refunded: {total}. Its tickets are void.",
    "notice.needs_refund.buyer": (
        "💸 Your payment for order <code>{order}</code> (<b>{title}</b>) arrived after the seats were gone. "
        "We are sorry: {total} will be refunded to you."
    ),
    "notice.needs_refund.admin": (
        "🚨 <b>Refund needed</b>: order <code>{order}</code>\n<b>{title}</b>, {total}\n"
        "Paid after tier {tier} sold out.\n👤 {buyer} · {email} · {phone}"
    ),
    "notice.amount_mismatch": (
        "🚨 <b>Amount mismatch</b>: order <code>{order}</code> ({title})\n"
        "Order total {total}, Midtrans reported {reported} ({status}). No tickets were issued."
    ),
    "notice.review": (
        "🔎 <b>Payment held for review</b>: order <code>{order}</code> ({title}), {total}, {method}. "
        "Check it in the Midtrans dashboard."
    ),
}

ID: dict[str, str] = {
    # ---- waktu ----
    "time.weekdays": "Sen Sel Rab Kam Jum Sab Min",
    "time.months": "Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des",
    # ---- perintah (menu) ----
    "cmd.start": "Acara yang dijual",
    "cmd.mytickets": "Tiket saya",
    "cmd.orders": "Pesanan belum dibayar: bayar atau batalkan",
    "cmd.help": "Bantuan",
    "cmd.checkin": "Check-in tiket dengan kodenya",
    "cmd.scan": "Check-in dari foto QR",
    "cmd.stats": "Statistik penjualan",
    "cmd.expire": "Lepas penahanan yang sudah berakhir",
    # ---- tombol ----
    "btn.sold_out": "{tier} · habis",
    "btn.checkout": "Lanjut · {total}",
    "btn.events": "« Acara",
    "btn.cancel_purchase": "✖ Batal",
    "btn.pay": "💳 Bayar {total}",
    "btn.pay_order": "💳 Bayar …{order} · {total}",
    "btn.cancel_order": "✖ Batalkan pesanan",
    "btn.cancel_short": "✖ Batalkan",
    "btn.use_last": "✅ Pakai data ini",
    "btn.new_details": "✏️ Isi data lain",
    "btn.confirm": "✅ Konfirmasi dan tahan kursi",
    "btn.change_details": "✏️ Ubah data",
    "btn.change_tickets": "🎟 Ubah tiket",
    "btn.try_again": "🔁 Coba lagi",
    "btn.my_orders": "🧾 Pesanan saya",
    "btn.my_tickets": "🎟 Tiket saya",
    "btn.buy_again": "🎟 Beli lagi",
    # ---- jawaban tombol ----
    "alert.event_gone": "Acara ini sudah tidak tersedia.",
    "alert.max_per_order": "Itu jumlah maksimum tiket ini dalam satu pesanan.",
    "alert.no_seats": "Tidak ada kursi tersisa di kategori ini.",
    "alert.cart_full": "Pesanan ini tidak bisa menampung jenis tiket lain; beli di pesanan kedua.",
    "alert.use_buttons": "Gunakan ➕ dan ➖ untuk memilih jumlah.",
    "alert.sales_closed": "Penjualan tiket acara ini sudah ditutup.",
    "alert.cart_empty": "Pilih minimal satu tiket dulu.",
    "alert.draft_gone": "Pembelian ini sudah tidak aktif. Mulai lagi dari acaranya.",
    "alert.order_gone": "Pesanan tidak ditemukan.",
    "alert.cancelled": "Pesanan dibatalkan.",
    "alert.not_your_ticket": "Tiket itu bukan milik Anda.",
    # ---- melihat acara ----
    "welcome": (
        "👋 Halo {name}! Ini <b>Karcis</b>: tiket acara, dibayar lewat Midtrans, dikirim ke sini sebagai kode "
        "QR."
    ),
    "events.list": "🎫 <b>Acara yang dijual</b>: ketuk salah satu untuk melihat tiketnya.",
    "events.none": "Belum ada acara yang dijual saat ini.",
    "event.gone": "Acara itu tidak tersedia.",
    "card.head": "<b>{title}</b>\n🗓 {when}\n📍 {venue}",
    "card.tiers": "🎟 <b>Tiket</b>",
    "card.tier": "• {tier}: {price} · {left}",
    "card.left": "sisa {n}",
    "card.sold_out": "habis",
    "card.selection": "🛒 <b>Pilihan Anda</b>\n{lines}\n<b>Total: {total}</b>",
    "card.pick": "Pilih jumlahnya dengan ➕ dan ➖.",
    "card.sales_closed": "⛔ Penjualan tiket untuk acara ini sudah ditutup.",
    "price.free": "Gratis",
    "order.line": "{qty} × {tier}: {amount}",
    # ---- data pembeli ----
    "contact.use_last": (
        "👤 Pakai data dari pembelian sebelumnya?\n\nNama: <b>{name}</b>\nEmail: {email}\nTelepon: "
        "{phone}"
    ),
    "contact.ask.name": "👤 <b>Langkah 1 dari 3</b>: nama siapa yang dicantumkan di tiket?",
    "contact.ask.email": "📧 <b>Langkah 2 dari 3</b>: alamat email Anda (untuk bukti pembayaran)?",
    "contact.ask.phone": "📱 <b>Langkah 3 dari 3</b>: nomor HP Anda, misalnya 0812 3456 7890?",
    "contact.error.name.empty": "⚠️ Nama masih kosong.",
    "contact.error.name.too_long": "⚠️ Nama itu terlalu panjang (maksimal 80 karakter).",
    "contact.error.name.no_letters": "⚠️ Nama harus mengandung huruf.",
    "contact.error.name.control_characters": "⚠️ Nama itu mengandung karakter kontrol yang tidak terlihat.",
    "contact.error.name.invalid": "⚠️ Nama itu tidak bisa dipakai.",
    "contact.error.email.invalid": "⚠️ Alamat email itu tidak valid (contoh: nama@contoh.com).",
    "contact.error.phone.not_a_number": "⚠️ Itu bukan nomor telepon: gunakan angka, misalnya 0812 3456 7890.",
    "contact.error.phone.too_short": "⚠️ Nomor telepon itu terlalu pendek.",
    "contact.error.phone.too_long": "⚠️ Nomor telepon itu terlalu panjang.",
    "contact.error.phone.invalid": "⚠️ Nomor telepon itu tidak ada.",
    "contact.error.phone.not_mobile": "⚠️ Mohon masukkan nomor HP; telepon rumah tidak bisa menerima pesan.",
    "summary": (
        "🧾 <b>Ringkasan pesanan</b>\n<b>{title}</b>\n🗓 {when}\n\n{lines}\n<b>Total: {total}</b>\n\n"
        "👤 {name}\n📧 {email}\n📱 {phone}\n\nKonfirmasi untuk menahan kursi, lalu bayar lewat Midtrans."
    ),
    "purchase.dropped": "Pembelian dibatalkan. Tidak ada yang dipesan.",
    "hint.start": "Kirim /start untuk melihat acara, /mytickets untuk tiket Anda, /help untuk bantuan.",
    # ---- memesan ----
    "free.confirmed": "🎉 <b>Berhasil!</b> Pesanan <code>{order}</code>\n{lines}\nTiket Anda sedang dikirim.",
    "refused.sold_out_left": (
        "😕 Kursi tidak cukup: hanya tersisa {n} untuk <b>{tier}</b>. Ubah jumlahnya lalu coba lagi."
    ),
    "refused.sold_out": "😕 <b>{tier}</b> sudah habis.",
    "refused.rate_limited": (
        "⏳ Terlalu banyak pemesanan dalam satu menit (maksimal {n}). Tunggu sebentar, lalu coba "
        "lagi."
    ),
    "refused.too_many_pending": (
        "🧾 Anda sudah punya {n} pesanan yang belum dibayar. Bayar atau batalkan salah satunya "
        "dulu."
    ),
    "refused.over_max": "Maksimal {n} × <b>{tier}</b> per pesanan.",
    "refused.unknown_tier": "<b>{tier}</b> sudah tidak dijual.",
    "refused.empty": "Pilih minimal satu tiket.",
    "refused.sales_closed": "⛔ Penjualan tiket <b>{title}</b> sudah ditutup.",
    "refused.unknown_event": "Acara itu sudah tidak tersedia.",
    "refused.staff_only": "🙏 Maaf, perintah ini khusus untuk penyelenggara acara.",
    "refused.admin_only": "🙏 Maaf, perintah ini khusus untuk admin Karcis.",
    # ---- membayar ----
    "pay.link": (
        "✅ <b>Kursi sudah ditahan!</b> Pesanan <code>{order}</code>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏰ Bayar sebelum <b>{until}</b>; setelah itu kursi dilepas."
    ),
    "pay.unavailable": (
        "⚠️ Kursi Anda sudah ditahan (pesanan <code>{order}</code>, sampai {until}), tetapi tautan pembayaran "
        "sedang tidak tersedia. Coba lagi sebentar lagi."
    ),
    "pay.over": "⌛ Waktu penahanan pesanan <code>{order}</code> sudah berakhir; pesanan ini tidak bisa dibayar lagi.",
    "pay.pending": "🏦 <b>Selesaikan pembayaran</b> pesanan <code>{order}</code> ({total}):\n{rows}",
    "pay.va": "• Virtual account {bank}: <code>{number}</code>",
    "pay.bill": "• Mandiri Bill: kode perusahaan <code>{biller}</code>, kode bayar <code>{bill_key}</code>",
    "pay.store": "• Bayar di {store} dengan kode <code>{code}</code>",
    "pay.action": '• <a href="{url}">{name}</a>',
    "pay.pdf": '• <a href="{url}">Petunjuk pembayaran (PDF)</a>',
    "pay.expiry": "⏰ Bayar sebelum {until}",
    "pay.no_details": "Ikuti langkah di halaman pembayaran.",
    # ---- pesanan ----
    "order.cancelled": "✖ Pesanan <code>{order}</code> dibatalkan; kursinya sudah dilepas.\n{lines}",
    "order.not_found": "Pesanan itu tidak ditemukan.",
    "order.status.pending": (
        "🧾 Pesanan <code>{order}</code>: <b>{title}</b>\n{lines}\n<b>Total: {total}</b>\n\n"
        "⏳ Menunggu pembayaran sampai <b>{until}</b>."
    ),
    "order.status.paid": "✅ Pesanan <code>{order}</code>: <b>{title}</b>\n{lines}\n\nLunas. Tiket Anda: /mytickets",
    "order.status.cancelled": "✖ Pesanan <code>{order}</code> (<b>{title}</b>) dibatalkan; kursinya sudah dilepas.",
    "order.status.expired": (
        "⌛ Pesanan <code>{order}</code> (<b>{title}</b>) tidak dibayar tepat waktu; kursinya sudah dilepas."
    ),
    "order.status.failed": "❌ Pembayaran pesanan <code>{order}</code> (<b>{title}</b>) gagal; kursinya sudah dilepas.",
    "order.status.needs_refund": (
        "💸 Pesanan <code>{order}</code> (<b>{title}</b>): pembayaran Anda masuk setelah kursi habis. "
        "Dana {total} akan dikembalikan kepada Anda."
    ),
    "order.status.refunded": (
        "💸 Pesanan <code>{order}</code> (<b>{title}</b>) sudah di-refund ({total}); tiketnya tidak berlaku lagi."
    ),
    "orders.none": "Tidak ada pesanan yang belum dibayar. Tiket Anda: /mytickets",
    "orders.head": "🧾 <b>Pesanan belum dibayar</b>",
    "orders.item": "<code>{order}</code>: <b>{title}</b>\n{lines}\nTotal {total} · bayar sebelum {until}",
    # ---- tiket ----
    "tickets.none": "Anda belum punya tiket. /start untuk melihat acara.",
    "tickets.head": "🎟 <b>Tiket Anda</b> (halaman {page} dari {pages}): ketuk tiket untuk menampilkan QR-nya lagi.",
    "tickets.event": "<b>{title}</b> · {when}",
    "tickets.item.valid": "• {tier} · <code>{code}</code> · {holder}",
    "tickets.item.in": "• {tier} · <code>{code}</code> · {holder} · ✅ sudah masuk",
    "tickets.item.void": "• <s>{tier} · {code}</s> · {holder} · tidak berlaku",
    "ticket.caption": "🎟 <b>{title}</b>\n{tier}\n👤 {holder}\n<code>{code}</code>\n🗓 {when}",
    "ticket.void": "❌ <b>TIDAK BERLAKU</b>",
    "ticket.stranger": "🎟 Ini tiket Karcis. Tunjukkan di pintu masuk.",
    # ---- di pintu masuk ----
    "checkin.ok": "✅ <b>{holder}</b>, {tier}\n{title}",
    "checkin.already": "⚠️ <b>Sudah check-in</b> pukul {time} oleh {by}\n{holder}, {tier}",
    "checkin.void": "❌ <b>Tiket tidak berlaku</b>\n{holder}, {tier}",
    "checkin.not_yours": "❌ <b>Bukan acara Anda</b>",
    "checkin.unknown": "❌ <b>Kode tidak dikenal</b>",
    "checkin.usage": "Kirim <code>/checkin KODE</code>: kode di bawah QR, atau tautan tiketnya.",
    "scan.ready": "📷 Kirim foto kode QR tiket. Mode pindai tetap aktif 15 menit setelah setiap pindaian.",
    "scan.first": "Untuk check-in dari foto, kirim /scan dulu (atau tulis /scan sebagai keterangan foto).",
    "scan.no_code": "❌ <b>Kode QR tidak ditemukan</b> di foto itu. Coba lagi, lebih dekat dan lebih jelas.",
    "photo.not_expected": "Saya tidak bisa memproses foto. /start untuk melihat acara.",
    # ---- angka ----
    "stats.head": "📊 <b>{title}</b> · {when}",
    "stats.tier": (
        "• {tier}: terjual {sold}/{capacity} · ditahan {pending} · sisa {available} · masuk {checked_in} · {revenue}"
    ),
    "stats.total": (
        "<b>Total</b>: terjual {sold}/{capacity} · ditahan {pending} · sisa {available} · masuk {checked_in} · "
        "<b>{revenue}</b>"
    ),
    "stats.none": "Belum ada acara.",
    "expire.none": "Tidak ada yang kedaluwarsa: belum ada penahanan yang berakhir.",
    "expire.done": "⌛ <b>{orders}</b> pesanan kedaluwarsa, <b>{seats}</b> kursi dilepas.",
    "expire.event": "• {title}: {orders} pesanan, {seats} kursi",
    # ---- bantuan dan kesalahan ----
    "help.buyer": (
        "<b>Karcis</b>\n/start: acara yang dijual\n/mytickets: tiket Anda (kode QR)\n"
        "/orders: pesanan belum dibayar, untuk dibayar atau dibatalkan\n/help: bantuan ini"
    ),
    "help.organiser": (
        "<b>Penyelenggara</b>\n/checkin KODE: check-in tiket\n/scan: lalu kirim foto QR\n"
        "/stats: penjualan acara Anda\nMembuka QR tiket dengan kamera HP juga melakukan check-in."
    ),
    "help.admin": "<b>Admin</b>\n/expire: lepas penahanan yang sudah berakhir\n/stats: semua acara",
    "error.generic": "😵 Maaf, terjadi kesalahan. Silakan coba lagi sebentar lagi.",
    # ---- pemberitahuan ----
    "notice.paid": (
        "💳 <b>Pembayaran diterima</b>: pesanan <code>{order}</code>\n<b>{title}</b>\n{lines}\nTotal {total}\n\n"
        "Tiket Anda menyusul. Tunjukkan QR-nya di pintu masuk."
    ),
    "notice.free": (
        "🎉 <b>Tiket gratis Anda</b>: pesanan <code>{order}</code>\n<b>{title}</b>\n{lines}\n\n"
        "Tunjukkan QR-nya di pintu masuk."
    ),
    "notice.sale": (
        "💰 <b>Penjualan baru</b>: <b>{title}</b>\n{lines}\n👤 {buyer}\n<code>{order}</code>\n\n"
        "<b>Terjual sejauh ini</b>\n{figures}\nSemua kategori: {sold}/{capacity}"
    ),
    "notice.sale.tier": "• {tier}: {sold}/{capacity}",
    # onsale-messages: bukti pembayaran di keterangan foto tiket pertama, dan ringkasan penjualan penyelenggara
    "receipt.paid": "💳 <b>Pembayaran diterima</b>: pesanan <code>{order}</code>\n{lines}\nTotal {total}",
    "receipt.free": "🎉 <b>Tiket gratis Anda</b>: pesanan <code>{order}</code>\n{lines}",
    "digest.head": "📊 <b>Penjualan sejak {since}</b>\nPesanan: {orders} · kursi: {seats}",
    "digest.event": "<b>{title}</b> · pesanan: {orders} · kursi: {seats}",
    "digest.tier": "• {tier}: +{qty} · terjual {sold}/{capacity}",
    "digest.tier.gone": "• {tier}: +{qty}",
    "digest.total": "Semua kategori: {sold}/{capacity}",
    "digest.latest": "<b>Terbaru</b>",
    "digest.sale": "• {buyer} · {seats} · <code>{order}</code>",
    "digest.more": "… dan {n} pesanan sebelumnya dalam ringkasan ini (/stats untuk totalnya)",
    "notice.expired": (
        "⌛ Pesanan <code>{order}</code> untuk <b>{title}</b> tidak dibayar tepat waktu; kursinya sudah dilepas.\n"
        "{lines}"
    ),
    "notice.failed": (
        "❌ Pembayaran pesanan <code>{order}</code> (<b>{title}</b>) gagal; kursinya sudah dilepas.\n{lines}"
    ),
    "notice.refunded": (
        "💸 Pesanan <code>{order}</code> (<b>{title}</b>) sudah di-refund: {total}. Tiketnya tidak berlaku lagi."
    ),
    "notice.needs_refund.buyer": (
        "💸 Pembayaran Anda untuk pesanan <code>{order}</code> (<b>{title}</b>) masuk setelah kursi habis. "
        "Mohon maaf: dana {total} akan dikembalikan kepada Anda."
    ),
    "notice.needs_refund.admin": (
        "🚨 <b>Perlu refund</b>: pesanan <code>{order}</code>\n<b>{title}</b>, {total}\n"
        "Dibayar setelah kategori {tier} habis.\n👤 {buyer} · {email} · {phone}"
    ),
    "notice.amount_mismatch": (
        "🚨 <b>Jumlah tidak cocok</b>: pesanan <code>{order}</code> ({title})\n"
        "Total pesanan {total}, Midtrans melaporkan {reported} ({status}). Tiket tidak diterbitkan."
    ),
    "notice.review": (
        "🔎 <b>Pembayaran ditahan untuk ditinjau</b>: pesanan <code>{order}</code> ({title}), {total}, {method}. "
        "Periksa di dasbor Midtrans."
    ),
}

CATALOG: dict[str, dict[str, str]] = {"en": EN, "id": ID}
