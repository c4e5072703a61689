"""Text cut into what a person sees as one character (a grapheme cluster), so that shortening a name never leaves
half an emoji sequence (`👩‍🎤` is three code points, `👍🏽` two, a flag two) or an accent without its letter.

This follows the rules of Unicode's UAX #29 that matter for names and labels, not all of them (no Hangul jamo
sequences, no Indic conjunct rules): a cluster is a base character followed by its extenders (combining marks,
variation selectors, skin-tone modifiers, emoji tags, the zero-width joiner and non-joiner), a zero-width joiner
joins the next character to it, and regional indicators pair up into flags.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

ZWJ = "\u200d"
ZWNJ = "\u200c"


def is_regional_indicator(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def is_skin_tone(ch: str) -> bool:
    return "\U0001f3fb" <= ch <= "\U0001f3ff"


def is_variation_selector(ch: str) -> bool:
    return "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"


def is_emoji_tag(ch: str) -> bool:
    """TAG SPACE … CANCEL TAG, used in subdivision flags (🏴 + tags + U+E007F)."""
    return "\U000e0020" <= ch <= "\U000e007f"


def extends(ch: str) -> bool:
    """Part of the cluster before it (UAX #29 Extend, SpacingMark and ZWJ, as far as names need)."""
    return (ch in (ZWJ, ZWNJ) or unicodedata.category(ch) in ("Mn", "Me", "Mc") or is_variation_selector(ch)
            or is_skin_tone(ch) or is_emoji_tag(ch))


def clusters(text: str) -> Iterator[str]:
    """The grapheme clusters of `text`, in order; joined, they are `text` again."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if is_regional_indicator(text[i]) and j < n and is_regional_indicator(text[j]):
            j += 1  # a flag: two regional indicators
        while j < n:
            if text[j - 1] == ZWJ or extends(text[j]):  # the joiner glues the next character on (👩 ZWJ 🎤)
                j += 1
            else:
                break
        yield text[i:j]
        i = j


def cut(text: str, limit: int) -> str:
    """The longest start of `text` of whole clusters at most `limit` long (in code points)."""
    kept: list[str] = []
    used = 0
    for cluster in clusters(text):
        if used + len(cluster) > limit:
            break
        kept.append(cluster)
        used += len(cluster)
    return "".join(kept)


def cut_bytes(text: str, limit: int) -> str:
    """The longest start of `text` of whole clusters at most `limit` UTF-8 bytes long."""
    kept: list[str] = []
    used = 0
    for cluster in clusters(text):
        size = len(cluster.encode())
        if used + size > limit:
            break
        kept.append(cluster)
        used += size
    return "".join(kept)
