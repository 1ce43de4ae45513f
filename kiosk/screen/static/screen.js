// The kiosk screen: follow the session's view (long poll) and send the member's choices.
// Sub-steps of one choice (which tool, "is it OK?", a note) stay on this page until sent.
// The page is a fixed frame (800x480 and up): the step's question as the title, a list that
// scrolls inside, and an action bar with the step's primary action, always in view.
"use strict";

let view = { version: -1, state: "starting" };
let step = null; // the choice being filled in: {kind, slot, tool, name, condition, hours}
let tab = null; // the member's list shown: "return", "borrow", "repair", "steward"
let shownPage = ""; // which page is on screen (state, step, tab): a redraw of it keeps its place
let lastProblem = null; // {text, field, page}: shown again when the same page is redrawn

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Refused extends Error {
  constructor(message, field) {
    super(message);
    this.field = field || null;
  }
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({ error: "The kiosk did not answer." }));
  if (!response.ok) throw new Refused(data.error || "Something went wrong.", data.field);
  return data;
}

async function act(action, body) {
  try {
    const data = await post(`/api/actions/${action}`, body);
    step = null;
    show(data.screen, true);
  } catch (error) {
    problem(error.message, error.field);
  }
}

// Show a problem next to the field that caused it (a `[data-problem-for=field]` of this step),
// else above the action bar; either way in view.
function problem(text, field = null) {
  lastProblem = text ? { text, field, page: shownPage } : null;
  for (const spot of document.querySelectorAll("[data-problem-for]")) {
    spot.hidden = true;
    document.querySelector(`[data-field='${spot.dataset.problemFor}']`)?.removeAttribute("aria-invalid");
  }
  const box = $("problem");
  box.hidden = true;
  if (!text) return;
  const spot = field && document.querySelector(`[data-problem-for='${field}']`);
  const shown = spot || box;
  shown.textContent = text;
  shown.hidden = false;
  if (spot) document.querySelector(`[data-field='${field}']`)?.setAttribute("aria-invalid", "true");
  shown.scrollIntoView({ block: "nearest" });
}

function show(next, force = false) {
  if (!force && next.version === view.version) return;
  if (next.version < view.version) return;
  if (next.state !== view.state || next.member?.number !== view.member?.number) {
    step = null;
    tab = null;
  }
  view = next;
  render();
}

function render() {
  const kiosk = view.kiosk || {};
  $("kiosk-name").textContent = kiosk.name || "Commonshed";
  const link = $("link");
  link.className = `link ${kiosk.online ? "online" : "offline"}`;
  link.textContent = kiosk.online ? "Online" : "Offline — still working";
  if (kiosk.backlog) link.textContent += ` · ${kiosk.backlog} to send`;
  tick(kiosk.timezone);
  const screen = $("screen");
  screen.dataset.state = view.state;
  screen.dataset.step = step ? step.kind : "";
  const page = (view.state === "member" && step) ? STEPS[step.kind]() : (RENDER[view.state] || blank)();
  const key = [view.state, view.member?.number, step?.kind, step?.condition, tab].join("|");
  const same = key === shownPage;
  const typed = same ? $("note")?.value : undefined;
  const scrolled = same ? $("choices").scrollTop : 0;
  const again = same && lastProblem?.page === key ? lastProblem : null;
  shownPage = key;
  $("title").textContent = page.title ?? view.title ?? "";
  $("message").textContent = page.message ?? view.message ?? "";
  const tabs = $("tabs");
  tabs.replaceChildren(...(page.tabs || []));
  tabs.hidden = !page.tabs?.length;
  $("choices").replaceChildren(...(page.body || []));
  if (typed !== undefined && $("note")) $("note").value = typed;
  $("choices").scrollTop = scrolled;
  $("actions").replaceChildren(...(page.actions || []));
  if (again) problem(again.text, again.field);
  else problem(kiosk.reader_problem || "");
}

// The time on the site's clock (the hub's time zone, else the kiosk's own), in the bar.
function tick(zone) {
  const clock = $("clock");
  if (zone !== undefined) clock.dataset.timezone = zone || "";
  const options = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (clock.dataset.timezone) options.timeZone = clock.dataset.timezone;
  try {
    clock.textContent = new Date().toLocaleTimeString("en-GB", options);
  } catch (error) { // a zone this browser does not know: its own clock
    delete options.timeZone;
    clock.textContent = new Date().toLocaleTimeString("en-GB", options);
  }
}

const blank = () => ({});
const nameOf = (t) => t.tool_name || t.tool_code;

// A tool as a button: its name big, its code and locker small.
function toolButton(t, attrs, detail = "") {
  const small = [t.tool_name ? t.tool_code : null, `Locker ${t.slot}`, detail || null];
  return el("button", { ...attrs, class: `tool ${attrs.class || ""}`.trim() },
    el("span", { class: "name" }, nameOf(t)), el("small", {}, small.filter(Boolean).join(" · ")));
}

const tools = (...buttons) => el("div", { class: "tools" }, ...buttons);
const button = (label, attrs = {}) => el("button", attrs, label);
const okButton = () => button("OK", { class: "primary", "data-primary": "", onclick: () => act("cancel") });

const RENDER = {
  idle: () => {
    const available = view.choices.pick || [];
    if (!available.length) return {};
    return { body: [tools(...available.map((t) => toolButton(t,
      { class: "secondary", "data-slot": t.slot, onclick: () => act("pick", { slot: t.slot }) })))] };
  },
  armed: () => ({ actions: [button("Cancel", { class: "secondary", onclick: () => act("cancel") })] }),
  member: () => renderChoices(),
  open: blank,
  refused: () => ({ actions: [okButton()] }),
  done: () => ({ actions: [okButton()] }),
};

// The member's lists, one at a time behind tabs: "Return" first for a member with loans.
const TABS = [
  { key: "return", label: (c) => `Return (${c.return.length})`, shown: (c) => c.return?.length },
  { key: "borrow", label: () => "Borrow", shown: (c) => c.borrow !== undefined && view.member?.status === "active" },
  { key: "repair", label: () => "Log a repair", shown: (c) => c.repair?.length },
  { key: "steward", label: () => "Steward", shown: (c) => c.maintenance !== undefined },
];

function renderChoices() {
  const c = view.choices || {};
  const shown = TABS.filter((t) => t.shown(c));
  if (!shown.some((t) => t.key === tab)) tab = shown[0]?.key || null;
  return {
    tabs: shown.map((t) => el("button", { role: "tab", "data-tab": t.key,
      "aria-selected": String(t.key === tab), onclick: () => { tab = t.key; render(); } }, t.label(c))),
    body: tab ? LISTS[tab](c) : [],
    actions: [button("Done", { class: "secondary", "data-done": "", onclick: () => act("cancel") })],
  };
}

const nothing = (text) => el("p", { class: "empty" }, text);

const LISTS = {
  return: (c) => [tools(...c.return.map((t) => toolButton(t, { "data-action": "return",
    "data-slot": t.slot, onclick: () => begin({ kind: "return", slot: t.slot, tool: t.tool_code, name: nameOf(t) }) },
    t.away ? "from another kiosk" : "")))],
  borrow: (c) => (c.borrow.length ? [tools(...c.borrow.map((t) => toolButton(t,
    { "data-action": "borrow", "data-slot": t.slot, onclick: () => act("borrow", { slot: t.slot }) })))]
    : [nothing("Nothing here can be borrowed right now.")]),
  repair: (c) => [tools(...c.repair.map((t) => toolButton(t,
    { class: t.out_of_service ? "secondary flagged" : "secondary", "data-action": "repair",
      "data-tool": t.tool_code, onclick: () => begin({ kind: "repair", tool: t.tool_code, name: nameOf(t) }) },
    t.out_of_service ? "needs repair" : "")))],
  steward: (c) => [
    el("h2", {}, "Open a locker"),
    tools(...c.maintenance.map((t) => el("button", { class: "secondary tool", "data-action": "maintenance",
      "data-slot": t.slot, onclick: () => act("maintenance", { slot: t.slot }) },
      el("span", { class: "name" }, `Locker ${t.slot}`),
      el("small", {}, t.tool_code ? `${nameOf(t)}${t.out_of_service ? " · out of service" : ""}` : "empty")))),
    el("h2", {}, "Open a ticket"),
    tools(...c.maintenance.filter((t) => t.tool_code).map((t) => toolButton(t,
      { class: "secondary", "data-action": "ticket", "data-tool": t.tool_code,
        onclick: () => begin({ kind: "ticket", tool: t.tool_code, name: nameOf(t) }) }))),
  ],
};

function begin(next) {
  step = next;
  render();
}

function back() {
  return button("Back", { class: "secondary", "data-back": "", onclick: () => { step = null; render(); } });
}

function noteField(placeholder) {
  return el("textarea", { id: "note", "data-field": "note", maxlength: "500", placeholder,
    "aria-label": "Note" });
}

const fieldProblem = (field) => el("p", { class: "field-problem", "data-problem-for": field,
  role: "alert", hidden: "" });
const note = () => $("note").value.trim();
const primary = (label, send, onclick) => button(label, { class: "primary", "data-primary": "",
  "data-send": send, onclick });

// A few words a member can tap rather than type (the kiosk may have no keyboard).
function chips(words) {
  return el("div", { class: "row chips" }, ...words.map((word) => button(word,
    { class: "secondary", "data-chip": word, onclick: () => {
      const box = $("note");
      box.value = box.value.trim() ? `${box.value.trim()}; ${word}` : word;
    } })));
}

const STEPS = {
  return: () => {
    if (step.condition !== "needs_repair") {
      return {
        title: `Is ${step.name} OK?`,
        message: "",
        body: [el("div", { class: "answers" },
          button("Yes, it is OK", { "data-answer": "ok", "data-primary": "", onclick: () => act("return",
            { slot: step.slot, tool_code: step.tool, condition: "ok" }) }),
          button("It needs repair", { class: "danger", "data-answer": "needs_repair",
            onclick: () => { step.condition = "needs_repair"; render(); } }))],
        actions: [back()],
      };
    }
    return {
      title: `What is wrong with ${step.name}?`,
      message: "",
      body: [chips(["Blunt", "Broken part", "Missing part", "Will not start", "Dirty"]),
        noteField("A few words, e.g. the chuck slips"), fieldProblem("note")],
      actions: [back(), primary("Send and open the locker", "return", () => act("return",
        { slot: step.slot, tool_code: step.tool, condition: "needs_repair", note: note() }))],
    };
  },
  repair: () => ({
    title: `Repair of ${step.name}: how many hours?`,
    message: "",
    body: [el("div", { class: "row hours", "data-field": "hours" }, ...["0.5", "1", "1.5", "2", "3", "4"].map(
      (h) => button(`${h} h`, { class: step.hours === h ? "" : "secondary", "data-hours": h,
        "aria-pressed": String(step.hours === h), onclick: () => { step.hours = h; lastProblem = null; render(); } }))),
      fieldProblem("hours"),
      el("label", { class: "field", for: "note" }, "What did you do?"),
      noteField("e.g. replaced the blade guard"), fieldProblem("note")],
    actions: [back(), primary("Log the hours", "repair", () => act("repair",
      { tool_code: step.tool, hours: step.hours || "", note: note() }))],
  }),
  ticket: () => ({
    title: `Open a ticket for ${step.name}`,
    message: "",
    body: [el("label", { class: "field", for: "note" }, "What is wrong?"),
      noteField("e.g. the blade is chipped"), fieldProblem("note")],
    actions: [back(), primary("Open the ticket", "ticket", () => act("ticket",
      { tool_code: step.tool, note: note() }))],
  }),
};

async function follow() {
  for (;;) {
    try {
      const response = await fetch(`/api/screen?after=${view.version}&wait=10`);
      show(await response.json());
    } catch (error) {
      await sleep(500); // the kiosk is restarting: try again
    }
  }
}

// --- simulation panel ------------------------------------------------------------------------

let simShown = "";

async function followSimulation() {
  for (;;) {
    try {
      const response = await fetch("/api/sim");
      const state = await response.json();
      const text = JSON.stringify(state);
      if (text !== simShown) { simShown = text; renderSimulation(state); }
    } catch (error) { /* the kiosk is restarting */ }
    await sleep(500);
  }
}

async function simulate(url, body) {
  try {
    const data = await post(url, body);
    show(data.screen, true);
  } catch (error) {
    problem(error.message);
  }
  simShown = "";
}

function renderSimulation(state) {
  $("sim-cards").replaceChildren(...state.cards.map((card) => el("button",
    { "data-uid": card.uid, onclick: () => simulate("/api/sim/tap", { uid: card.uid }) },
    `${card.name}${card.status === "active" ? "" : " (suspended)"}`,
    el("small", {}, `${card.uid} · ${card.roles.join(", ")}`))));
  $("sim-lockers").replaceChildren(...state.lockers.map((locker) => el("div",
    { class: `sim-locker${locker.unlocked ? " unlocked" : ""}${locker.door_open ? " open" : ""}`,
      "data-slot": locker.slot },
    el("span", {}, `Locker ${locker.slot}: ${locker.door_open ? "door open" : "door shut"}` +
      `${locker.unlocked ? " · unlocked" : ""}`),
    el("button", { "data-door": locker.slot, onclick: () => simulate("/api/sim/door",
      { slot: locker.slot, open: !locker.door_open }) },
      locker.door_open ? "Shut door" : "Open door"))));
}

document.addEventListener("DOMContentLoaded", () => {
  follow();
  setInterval(() => tick(), 10_000);
  if ($("sim")) {
    followSimulation();
    $("sim-uid").addEventListener("submit", (event) => {
      event.preventDefault();
      simulate("/api/sim/tap", { uid: $("sim-uid-input").value });
    });
  }
});
