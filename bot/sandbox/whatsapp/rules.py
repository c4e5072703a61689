"""What the WhatsApp Cloud API refuses, written from Meta's documentation, each rule beside its page.

Every refusal is a `GraphApiError`: Meta's Graph API error body (``error.message``, ``type``, ``code``,
``error_data.details``, ``fbtrace_id``) and the HTTP status Meta's error-code table gives for that code. Error
*titles* and ``details`` texts are the simulator's best rendering of Meta's; the docs tell integrators to branch on
``code`` and not on the texts ("Meta recommends that you build your app's error handling logic around code values
and details payload properties", https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/),
so the tests and the door should too.

The validators here are pure: they take the request's JSON and say what is wrong. The simulator decides what a
valid message does (window, rate limits, delivery).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ERROR_CODES_PAGE = "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/"
ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# --- text: body max 4096 characters (Meta's text messages page,
#     https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages; the stored
#     copy did not surface it, so also 360dialog's Cloud API docs: "A text message can be a maximum of 4096
#     characters long").
MAX_TEXT_BODY = 4096

# --- reply buttons: https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-reply-buttons-messages
#     "Interactive reply buttons messages allow you to send up to three predefined replies"; body text required,
#     max 1024; header text / footer text max 60; button title "cannot be an empty string and must be unique
#     within the message ... Maximum length of 20 characters"; id "Maximum length of 256 characters".
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_INTERACTIVE_BODY = 1024
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60

# --- lists: https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-list-messages
#     "Interactive list messages support up to 10 sections, with up to 10 rows for all sections combined";
#     button label max 20; row title max 24, row description max 72, row id max 200; section title max 24 and
#     required when there is more than one section; body text max 4096; header (text only) and footer max 60.
MAX_LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_SECTION_TITLE = 24
MAX_LIST_BODY = 4096

# --- CTA URL: https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-cta-url-messages
#     action {name: "cta_url", parameters: {display_text, url}}; display_text max 20; body max 1024; header text /
#     footer max 60.
MAX_CTA_DISPLAY_TEXT = 20

# --- image messages (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/image-messages/):
#     "id": "Required if using uploaded media, otherwise omit"; "link": "Required if using hosted media, otherwise
#     omit"; caption "Optional. ... Maximum 1024 characters."
MAX_CAPTION = 1024

# --- supported media, https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/
#     ("See Supported Media Types for supported types and size limits"): image/jpeg and image/png 5 MB; audio 16 MB;
#     video 16 MB; documents 100 MB; webp stickers 100 KB static (500 KB animated; the simulator takes the smaller).
MB = 1024 * 1024
MEDIA_LIMITS: dict[str, tuple[str, int]] = {
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    "image/webp": ("sticker", 100 * 1024),
    "audio/aac": ("audio", 16 * MB),
    "audio/amr": ("audio", 16 * MB),
    "audio/mpeg": ("audio", 16 * MB),
    "audio/mp4": ("audio", 16 * MB),
    "audio/ogg": ("audio", 16 * MB),
    "video/mp4": ("video", 16 * MB),
    "video/3gpp": ("video", 16 * MB),
    "text/plain": ("document", 100 * MB),
    "application/pdf": ("document", 100 * MB),
}
# Magic bytes of the image types: WhatsApp "processes the media that is uploaded", so a file that is not what its
# type says is refused rather than stored.
_IMAGE_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}

# --- template components and their parameters:
#     https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/overview ; body text
#     of a template max 1024 characters, header text max 60.
MAX_TEMPLATE_BODY = 1024
MAX_TEMPLATE_BUTTONS = 10  # template buttons: "up to 10 buttons using index values of 0 to 9"
MAX_BUTTON_PAYLOAD = 128   # a bound of the simulator's own (Meta names none we could find); ours are short

_PLACEHOLDER_RE = re.compile(r"\{\{(\d+)\}\}")
_DIGITS_RE = re.compile(r"\d{6,15}")


# --------------------------------------------------------------------------------------------------- errors


@dataclass
class GraphApiError(Exception):
    """A refusal in the Graph API's shape. ``http_status`` is the status Meta's error-code table gives."""

    code: int
    title: str
    details: str | None = None
    http_status: int = 400
    error_type: str = "OAuthException"
    subcode: int | None = None
    message: str | None = None
    fbtrace_id: str = field(default_factory=lambda: "A" + secrets.token_urlsafe(15))

    def __post_init__(self) -> None:
        super().__init__(self.text)

    @property
    def text(self) -> str:
        return self.message if self.message is not None else f"(#{self.code}) {self.title}"

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.text, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = self.fbtrace_id
        return {"error": error}

    def webhook_error(self) -> dict[str, Any]:
        """The same error as it appears in a ``statuses[].errors[]`` entry of a webhook."""
        body: dict[str, Any] = {"code": self.code, "title": self.title, "message": self.title}
        if self.details is not None:
            body["error_data"] = {"details": self.details}
        body["href"] = ERROR_HREF
        return body


# One constructor per code the simulator answers, each with the row of Meta's error-code table
# (ERROR_CODES_PAGE: code, title, HTTP status) it follows.


def invalid_token() -> GraphApiError:
    # 190 "Access token has expired" / invalid, HTTP 401 (error-code table, Authorization errors). Graph API's own
    # text for a token it cannot parse.
    return GraphApiError(190, "Invalid OAuth access token", http_status=401,
                         message="Invalid OAuth access token - Cannot parse access token")


def invalid_parameter(details: str) -> GraphApiError:
    # 100 "Invalid parameter", HTTP 400: "The request included one or more unsupported or misspelled parameters."
    return GraphApiError(100, "Invalid parameter", details, message=f"(#100) {details}")


def unknown_object(object_id: str, method: str = "post") -> GraphApiError:
    # Graph API's answer for an id that is not there (or not ours): code 100, subcode 33, HTTP 400.
    return GraphApiError(
        100, "Invalid parameter", http_status=400, subcode=33,
        message=(f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
                 "to missing permissions, or does not support this operation. Please read the Graph API "
                 "documentation at https://developers.facebook.com/docs/graph-api"),
    )


def missing_parameter(details: str) -> GraphApiError:
    # 131008 "Required parameter is missing", HTTP 400.
    return GraphApiError(131008, "Required parameter is missing", details)


def parameter_not_valid(details: str) -> GraphApiError:
    # 131009 "Parameter value is not valid", HTTP 400. Also what mark-as-read answers for an invalid message id
    # (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read:
    # "If you mark a message as read with an invalid message ID, the API returns error code 131009").
    return GraphApiError(131009, "Parameter value is not valid", details)


def rate_limit_hit() -> GraphApiError:
    # 130429 "Rate limit hit", HTTP 429: "Cloud API message throughput has been reached." Throughput page
    # (https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput): "If you attempt to
    # send more messages than your current throughput level allows, the API will return error code 130429".
    return GraphApiError(130429, "Rate limit hit", "Cloud API message throughput has been reached.", http_status=429)


def pair_rate_limit_hit() -> GraphApiError:
    # 131056 "(Business Account, Consumer Account) pair rate limit hit", HTTP 400 in the table: "Too many messages
    # sent from the sender phone number to the same recipient phone number in a short period of time."
    return GraphApiError(
        131056, "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the same "
        "phone number in a short period of time.",
    )


def undeliverable() -> GraphApiError:
    # 131026 "Message Undeliverable", HTTP 400 (usually in a `failed` status webhook): "Unable to deliver message.
    # Reasons can include: The recipient phone number is not a WhatsApp phone number ... Recipient using an old
    # WhatsApp version" (and, in practice, a recipient who blocked the business).
    return GraphApiError(131026, "Message Undeliverable", "Message Undeliverable.")


def re_engagement() -> GraphApiError:
    # 131047 "Re-engagement message", HTTP 400: "More than 24 hours have passed since the recipient last replied
    # to the sender number." Service messages page: "When the window closes, you can only send pre-approved
    # template messages."
    return GraphApiError(
        131047, "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this "
        "number.",
    )


def media_upload_error(details: str) -> GraphApiError:
    # 131053 "Media upload error", HTTP 400: "Unable to upload the media used in the message."
    return GraphApiError(131053, "Media upload error", details)


def template_param_count_mismatch(details: str) -> GraphApiError:
    # 132000 "Template Param Count Mismatch", HTTP 400: "The number of variable parameter values included in the
    # request did not match the number of variable parameters defined in the template."
    return GraphApiError(132000, "Number of parameters does not match the expected number of params", details)


def template_does_not_exist(name: str, language: str) -> GraphApiError:
    # 132001 "Template does not exist", HTTP 404: "The template does not exist in the specified language or the
    # template has not been approved."
    return GraphApiError(132001, "Template name does not exist in the translation",
                         f"template name ({name}) does not exist in {language}", http_status=404)


def template_text_too_long(details: str) -> GraphApiError:
    # 132005 "Template Hydrated Text Too Long", HTTP 400: "Translated text is too long."
    return GraphApiError(132005, "Translated text too long", details)


def template_paused(name: str) -> GraphApiError:
    # 132015 "Template is Paused", HTTP 400: "Template is paused due to low quality so it cannot be sent".
    return GraphApiError(132015, "Template is Paused", f"template {name} is paused")


def template_disabled(name: str) -> GraphApiError:
    # 132016 "Template is Disabled", HTTP 400: "Template has been paused too many times due to low quality and is
    # now permanently disabled."
    return GraphApiError(132016, "Template is Disabled", f"template {name} is disabled")


def by_code(code: int) -> GraphApiError:
    """An error for ``inject_error``: one of the codes above, else a generic one with that code."""
    table = {
        190: invalid_token, 130429: rate_limit_hit, 131056: pair_rate_limit_hit, 131026: undeliverable,
        131047: re_engagement,
    }
    if code in table:
        return table[code]()
    if code == 131000:  # 131000 "Something went wrong", HTTP 500.
        return GraphApiError(131000, "Something went wrong", "Message failed to send due to an unknown error.",
                             http_status=500)
    if code == 131016:  # 131016 "Service unavailable", HTTP 503.
        return GraphApiError(131016, "Service unavailable", "A service is temporarily unavailable.", http_status=503)
    return GraphApiError(code, "Injected error")


# Codes Meta reports after accepting the request, in a `failed` status webhook, rather than in the response.
ASYNC_CODES = frozenset({131026, 131047})


# --------------------------------------------------------------------------------------------------- helpers


def wa_id_of(to: Any) -> str:
    """The WhatsApp id for a ``to`` value: its digits. Meta accepts "+62 812-..." forms and answers the digits."""
    if not isinstance(to, str) or not to.strip():
        raise missing_parameter("The parameter to is required.")
    digits = re.sub(r"[\s+\-().]", "", to)
    if not _DIGITS_RE.fullmatch(digits):
        raise invalid_parameter(f"Param to must be a valid phone number, got {to!r}")
    return digits


def _text(value: Any, path: str, *, limit: int, required: bool = True, code: str = "131009") -> str | None:
    if value is None:
        if required:
            raise missing_parameter(f"Param {path} is required")
        return None
    if not isinstance(value, str):
        raise invalid_parameter(f"Param {path} must be a string")
    if required and not value.strip():
        raise parameter_not_valid(f"Param {path} must not be empty")
    if len(value) > limit:
        if code == "100":
            raise invalid_parameter(f"Param {path} must be at most {limit} characters long.")
        raise parameter_not_valid(f"Param {path} length invalid. Max length: {limit}, got {len(value)}")
    return value


def _http_url(value: Any, path: str) -> str:
    url = _text(value, path, limit=2000)
    assert url is not None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise parameter_not_valid(f"Param {path} must be an http(s) URL")
    return url


def check_text(message: dict[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if not isinstance(text, dict):
        raise missing_parameter("Param text is required for type text")
    body = _text(text.get("body"), "text['body']", limit=MAX_TEXT_BODY, code="100")
    preview = text.get("preview_url", False)
    if not isinstance(preview, bool):
        raise invalid_parameter("Param text['preview_url'] must be a boolean")
    return {"body": body, "preview_url": preview}


def _header_footer(interactive: dict[str, Any], *, allow_media: bool) -> tuple[dict[str, Any] | None, str | None]:
    header = interactive.get("header")
    if header is not None:
        if not isinstance(header, dict) or not isinstance(header.get("type"), str):
            raise invalid_parameter("Param interactive['header'] must be an object with a type")
        kind = header["type"]
        if kind == "text":
            _text(header.get("text"), "interactive['header']['text']", limit=MAX_HEADER_TEXT)
        elif not allow_media or kind not in ("image", "video", "document"):
            raise parameter_not_valid(f"Header type {kind!r} is not supported for this interactive message")
        elif not isinstance(header.get(kind), dict):
            raise missing_parameter(f"Param interactive['header']['{kind}'] is required")
    footer = interactive.get("footer")
    footer_text = None
    if footer is not None:
        if not isinstance(footer, dict):
            raise invalid_parameter("Param interactive['footer'] must be an object")
        footer_text = _text(footer.get("text"), "interactive['footer']['text']", limit=MAX_FOOTER_TEXT)
    return header, footer_text


def _body(interactive: dict[str, Any], limit: int) -> str:
    body = interactive.get("body")
    if not isinstance(body, dict):
        raise missing_parameter("Param interactive['body'] is required")
    text = _text(body.get("text"), "interactive['body']['text']", limit=limit)
    assert text is not None
    return text


def check_interactive(message: dict[str, Any]) -> dict[str, Any]:
    """Validate ``interactive`` (button / list / cta_url); returns it unchanged when valid."""
    interactive = message.get("interactive")
    if not isinstance(interactive, dict):
        raise missing_parameter("Param interactive is required for type interactive")
    kind = interactive.get("type")
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise missing_parameter("Param interactive['action'] is required")
    if kind == "button":
        _body(interactive, MAX_INTERACTIVE_BODY)
        _header_footer(interactive, allow_media=True)
        _check_buttons(action.get("buttons"))
    elif kind == "list":
        _body(interactive, MAX_LIST_BODY)
        header, _ = _header_footer(interactive, allow_media=False)
        _text(action.get("button"), "interactive['action']['button']", limit=MAX_LIST_BUTTON)
        _check_sections(action.get("sections"))
    elif kind == "cta_url":
        _body(interactive, MAX_INTERACTIVE_BODY)
        _header_footer(interactive, allow_media=True)
        if action.get("name") != "cta_url":
            raise parameter_not_valid("Param interactive['action']['name'] must be cta_url")
        params = action.get("parameters")
        if not isinstance(params, dict):
            raise missing_parameter("Param interactive['action']['parameters'] is required")
        _text(params.get("display_text"), "interactive['action']['parameters']['display_text']",
              limit=MAX_CTA_DISPLAY_TEXT)
        _http_url(params.get("url"), "interactive['action']['parameters']['url']")
    else:
        raise invalid_parameter(f"Param interactive['type'] must be one of button, list, cta_url, got {kind!r}")
    return interactive


def _check_buttons(buttons: Any) -> None:
    if not isinstance(buttons, list) or not buttons:
        raise missing_parameter("Param interactive['action']['buttons'] is required")
    if len(buttons) > MAX_BUTTONS:
        raise parameter_not_valid(f"Param interactive['action']['buttons'] has {len(buttons)} buttons, "
                                  f"max {MAX_BUTTONS}")
    ids: set[str] = set()
    titles: set[str] = set()
    for i, button in enumerate(buttons):
        path = f"interactive['action']['buttons'][{i}]"
        if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(button.get("reply"), dict):
            raise parameter_not_valid(f"Param {path} must be {{type: reply, reply: {{id, title}}}}")
        reply = button["reply"]
        title = _text(reply.get("title"), f"{path}['reply']['title']", limit=MAX_BUTTON_TITLE)
        button_id = _text(reply.get("id"), f"{path}['reply']['id']", limit=MAX_BUTTON_ID)
        assert title is not None and button_id is not None
        if button_id != button_id.strip():
            raise parameter_not_valid(f"Param {path}['reply']['id'] must not have leading or trailing spaces")
        if button_id in ids:
            raise parameter_not_valid("Duplicate button id: " + button_id)
        if title in titles:
            raise parameter_not_valid("Duplicate button title: " + title)
        ids.add(button_id)
        titles.add(title)


def _check_sections(sections: Any) -> None:
    if not isinstance(sections, list) or not sections:
        raise missing_parameter("Param interactive['action']['sections'] is required")
    # Implied by the rows rule (a section needs a row, ≤ 10 rows in all); kept to name the right limit.
    if len(sections) > MAX_SECTIONS:
        raise parameter_not_valid(f"Too many sections: {len(sections)}, max {MAX_SECTIONS}")
    ids: set[str] = set()
    total = 0
    for s, section in enumerate(sections):
        path = f"interactive['action']['sections'][{s}]"
        if not isinstance(section, dict):
            raise invalid_parameter(f"Param {path} must be an object")
        _text(section.get("title"), f"{path}['title']", limit=MAX_SECTION_TITLE, required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise missing_parameter(f"Param {path}['rows'] is required")
        total += len(rows)
        if total > MAX_ROWS:
            raise parameter_not_valid(f"Total row count exceed max allowed count: {MAX_ROWS}")
        for r, row in enumerate(rows):
            row_path = f"{path}['rows'][{r}]"
            if not isinstance(row, dict):
                raise invalid_parameter(f"Param {row_path} must be an object")
            row_id = _text(row.get("id"), f"{row_path}['id']", limit=MAX_ROW_ID)
            _text(row.get("title"), f"{row_path}['title']", limit=MAX_ROW_TITLE)
            _text(row.get("description"), f"{row_path}['description']", limit=MAX_ROW_DESCRIPTION, required=False)
            assert row_id is not None
            if row_id in ids:
                raise parameter_not_valid("Duplicate row id: " + row_id)
            ids.add(row_id)


def check_image(message: dict[str, Any]) -> dict[str, Any]:
    image = message.get("image")
    if not isinstance(image, dict):
        raise missing_parameter("Param image is required for type image")
    has_id, has_link = "id" in image, "link" in image
    if has_id == has_link:
        raise parameter_not_valid("Param image must have exactly one of id or link")
    if has_id and (not isinstance(image["id"], str) or not image["id"]):
        raise invalid_parameter("Param image['id'] must be a media id string")
    if has_link:
        _http_url(image["link"], "image['link']")
    _text(image.get("caption"), "image['caption']", limit=MAX_CAPTION, required=False, code="100")
    return image


def check_upload(mime_type: str | None, data: bytes) -> str:
    """An uploaded file's media kind, or the refusal Meta gives for its type or size."""
    if mime_type not in MEDIA_LIMITS:
        raise invalid_parameter(
            f"Param file must be a file with one of the following types: {', '.join(MEDIA_LIMITS)}. "
            f"Received file of type '{mime_type}'."
        )
    kind, limit = MEDIA_LIMITS[mime_type]
    if not data:
        raise media_upload_error("The uploaded file is empty.")
    if len(data) > limit:
        raise media_upload_error(f"Media file size {len(data)} exceeds the {limit} bytes allowed for {mime_type}.")
    magic = _IMAGE_MAGIC.get(mime_type)
    if magic is not None and not data.startswith(magic):
        raise media_upload_error(f"The uploaded file is not a valid {mime_type} file.")
    return kind


def placeholders(text: str) -> int:
    """How many ``{{n}}`` parameters a template text has (the highest n)."""
    return max((int(n) for n in _PLACEHOLDER_RE.findall(text)), default=0)


def fill(text: str, values: list[str]) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: values[int(m.group(1)) - 1], text)


def template_parameters(components: Any, kind: str) -> list[str]:
    """The text values of one component (``header`` / ``body``) of a template send request."""
    if components is None:
        return []
    if not isinstance(components, list):
        raise invalid_parameter("Param template['components'] must be an array")
    values: list[str] = []
    for c, component in enumerate(components):
        if not isinstance(component, dict) or not isinstance(component.get("type"), str):
            raise invalid_parameter(f"Param template['components'][{c}] must be an object with a type")
        if component["type"].lower() != kind:
            continue
        params = component.get("parameters", [])
        if not isinstance(params, list):
            raise invalid_parameter(f"Param template['components'][{c}]['parameters'] must be an array")
        for p, param in enumerate(params):
            path = f"template['components'][{c}]['parameters'][{p}]"
            if not isinstance(param, dict) or param.get("type") != "text":
                raise parameter_not_valid(f"Param {path} must be a text parameter")
            value = param.get("text")
            if not isinstance(value, str) or not value.strip():
                raise template_param_count_mismatch(f"Param {path}['text'] is empty")
            values.append(value)
    return values


def template_button_payloads(components: Any, buttons: int) -> dict[int, str]:
    """The quick-reply payloads a template send gives, by button index; refuses a shape Meta refuses.

    Cloud API messages reference, template object
    (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages): a component of ``type``
    "button" needs ``sub_type`` (here "quick_reply") and ``index``, "the position index of the button. You can
    have up to 10 buttons using index values of 0 to 9", and ``parameters``; for a quick-reply button one
    parameter ``{"type": "payload", "payload": ...}`` (Meta's WhatsApp Node.js SDK, button parameter object:
    "developer-defined payload that is returned when the button is clicked in addition to the display text on
    the button"). An index the template has no button at is a parameter mismatch (132000); a button given twice,
    a missing or empty payload, another parameter type: invalid (131009). A button given no payload comes back
    with its label as the payload."""
    if not isinstance(components, list):
        return {}
    payloads: dict[int, str] = {}
    for c, component in enumerate(components):
        if not isinstance(component, dict) or str(component.get("type", "")).lower() != "button":
            continue
        path = f"template['components'][{c}]"
        if component.get("sub_type") != "quick_reply":
            raise parameter_not_valid(f"Param {path}['sub_type'] must be quick_reply for this template's buttons")
        raw = component.get("index")
        index = int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else (
            int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) == 1 else None)
        if index is None or not 0 <= index < MAX_TEMPLATE_BUTTONS:
            raise parameter_not_valid(f"Param {path}['index'] must be 0 to 9")
        if index >= buttons:
            raise template_param_count_mismatch(f"button at index {index}: the template has {buttons} button(s)")
        if index in payloads:
            raise parameter_not_valid(f"Param {path}: button {index} given twice")
        params = component.get("parameters")
        if not isinstance(params, list) or len(params) != 1 or not isinstance(params[0], dict):
            raise parameter_not_valid(f"Param {path}['parameters'] must be one payload parameter")
        param = params[0]
        payload = param.get("payload")
        if param.get("type") != "payload" or not isinstance(payload, str) or not payload.strip():
            raise parameter_not_valid(f"Param {path}['parameters'][0] must be {{type: payload, payload: text}}")
        if len(payload) > MAX_BUTTON_PAYLOAD:
            raise parameter_not_valid(f"Param {path}['parameters'][0]['payload'] is over {MAX_BUTTON_PAYLOAD}")
        payloads[index] = payload
    return payloads
