"""Telegram's HTML formatting: `parse_html` (as TDLib parses ``parse_mode=HTML``), `render_html`, entity checks."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bot.sandbox.telegram.errors import HtmlParseError, _bad
from bot.sandbox.telegram.rules import _BOT_COMMAND_RE, _URL_SCHEME_RE, ENTITY_TYPES, _parse_int

# --------------------------------------------------------------------------------------------------- text and entities


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace as Telegram does, shifting and clipping entities."""
    left = text.lstrip()
    lead = _u16(text) - _u16(left)
    result = left.rstrip()
    total = _u16(result)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept


def _sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _bot_command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities, as Telegram adds them to ``/start payload``."""
    return [
        {"type": "bot_command", "offset": _u16(text[: m.start()]), "length": _u16(m.group())}
        for m in _BOT_COMMAND_RE.finditer(text)
    ]


# --------------------------------------------------------------------------------------------------- HTML


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the parsed text
    byte_offset: int


_SPACES = " \t\n\r\f\v"
_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "pre", "code", "span", "tg-spoiler",
        "tg-emoji", "blockquote",
    }
)
_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(x[0-9a-fA-F]+|[0-9]+)|([A-Za-z]+))(;?)")


def _decode_entity(source: str, pos: int, *, strict: bool) -> tuple[str, int] | None:
    """Decode the HTML entity at ``pos`` like TDLib (``;`` optional unless strict); None if there is none."""
    match = _ENTITY_RE.match(source, pos)
    if match is None or (strict and not match.group(3)):
        return None
    numeric, name = match.group(1), match.group(2)
    if numeric is not None:
        code = int(numeric[1:], 16) if numeric[0] in "xX" else int(numeric)
        if code == 0 or code >= 0x10FFFF or len(match.group(0).rstrip(";")) >= 10:
            return None
        return chr(code), match.end()
    if name not in _NAMED_ENTITIES:
        return None
    return _NAMED_ENTITIES[name], match.end()


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and entities (offsets in UTF-16), or raise `HtmlParseError`.

    Follows TDLib's ``parse_html``: the supported tags only, properly nested, attributes quoted or name tokens.
    ``strict`` also refuses a bare ``&`` (see the module docstring).
    """
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(source)

    def byte_offset(k: int) -> int:
        return len(source[:k].encode("utf-8"))

    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i, strict=strict)
            if decoded is not None:
                out.append(decoded[0])
                offset += _u16(decoded[0])
                i = decoded[1]
                continue
            if strict:
                raise HtmlParseError(
                    f'Character "&" at byte offset {byte_offset(i)} must be escaped as "&amp;" '
                    "(a real server keeps it; the fake refuses it so unescaped text is caught)"
                )
        if char != "<":
            out.append(char)
            offset += 2 if ord(char) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        if i + 1 < n and source[i + 1] == "/":
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            j = i + 2
            while j < n and source[j] not in _SPACES and source[j] != ">":
                j += 1
            end_name = source[i + 2 : j]
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n or source[j] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            top = stack.pop()
            if end_name and end_name.lower() != top.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", '
                    f'found "</{end_name}>"'
                )
            _close_tag(top, offset, entities)
            i = j + 1
            continue

        j = i + 1
        while j < n and source[j] not in _SPACES and source[j] != ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i + 1 : j].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] == ">":
                break
            attr_begin = j
            while j < n and source[j] not in _SPACES and source[j] not in "=>":
                j += 1
            attr = source[attr_begin:j].lower()
            if not attr:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}'
                )
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {byte_offset(begin)}"
                )
            j += 1
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if source[j] in "'\"":
                quote = source[j]
                j += 1
                value: list[str] = []
                while j < n and source[j] != quote:
                    if source[j] == "&":
                        decoded = _decode_entity(source, j, strict=False)
                        if decoded is not None:
                            value.append(decoded[0])
                            j = decoded[1]
                            continue
                    value.append(source[j])
                    j += 1
                if j < n:
                    j += 1
                attrs[attr] = "".join(value)
            else:
                token_begin = j
                while j < n and ((source[j].isascii() and source[j].isalnum()) or source[j] in ".-"):
                    j += 1
                if j < n and source[j] not in _SPACES and source[j] != ">":
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {byte_offset(token_begin)}")
                attrs[attr] = source[token_begin:j].lower()
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HtmlParseError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(begin)}')
        stack.append(_OpenTag(name, attrs, offset, byte_offset(begin)))
        i = j + 1

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), _sort_entities(entities)


def _close_tag(tag: _OpenTag, offset: int, entities: list[dict[str, Any]]) -> None:
    """Turn a closed tag into an entity, merging ``<pre><code class="language-x">`` into one ``pre`` like TDLib."""
    length = offset - tag.start
    if length <= 0:
        return
    base = {"offset": tag.start, "length": length}
    previous = entities[-1] if entities else None
    same_span = previous is not None and previous["offset"] == tag.start and previous["length"] == length
    if tag.name in _SIMPLE_TAGS:
        entities.append({"type": _SIMPLE_TAGS[tag.name], **base})
    elif tag.name == "a":
        href = tag.attrs.get("href", "")
        if _URL_SCHEME_RE.match(href) or "." in href:
            entities.append({"type": "text_link", **base, "url": href})
    elif tag.name == "code":
        css_class = tag.attrs.get("class", "")
        language = css_class[len("language-") :] if css_class.startswith("language-") else ""
        if language and same_span and previous is not None and previous["type"] == "pre":
            previous["language"] = language
        else:
            entities.append({"type": "code", **base, **({"_language": language} if language else {})})
    elif tag.name == "pre":
        if same_span and previous is not None and previous["type"] == "code" and previous.get("_language"):
            entities.pop()
            entities.append({"type": "pre", **base, "language": previous["_language"]})
        else:
            entities.append({"type": "pre", **base})
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
        entities.append({"type": kind, **base})
    elif tag.name == "tg-emoji":
        entities.append({"type": "custom_emoji", **base, "custom_emoji_id": tag.attrs["emoji-id"]})


def _check_entities(text: str, entities: Any, *, what: str) -> list[dict[str, Any]]:
    """Validate explicit ``entities``/``caption_entities`` against the text, with Telegram's wording."""
    if not isinstance(entities, list):
        raise _bad(f"can't parse {what} JSON object")
    total = _u16(text)
    checked = []
    for entity in entities:
        if not isinstance(entity, dict):
            raise _bad("can't parse MessageEntity: MessageEntity must be an Object")
        if entity.get("type") not in ENTITY_TYPES:
            raise _bad("can't parse MessageEntity: Unsupported type specified")
        offset, length = _parse_int(entity.get("offset")), _parse_int(entity.get("length"))
        if offset is None or length is None:
            raise _bad('can\'t parse MessageEntity: Field "offset" must be of type Integer')
        if offset < 0:
            raise _bad(f"receive an entity with incorrect offset {offset}")
        if offset > total:
            raise _bad(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > total:
            raise _bad(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text at UTF-16 offset "
                f"{offset + length}"
            )
        if length > 0:
            checked.append({**entity, "offset": offset, "length": length})
    return _sort_entities(checked)


_RENDER_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ('<blockquote class="expandable">', "</blockquote>"),
    "bot_command": ('<span class="tg-command">', "</span>"),
}


def _render_open(entity: dict[str, Any]) -> tuple[str, str]:
    kind = entity.get("type")
    if kind == "text_link":
        url = str(entity.get("url", ""))
        if re.match(r"(?i)^(https?|tg)://", url):
            return f'<a href="{html.escape(url)}" rel="noopener noreferrer" target="_blank">', "</a>"
        return "<span>", "</span>"
    if kind == "pre" and entity.get("language"):
        return f'<pre data-language="{html.escape(str(entity["language"]))}">', "</pre>"
    return _RENDER_TAGS.get(str(kind), (f'<span class="tg-{html.escape(str(kind))}">', "</span>"))


def render_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Render text + entities as safe, well-formed HTML for a web page (overlaps are closed and reopened)."""
    starts: dict[int, list[dict[str, Any]]] = {}
    for entity in entities:
        if entity.get("length", 0) > 0:
            starts.setdefault(entity["offset"], []).append(entity)
    out: list[str] = []
    stack: list[tuple[dict[str, Any], str]] = []

    def end(entity: dict[str, Any]) -> int:
        return int(entity["offset"]) + int(entity["length"])

    def at(position: int) -> None:
        if any(end(e) <= position for e, _ in stack):
            reopen = []
            while any(end(e) <= position for e, _ in stack):
                entity, closing = stack.pop()
                out.append(closing)
                if end(entity) > position:
                    reopen.append(entity)
            for entity in reversed(reopen):
                opening, closing = _render_open(entity)
                out.append(opening)
                stack.append((entity, closing))
        for entity in sorted(starts.get(position, []), key=lambda e: -e["length"]):
            opening, closing = _render_open(entity)
            out.append(opening)
            stack.append((entity, closing))

    position = 0
    for char in text:
        at(position)
        out.append(html.escape(char))
        position += 2 if ord(char) > 0xFFFF else 1
    at(position)
    while stack:
        out.append(stack.pop()[1])
    return "".join(out)
