// Karcis sandbox: WhatsApp-like chats beside the Telegram ones, over the WhatsApp simulator's /sandbox endpoints
// (bot/sandbox/whatsapp/users.py). Uses chat.js's helpers (el, people, current, show-style bookkeeping).
// Safety rule: nothing from the bot is put into the page as HTML. WhatsApp's formatting (*bold*, _italic_,
// ~strike~, ```mono```) and links are built as DOM nodes from the plain text; every other text is textContent.
"use strict";

const WA_POLL_SECONDS = 25;

function waKey(number) { return `wa:${number}`; }

async function waApi(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(config.whatsapp.api + path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function waInit() {
  for (const person of config.whatsapp.people) {
    addPerson({ ...person, id: waKey(person.number) }, "id", "whatsapp");
    const state = people.get(waKey(person.number));
    state.seq = 0;
    waPoll(state);
  }
  $("#wa-sheet-close").addEventListener("click", () => $("#wa-sheet").close());
  waCheckDoor();
}

// Is the bot's WhatsApp webhook registered with the simulator? If not, nothing will answer: say so.
let waDoor = "checking";
async function waCheckDoor() {
  for (let attempt = 0; attempt < 20 && waDoor !== "open"; attempt += 1) {
    try {
      waDoor = (await waApi("GET", "/webhook")).url ? "open" : "closed";
    } catch (error) {
      waDoor = "closed";
    }
    if (people.get(current)?.channel === "whatsapp") waStatus();
    if (waDoor !== "open") await sleep(1500);
  }
}

function waStatus() {
  const status = $("#status");
  status.textContent = waDoor === "closed"
    ? "WhatsApp Business · the bot's WhatsApp door is not running in this sandbox"
    : "WhatsApp Business · sandbox";
  status.classList.toggle("offline", waDoor === "closed");
}

// One long poll per WhatsApp person (the simulator's chat API is per number).
async function waPoll(state) {
  let backlog = true;
  const path = `/users/${encodeURIComponent(state.person.number)}/messages`;
  for (;;) {
    try {
      const data = await waApi("GET", `${path}?after=${state.seq}&wait=${backlog ? 0 : WA_POLL_SECONDS}`);
      for (const message of data.messages) waShow(state, message, !backlog);
      backlog = false;
    } catch (error) {
      await sleep(2000);
    }
  }
}

function waShow(state, message, fresh) {
  if (message.seq > state.seq) state.seq = message.seq;
  if (state.nodes.has(message.id)) {
    state.nodes.get(message.id).replaceWith(state.nodes.set(message.id, waBubble(state, message)).get(message.id));
    return;
  }
  const atEnd = nearEnd(state.log);
  const node = waBubble(state, message);
  state.log.querySelector(".hint")?.remove();
  state.log.append(node);
  state.nodes.set(message.id, node);
  if (message.from_bot && fresh && state.person.id !== current) {
    state.unread += 1;
    state.badge.textContent = String(state.unread);
    state.badge.hidden = false;
  }
  if (atEnd || !message.from_bot) {
    scrollToEnd(state.log);
    for (const image of node.querySelectorAll("img")) {
      image.addEventListener("load", () => scrollToEnd(state.log), { once: true });
    }
  }
}

function waBubble(state, message) {
  const row = el("div", `message wa-message ${message.from_bot ? "in" : "out"}`);
  row.dataset.messageId = message.id;
  row.dataset.type = message.interactive_type || message.type;
  const box = el("div", "bubble wa-bubble");
  const content = message.content || {};
  if (message.type === "image" && content.id) {
    const image = el("img", "photo");
    image.src = `${config.whatsapp.api}/media/${encodeURIComponent(content.id)}`;
    image.alt = message.text ? `Photo: ${message.text.slice(0, 80)}` : "Photo";
    image.addEventListener("click", () => enlarge(image.src));
    box.classList.add("with-photo");
    box.append(image);
  }
  if (message.type === "interactive" && content.header && content.header.type === "text") {
    box.append(waText("wa-header", content.header.text));
  }
  if (message.type === "button_reply" || message.type === "list_reply") {
    box.append(el("div", "wa-quote", "↩ reply"));
  }
  if (message.text) box.append(waText("text", message.text));
  if (message.type === "interactive" && content.footer && content.footer.text) {
    box.append(el("div", "wa-footer", content.footer.text));
  }
  const when = new Date(message.timestamp).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const ticks = message.from_bot ? "" : (message.status === "read" ? " ✓✓" : " ✓");
  box.append(el("span", "meta", when + ticks));
  row.append(box);
  const actions = waActions(state, message);
  if (actions) row.append(actions);
  return row;
}

// Reply buttons (up to 3, one per line under the message), the list's button (opens a sheet), a cta_url link.
function waActions(state, message) {
  const kind = message.interactive_type;
  if (!kind) return null;
  const box = el("div", "wa-actions");
  if (kind === "button") {
    for (const button of message.buttons) {
      const control = el("button", "wa-action", `↩ ${button.title}`);
      control.type = "button";
      control.addEventListener("click", () => waReply(state, message, { button_id: button.id }, control));
      box.append(control);
    }
  } else if (kind === "list") {
    const label = (message.content.action && message.content.action.button) || "Menu";
    const control = el("button", "wa-action wa-list-button", `☰ ${label}`);
    control.type = "button";
    control.addEventListener("click", () => waOpenSheet(state, message));
    box.append(control);
  } else if (kind === "cta_url" && message.cta) {
    const url = message.cta.url || "";
    if (!/^https?:\/\//i.test(url)) return null;
    const link = el("a", "wa-action wa-cta", `↗ ${message.cta.display_text || url}`);
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    box.append(link);
  } else {
    return null;
  }
  return box;
}

function waOpenSheet(state, message) {
  const sheet = $("#wa-sheet");
  $("#wa-sheet-title").textContent = (message.content.action && message.content.action.button) || "Menu";
  const body = $("#wa-sheet-body");
  body.replaceChildren();
  for (const section of message.content.action.sections || []) {
    if (section.title) body.append(el("div", "wa-section", section.title));
    for (const row of section.rows || []) {
      const item = el("button", "wa-row");
      item.type = "button";
      item.dataset.rowId = row.id;
      const words = el("span", "wa-row-words");
      words.append(el("span", "wa-row-title", row.title));
      if (row.description) words.append(el("span", "wa-row-description", row.description));
      item.append(words, el("span", "wa-radio"));
      item.addEventListener("click", async () => {
        sheet.close();
        await waReply(state, message, { row_id: row.id }, item);
      });
      body.append(item);
    }
  }
  sheet.showModal();
}

async function waReply(state, message, choice, control) {
  if (control.classList.contains("busy")) return;
  control.classList.add("busy");
  try {
    const sent = await waApi("POST", `/users/${encodeURIComponent(state.person.number)}/replies`,
      { message_id: message.id, ...choice });
    waShow(state, sent, false);
  } catch (error) {
    toast(error.message, true);
  } finally {
    control.classList.remove("busy");
  }
}

async function waSendText(state, text) {
  try {
    waShow(state, await waApi("POST", `/users/${encodeURIComponent(state.person.number)}/messages`, { text }), false);
  } catch (error) {
    toast(error.message, true);
  }
}

async function waSendPhoto(state, file) {
  const caption = $("#text").value.trim();
  $("#text").value = "";
  try {
    const data = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(new Error("could not read the photo"));
      reader.readAsDataURL(file);
    });
    const body = { data_base64: data, mime_type: file.type || "image/jpeg" };
    if (caption) body.caption = caption;
    waShow(state, await waApi("POST", `/users/${encodeURIComponent(state.person.number)}/images`, body), false);
  } catch (error) {
    toast(error.message, true);
  }
}

// ------------------------------------------------------------------------------------------- formatting

// WhatsApp's markup: *bold*, _italic_, ~strike~, ```monospace```, `inline code` (a marker pair inside one line),
// and http(s) links.
const WA_MARKUP =
  /```([^`]+)```|`([^`\n]+)`|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]])/g;

function waText(className, text) {
  const node = el("div", className);
  waFormat(node, String(text));
  return node;
}

function waFormat(parent, text) {
  let last = 0;
  for (const match of text.matchAll(WA_MARKUP)) {
    if (match.index > last) parent.append(document.createTextNode(text.slice(last, match.index)));
    const [, block, inline, bold, italic, strike, url] = match;
    const mono = block || inline;
    if (url) {
      const link = el("a", "", url);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener";
      parent.append(link);
    } else {
      const tag = mono ? "code" : bold ? "strong" : italic ? "em" : "s";
      const inner = document.createElement(tag);
      if (mono) inner.textContent = mono;
      else waFormat(inner, bold || italic || strike);
      parent.append(inner);
    }
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}
