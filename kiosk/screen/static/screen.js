// The kiosk screen: follow the session's view (long poll) and send the member's choices.
// Sub-steps of one choice (which tool, "is it OK?", a note) stay on this page until sent.
"use strict";

let view = { version: -1, state: "starting" };
let step = null; // the choice being filled in: {kind, slot, tool, condition, hours}

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({ error: "The kiosk did not answer." }));
  if (!response.ok) throw new Error(data.error || "Something went wrong.");
  return data;
}

async function act(action, body) {
  try {
    const data = await post(`/api/actions/${action}`, body);
    step = null;
    show(data.screen, true);
  } catch (error) {
    problem(error.message);
  }
}

function problem(text) {
  const box = $("problem");
  box.textContent = text || "";
  box.hidden = !text;
}

function show(next, force = false) {
  if (!force && next.version === view.version) return;
  if (next.version < view.version) return;
  if (next.state !== view.state || next.member?.number !== view.member?.number) step = null;
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
  const screen = $("screen");
  screen.dataset.state = view.state;
  $("title").textContent = view.title || "";
  $("message").textContent = view.message || "";
  problem(kiosk.reader_problem || "");
  const choices = $("choices");
  choices.replaceChildren(...(RENDER[view.state] || (() => []))());
}

const toolLabel = (t) => [t.tool_code, el("small", {}, `Locker ${t.slot}`)];

function section(title, ...rows) {
  return el("section", {}, el("h2", {}, title), el("div", { class: "row" }, ...rows));
}

const RENDER = {
  idle: () => {
    const tools = view.choices.pick || [];
    if (!tools.length) return [];
    return [section("Or choose a tool first",
      ...tools.map((t) => el("button", { class: "secondary", "data-slot": t.slot,
        onclick: () => act("pick", { slot: t.slot }) }, ...toolLabel(t))))];
  },
  armed: () => [el("div", { class: "row" },
    el("button", { class: "secondary", onclick: () => act("cancel") }, "Cancel"))],
  member: () => (step ? renderStep() : renderChoices()),
  open: () => [],
  refused: () => [okButton()],
  done: () => [okButton()],
};

function okButton() {
  return el("div", { class: "row" }, el("button", { onclick: () => act("cancel") }, "OK"));
}

function renderChoices() {
  const c = view.choices || {};
  const parts = [];
  if (c.borrow?.length) {
    parts.push(section("Borrow a tool", ...c.borrow.map((t) => el("button",
      { "data-action": "borrow", "data-slot": t.slot,
        onclick: () => act("borrow", { slot: t.slot }) }, ...toolLabel(t)))));
  }
  if (c.return?.length) {
    parts.push(section("Return a tool", ...c.return.map((t) => el("button",
      { "data-action": "return", "data-slot": t.slot,
        onclick: () => { step = { kind: "return", slot: t.slot, tool: t.tool_code }; render(); } },
      ...toolLabel(t)))));
  }
  if (c.repair?.length) {
    parts.push(section("Log a repair", ...c.repair.map((t) => el("button",
      { class: "secondary", "data-action": "repair", "data-tool": t.tool_code,
        onclick: () => { step = { kind: "repair", tool: t.tool_code }; render(); } },
      t.tool_code))));
  }
  if (c.maintenance) {
    parts.push(section("Steward: open a locker", ...c.maintenance.map((t) => el("button",
      { class: "secondary", "data-action": "maintenance", "data-slot": t.slot,
        onclick: () => act("maintenance", { slot: t.slot }) },
      `Locker ${t.slot}`, el("small", {}, t.tool_code ? `${t.tool_code}${t.out_of_service ? " · out of service" : ""}` : "empty")))));
    parts.push(section("Steward: open a ticket", ...c.maintenance.filter((t) => t.tool_code).map(
      (t) => el("button", { class: "secondary", "data-action": "ticket", "data-tool": t.tool_code,
        onclick: () => { step = { kind: "ticket", tool: t.tool_code }; render(); } }, t.tool_code))));
  }
  parts.push(el("div", { class: "row", style: "margin-top:32px" },
    el("button", { class: "secondary", onclick: () => act("cancel") }, "Done")));
  return parts;
}

function renderStep() {
  return STEPS[step.kind]();
}

function noteField(placeholder) {
  return el("textarea", { id: "note", maxlength: "500", placeholder, "aria-label": "Note" });
}

function back() {
  return el("button", { class: "secondary", onclick: () => { step = null; render(); } }, "Back");
}

const note = () => $("note").value.trim();

const STEPS = {
  return: () => {
    if (step.condition !== "needs_repair") {
      return [el("h2", { class: "question" }, `Is ${step.tool} OK?`),
        el("div", { class: "row" },
          el("button", { "data-answer": "ok",
            onclick: () => act("return", { slot: step.slot, tool_code: step.tool, condition: "ok" }) }, "Yes, it is OK"),
          el("button", { class: "danger", "data-answer": "needs_repair",
            onclick: () => { step.condition = "needs_repair"; render(); } }, "It needs repair"),
          back())];
    }
    return [el("h2", {}, `What is wrong with ${step.tool}?`), noteField("A few words, e.g. the chuck slips"),
      el("div", { class: "row", style: "margin-top:16px" },
        el("button", { "data-send": "return", onclick: () => act("return",
          { slot: step.slot, tool_code: step.tool, condition: "needs_repair", note: note() }) }, "Send and open the locker"),
        back())];
  },
  repair: () => [el("h2", {}, `Repair of ${step.tool}: how many hours?`),
    el("div", { class: "row" }, ...["0.5", "1", "1.5", "2", "3", "4"].map((h) => el("button",
      { class: step.hours === h ? "" : "secondary", "data-hours": h,
        onclick: () => { step.hours = h; render(); } }, `${h} h`))),
    el("h2", {}, "What did you do?"), noteField("e.g. replaced the blade guard"),
    el("div", { class: "row", style: "margin-top:16px" },
      el("button", { "data-send": "repair", onclick: () => act("repair",
        { tool_code: step.tool, hours: step.hours || "", note: note() }) }, "Log the hours"),
      back())],
  ticket: () => [el("h2", {}, `Open a ticket for ${step.tool}`), noteField("What is wrong?"),
    el("div", { class: "row", style: "margin-top:16px" },
      el("button", { "data-send": "ticket", onclick: () => act("ticket",
        { tool_code: step.tool, note: note() }) }, "Open the ticket"),
      back())],
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
  if ($("sim")) {
    followSimulation();
    $("sim-uid").addEventListener("submit", (event) => {
      event.preventDefault();
      simulate("/api/sim/tap", { uid: $("sim-uid-input").value });
    });
  }
});
