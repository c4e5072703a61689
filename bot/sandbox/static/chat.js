// Karcis sandbox: a Telegram-like chat over the fake Bot API's /sandbox endpoints (see webchat.py).
// Safety rule: the only HTML put into the page is the `html` the server renders for a message (escaped text and
// Telegram's formatting tags). Every other text (button labels, names, commands, errors) goes in as textContent.
"use strict";

const POLL_SECONDS = 25;
const $ = (selector) => document.querySelector(selector);
const people = new Map(); // id → {person, log, tab, badge, nodes: Map(message_id → node), unread, ...}
let config;
let current;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(config.api + path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------------------------------- people

function addPerson(person, languageCode, channel = "telegram") {
  const tab = el("button", `person ${channel}`);
  tab.type = "button";
  tab.setAttribute("role", "tab");
  tab.dataset.person = person.id;
  tab.title = person.label;
  tab.append(el("span", "person-name", person.first_name), el("span", "person-role", person.role));
  const badge = el("span", "badge");
  badge.hidden = true;
  tab.append(badge);
  tab.addEventListener("click", () => select(person.id));
  $("#people").append(tab);

  const log = el("div", "log");
  log.setAttribute("role", "log");
  log.dataset.person = person.id;
  log.hidden = true;
  log.append(el("div", "hint", channel === "whatsapp"
    ? `You are ${person.first_name} on WhatsApp (${person.number}). Say hello to begin.`
    : `You are ${person.first_name}. Send /start to begin.`));
  $("#logs").append(log);

  people.set(person.id, {
    person, tab, badge, log, nodes: new Map(), unread: 0, language: languageCode, keyboard: null, channel,
  });
}

function select(id) {
  current = id;
  for (const [pid, state] of people) {
    const on = pid === id;
    state.log.hidden = !on;
    state.tab.classList.toggle("active", on);
    state.tab.setAttribute("aria-selected", String(on));
  }
  const state = people.get(id);
  state.unread = 0;
  state.badge.hidden = true;
  const whatsapp = state.channel === "whatsapp";
  document.body.classList.toggle("wa", whatsapp);
  $("#bot-name").textContent = config.bot.name;
  $("#status").classList.remove("offline");
  if (whatsapp) waStatus(); // whatsapp.js
  else $("#status").textContent = "bot";
  $("#lang").hidden = whatsapp; // WhatsApp tells the bot no language: the person switches it in the chat
  $("#menu-button").hidden = whatsapp;
  $("#lang").value = state.language || "en";
  $("#text").placeholder = `Message as ${state.person.first_name}`;
  history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  renderReplyKeyboard(state);
  closeMenu();
  scrollToEnd(state.log);
}

async function setLanguage(code) {
  const state = people.get(current);
  try {
    const user = await api("PATCH", `/users/${current}`, { language_code: code });
    state.language = user.language_code;
    const language = code === "id" ? "Bahasa Indonesia" : "English";
    toast(`${state.person.first_name}'s Telegram is now in ${language}: the bot answers in it from the next message.`);
  } catch (error) {
    toast(error.message, true);
    $("#lang").value = state.language;
  }
}

// ------------------------------------------------------------------------------------------- messages

// One long poll for every person's chat: a browser opens only a few connections per host.
async function poll() {
  let revision = 0;
  let backlog = true; // the first answer is what was said before the page opened: not unread
  for (;;) {
    try {
      const data = await api("GET", `/messages?since=${revision}&wait=${backlog ? 0 : POLL_SECONDS}`);
      if (data.revision < revision) return location.reload(); // the sandbox was restarted: start afresh
      for (const message of data.messages) {
        const state = people.get(message.chat_id);
        if (state) show(state, message, !backlog);
      }
      revision = data.revision;
      backlog = false;
      setOnline(true);
    } catch (error) {
      setOnline(false);
      await sleep(2000);
    }
  }
}

function setOnline(online) {
  if (people.get(current)?.channel === "whatsapp") return; // whatsapp.js says how WhatsApp is
  const status = $("#status");
  status.textContent = online ? "bot" : "not connected — is `python -m bot sandbox` still running?";
  status.classList.toggle("offline", !online);
}

// Add, replace or remove a message's node; `fresh` messages from the bot count as unread for someone else.
function show(state, message, fresh = true) {
  const old = state.nodes.get(message.message_id);
  if (message.deleted) {
    if (old) old.remove();
    state.nodes.delete(message.message_id);
    return;
  }
  const atEnd = nearEnd(state.log);
  const node = bubble(state, message);
  if (old) old.replaceWith(node);
  else {
    state.log.querySelector(".hint")?.remove();
    state.log.append(node);
    if (message.from_bot) {
      takeReplyKeyboard(state, message.reply_markup);
      if (fresh && state.person.id !== current) {
        state.unread += 1;
        state.badge.textContent = String(state.unread);
        state.badge.hidden = false;
      }
    }
  }
  state.nodes.set(message.message_id, node);
  if (atEnd || (!old && !message.from_bot)) {
    scrollToEnd(state.log);
    for (const image of node.querySelectorAll("img")) {
      image.addEventListener("load", () => scrollToEnd(state.log), { once: true });
    }
  }
}

function bubble(state, message) {
  const row = el("div", `message ${message.from_bot ? "in" : "out"}`);
  row.dataset.messageId = message.message_id;
  const box = el("div", "bubble");
  if (message.photo) {
    const image = el("img", "photo");
    image.src = `${config.api}/files/${encodeURIComponent(message.photo.file_id)}`;
    image.alt = message.caption ? `Photo: ${message.caption.slice(0, 80)}` : "Photo";
    if (message.photo.width && message.photo.height) {
      image.width = message.photo.width;
      image.height = message.photo.height;
    }
    image.addEventListener("click", () => enlarge(image.src));
    box.classList.add("with-photo");
    box.append(image);
  }
  if (message.document) box.append(el("div", "document", `📄 ${message.document.file_name || "file"}`));
  if (message.contact) {
    const contact = message.contact;
    const name = [contact.first_name, contact.last_name].filter(Boolean).join(" ");
    box.append(el("div", "contact", `👤 ${name}\n📱 ${contact.phone_number}`));
  }
  if (message.html) {
    const text = el("div", "text");
    text.innerHTML = message.html; // rendered by the server: escaped text + Telegram's formatting tags only
    box.append(text);
  }
  const when = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  box.append(el("span", "meta", message.edited ? `edited ${when}` : when));
  row.append(box);
  const rows = message.reply_markup && message.reply_markup.inline_keyboard;
  if (rows && rows.length) row.append(inlineKeyboard(state, message, rows));
  return row;
}

function inlineKeyboard(state, message, rows) {
  const keyboard = el("div", "inline-keyboard");
  for (const row of rows) {
    const line = el("div", "row");
    for (const button of row) line.append(inlineButton(state, message, button));
    keyboard.append(line);
  }
  return keyboard;
}

function inlineButton(state, message, button) {
  if (button.url && /^https?:\/\//i.test(button.url)) {
    const link = el("a", "button url", button.text);
    link.href = button.url;
    link.target = "_blank";
    link.rel = "noopener";
    return link;
  }
  const control = el("button", "button", button.text);
  control.type = "button";
  if (typeof button.callback_data === "string") {
    control.addEventListener("click", () => press(state, message, button.callback_data, control));
  } else if (button.copy_text) {
    control.addEventListener("click", () => copy(button.copy_text.text));
  } else {
    control.disabled = true;
    control.title = "Not available in the sandbox";
  }
  return control;
}

async function press(state, message, data, control) {
  if (control.classList.contains("busy")) return;
  control.classList.add("busy");
  try {
    const query = await api("POST", `/users/${state.person.id}/callbacks`, {
      message_id: message.message_id, callback_data: data, wait: 10,
    });
    if (query.answer_text) toast(query.answer_text, query.show_alert);
    if (query.url) window.open(query.url, "_blank", "noopener");
  } catch (error) {
    toast(error.message, true);
  } finally {
    control.classList.remove("busy");
  }
}

// A reply keyboard (under the text box) stays until the bot removes it or sends another, as in Telegram; a
// one-time keyboard hides once used and comes back with the ⌨ button. A request_contact button shares this
// person's own phone number as a contact (the fake asks no permission: pressing it is the consent).
function takeReplyKeyboard(state, markup) {
  if (!markup) return;
  if (markup.keyboard) state.keyboard = markup;
  else if (markup.remove_keyboard) state.keyboard = null;
  else return;
  state.keyboardHidden = false;
  if (state.person.id === current) renderReplyKeyboard(state);
}

function renderReplyKeyboard(state) {
  const box = $("#reply-keyboard");
  box.replaceChildren();
  box.hidden = !state.keyboard;
  if (!state.keyboard) return;
  if (state.keyboardHidden) {
    const summon = el("button", "button summon", "⌨ Keyboard");
    summon.type = "button";
    summon.addEventListener("click", () => {
      state.keyboardHidden = false;
      renderReplyKeyboard(state);
    });
    box.append(summon);
    return;
  }
  for (const row of state.keyboard.keyboard) {
    const line = el("div", "row");
    for (const button of row) {
      const label = typeof button === "string" ? button : button.text;
      const sharesContact = typeof button === "object" && button.request_contact === true;
      const control = el("button", sharesContact ? "button contact" : "button", label);
      control.type = "button";
      control.addEventListener("click", () => pressKeyboardButton(state, label));
      line.append(control);
    }
    box.append(line);
  }
}

async function pressKeyboardButton(state, label) {
  try {
    show(state, await api("POST", `/users/${state.person.id}/keyboard`, { text: label }));
  } catch (error) {
    toast(error.message, true);
    return;
  }
  if (state.keyboard && state.keyboard.one_time_keyboard) {
    state.keyboardHidden = true;
    renderReplyKeyboard(state);
  }
}

// ------------------------------------------------------------------------------------------- sending

async function sendText(text) {
  if (!text.trim()) return;
  const state = people.get(current);
  if (state.channel === "whatsapp") return waSendText(state, text); // whatsapp.js
  try {
    show(state, await api("POST", `/users/${current}/messages`, { text }));
  } catch (error) {
    toast(error.message, true);
  }
}

async function sendPhoto(file) {
  const state = people.get(current);
  if (state.channel === "whatsapp") return waSendPhoto(state, file); // whatsapp.js
  const form = new FormData();
  form.append("photo", file, file.name || "photo.jpg");
  const caption = $("#text").value.trim();
  if (caption) form.append("caption", caption);
  $("#text").value = "";
  try {
    show(state, await api("POST", `/users/${current}/photos`, form));
  } catch (error) {
    toast(error.message, true);
  }
}

function submit(event) {
  event.preventDefault();
  const box = $("#text");
  const text = box.value;
  box.value = "";
  grow(box);
  sendText(text);
  box.focus();
}

// ------------------------------------------------------------------------------------------- menu

async function toggleMenu() {
  const menu = $("#menu");
  if (!menu.hidden) return closeMenu();
  menu.replaceChildren(el("div", "menu-empty", "Loading…"));
  menu.hidden = false;
  $("#menu-button").setAttribute("aria-expanded", "true");
  try {
    const { commands } = await api("GET", `/chats/${current}/commands`);
    menu.replaceChildren();
    if (!commands.length) menu.append(el("div", "menu-empty", "No commands yet — send /start."));
    for (const command of commands) {
      const item = el("button", "menu-item");
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.append(el("span", "command", `/${command.command}`), el("span", "description", command.description));
      item.addEventListener("click", () => {
        closeMenu();
        sendText(`/${command.command}`);
      });
      menu.append(item);
    }
  } catch (error) {
    menu.replaceChildren(el("div", "menu-empty", error.message));
  }
}

function closeMenu() {
  $("#menu").hidden = true;
  $("#menu-button").setAttribute("aria-expanded", "false");
}

// ------------------------------------------------------------------------------------------- little things

let toastTimer;
function toast(text, alert = false) {
  const box = $("#toast");
  box.textContent = text;
  box.classList.toggle("alert", alert);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 2500);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Copied");
  } catch {
    toast(text);
  }
}

function enlarge(src) {
  const viewer = $("#viewer");
  viewer.querySelector("img").src = src;
  viewer.showModal();
}

function nearEnd(log) {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

function scrollToEnd(log) {
  requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
}

function grow(box) {
  box.style.height = "auto";
  box.style.height = `${Math.min(box.scrollHeight, 140)}px`;
}

// A link to this bot (t.me/<bot>?start=...) opens the chat with /start <payload>, as in Telegram.
function clickInChat(event) {
  const link = event.target.closest("a[href]");
  if (!link) return;
  const url = new URL(link.href);
  if (url.hostname === "t.me" && url.pathname.slice(1).toLowerCase() === config.bot.username.toLowerCase()) {
    event.preventDefault();
    const start = url.searchParams.get("start");
    sendText(start ? `/start ${start}` : "/start");
  }
}

async function main() {
  config = await (await fetch("config.json")).json();
  document.title = `${config.bot.name} sandbox`;
  $("#bot-name").textContent = config.bot.name;
  const { users } = await api("GET", "/users");
  for (const person of config.people) {
    const user = users.find((u) => u.id === person.id);
    addPerson(person, user ? user.language_code : "en");
  }
  if (config.whatsapp) waInit(); // whatsapp.js: the WhatsApp people, beside the Telegram ones
  const hash = decodeURIComponent(location.hash.slice(1));
  const wanted = people.has(Number(hash)) ? Number(hash) : hash;
  select(people.has(wanted) ? wanted : config.people[0].id);
  // ?start=<payload> works like t.me/<bot>?start=<payload>: the chat opens with /start <payload>.
  const start = new URLSearchParams(location.search).get("start");
  if (start) {
    history.replaceState(null, "", `${location.pathname}#${current}`);
    sendText(`/start ${start}`);
  }

  const box = $("#text");
  $("#composer").addEventListener("submit", submit);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
  });
  box.addEventListener("input", () => grow(box));
  $("#photo").addEventListener("change", (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) sendPhoto(file);
  });
  $("#menu-button").addEventListener("click", toggleMenu);
  $("#lang").addEventListener("change", (event) => setLanguage(event.target.value));
  $("#logs").addEventListener("click", clickInChat);
  $("#viewer").addEventListener("click", () => $("#viewer").close());
  $("#toast").addEventListener("click", () => { $("#toast").hidden = true; });
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#menu, #menu-button")) closeMenu();
  });

  poll();
}

main().catch((error) => toast(`The sandbox did not start: ${error.message}`, true));
