"""Reading QR codes from a photo (a door-staff member's picture of a ticket), with zxing-cpp.

Kept apart from bot/qr.py, whose rendering worker process should import nothing but qrcode.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError


def decode_qr(data: bytes) -> list[str]:
    """The texts of the QR codes in an image; none for bytes that are not an image (blocking: run it in a
    thread)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
            return [r.text for r in found if r.text]
    except (UnidentifiedImageError, OSError):
        return []
