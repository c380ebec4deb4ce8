// The evening's floor: every table of the active layout coloured by its status at the
// chosen date and time, kept live by the status stream; the day's bookings beside it
// with the evening's workflow, and a booking form for phone calls and walk-ins.

import { ApiError, all, api, scoped, showProblem } from "./api.js";
import { drawCanvas, gridPlacements, htmlEl, labels, placeGroup, shapeOf, svgEl } from "./svg.js";

const $ = (id) => document.getElementById(id);

const STATUS_TEXT = {
  available: "○ free",
  booked: "◐ booked",
  seated: "● seated",
  blocked: "⊘ blocked",
};
// How long a status pushed by the stream wins over a read model that may lag behind it.
const LIVE_WINS_MS = 1200;
const ACTIVE = new Set(["confirmed", "seated"]);

const pad = (n) => String(n).padStart(2, "0");
const localDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const minutesOf = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function patterns() {
  const hatch = (id, ...children) =>
    svgEl("pattern", { id, width: 12, height: 12, patternUnits: "userSpaceOnUse" }, ...children);
  return [
    hatch("pat-booked", svgEl("path", { d: "M-3,3 l6,-6 M0,12 l12,-12 M9,15 l6,-6", class: "pat-line" })),
    hatch("pat-seated", svgEl("circle", { cx: 6, cy: 6, r: 2.5, class: "pat-dot" })),
    hatch("pat-blocked", svgEl("path", { d: "M0,0 l12,12 M12,0 l-12,12", class: "pat-line" })),
  ];
}

export function createFloor() {
  const svg = $("floor-svg");
  const problem = $("floor-problem");
  const status = $("floor-status");
  const bookingProblem = $("booking-problem");
  const bookingForm = $("booking-form");

  const state = {
    date: null,
    time: null,
    layout: null,
    tables: new Map(),
    statuses: new Map(),
    bookable: true,
    unbookable: null, // why no booking can start at the chosen time, if the API said so
    bookings: [],
    live: new Map(), // table id -> {status, at}: what the stream said last
    source: null,
    refresh: [],
    consistency: null,
  };
  const groups = new Map();

  const say = (text) => {
    status.textContent = text;
  };

  function defaultWhen() {
    const now = new Date();
    const minutes = Math.ceil((now.getHours() * 60 + now.getMinutes()) / 15) * 15;
    const time = minutes >= 24 * 60 ? "23:45" : `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
    return { date: localDate(now), time };
  }

  // --- reading ---------------------------------------------------------------------

  async function loadVenue() {
    const [layouts, tables] = await Promise.all([
      all("/api/v1/admin/layouts"),
      all("/api/v1/admin/tables"),
    ]);
    state.tables = new Map(tables.map((t) => [t.id, t]));
    const active = layouts.find((l) => l.active);
    state.layout = active
      ? { ...active, tables: active.tables.filter((t) => state.tables.has(t.table_id)) }
      : { name: "all tables", tables: gridPlacements(tables), areas: [], canvas: null };
    if (!active) say("No active layout: the tables are shown on a grid.");
  }

  /** The tables' statuses at a start; no tables, and why, for a time no booking can
   * start at (off the slot grid, skipped by the clocks): the floor is still drawn from
   * the bookings. */
  async function tablesAt(options) {
    const query = `date=${state.date}&time=${state.time}`;
    try {
      const at = await api("GET", `/api/v1/bookings/tables?${query}`, options);
      return { tables: at.data.tables, unbookable: null };
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 422) throw error;
      return { tables: null, unbookable: `No booking can start then: ${error.detail}.` };
    }
  }

  async function loadDay() {
    const options = { consistency: state.consistency };
    const [{ tables, unbookable }, bookings] = await Promise.all([
      tablesAt(options),
      all(`/api/v1/admin/bookings?date=${state.date}`, options),
    ]);
    state.unbookable = unbookable;
    state.statuses = new Map((tables ?? []).map((t) => [t.table_id, t.status]));
    state.bookable = tables !== null && tables.every((t) => t.status !== "closed");
    state.bookings = bookings.sort((a, b) => a.time.localeCompare(b.time));
    for (const t of tables ?? []) {
      if (!state.tables.has(t.table_id)) state.tables.set(t.table_id, { id: t.table_id, ...t });
    }
  }

  /** The booking that holds a table at the chosen time, if any. */
  function holding(tableId) {
    const at = minutesOf(state.time);
    return state.bookings.find((b) => {
      if (!ACTIVE.has(b.status) || !b.table_ids.includes(tableId)) return false;
      const start = minutesOf(b.time);
      let end = minutesOf(b.end_time);
      if (end <= start) end += 24 * 60;
      return start <= at && at < end;
    });
  }

  function statusOf(tableId) {
    const live = state.live.get(tableId);
    if (live && Date.now() - live.at < LIVE_WINS_MS) return live.status;
    const known = state.statuses.get(tableId);
    if (known === "blocked") return "blocked";
    const booking = holding(tableId);
    if (booking?.status === "seated") return "seated";
    if (known === "booked" || booking) return "booked";
    return "available";
  }

  // --- drawing ---------------------------------------------------------------------

  function render() {
    groups.clear();
    const layer = drawCanvas(svg, state.layout, patterns());
    const tablesLayer = svgEl("g", { class: "tables" });
    layer.after(tablesLayer);
    for (const p of state.layout.tables) {
      const group = svgEl("g", { class: "table", tabindex: 0, "data-table-id": p.table_id });
      groups.set(p.table_id, group);
      tablesLayer.append(group);
      draw(p.table_id);
    }
    renderBookings();
    renderTableChoice();
    const closed = state.bookable
      ? ""
      : ` ${state.unbookable ?? "Not bookable online at this time (closed, past, or too soon)."}`;
    say(`${state.layout.name} on ${state.date} at ${state.time}.${closed}`);
  }

  function draw(tableId) {
    const group = groups.get(tableId);
    const p = state.layout.tables.find((t) => t.table_id === tableId);
    if (!group || !p) return;
    const table = state.tables.get(tableId) ?? { name: tableId, capacity: "?" };
    const current = statusOf(tableId);
    const booking = holding(tableId);
    placeGroup(group, p);
    group.dataset.status = current;
    group.setAttribute("class", `table st-${current}`);
    const who = booking ? `, ${booking.guest_name} at ${booking.time}` : "";
    group.setAttribute("aria-label", `Table ${table.name}, ${table.capacity} seats, ${current}${who}`);
    const parts = [shapeOf(p, { class: "table-shape" })];
    if (current !== "available") parts.push(shapeOf(p, { class: "table-pattern", fill: `url(#pat-${current})` }));
    parts.push(labels(p, [table.name, STATUS_TEXT[current]]));
    group.replaceChildren(...parts);
  }

  function renderBookings() {
    const box = $("floor-bookings");
    if (!state.bookings.length) {
      box.replaceChildren(htmlEl("p", { class: "hint", text: "No bookings on this day yet." }));
      return;
    }
    const rows = state.bookings.map((b) => {
      const tables = b.table_ids.map((id) => state.tables.get(id)?.name ?? id).join(", ");
      const actions = htmlEl("td", { class: "actions" });
      const step = (label, method, path) => {
        const button = htmlEl("button", {
          type: "button",
          text: label,
          "aria-label": `${label}: ${b.guest_name} at ${b.time}`,
        });
        button.addEventListener("click", () => act(button, method, path));
        actions.append(button);
      };
      if (b.status === "confirmed") {
        step("Seat", "POST", `/api/v1/admin/bookings/${b.id}/seat`);
        step("No-show", "POST", `/api/v1/admin/bookings/${b.id}/no-show`);
        step("Cancel", "DELETE", `/api/v1/bookings/${b.id}`);
      } else if (b.status === "seated") {
        step("Complete", "POST", `/api/v1/admin/bookings/${b.id}/complete`);
      }
      return htmlEl(
        "tr",
        { "data-booking-id": b.id, class: `bk-${b.status}` },
        htmlEl("td", { text: `${b.time}–${b.end_time}` }),
        htmlEl("td", {}, b.guest_name, htmlEl("span", { class: "source", text: ` · ${b.source.replace("_", "-")}` })),
        htmlEl("td", { text: String(b.party_size) }),
        htmlEl("td", { text: tables || "—" }),
        htmlEl("td", { class: "bk-status", text: b.status.replace("_", "-") }),
        actions,
      );
    });
    const head = htmlEl(
      "tr",
      {},
      ...["Time", "Guest", "Party", "Table", "Status", "Actions"].map((h) =>
        htmlEl("th", { scope: "col", text: h }),
      ),
    );
    box.replaceChildren(
      htmlEl("table", { class: "bookings" }, htmlEl("thead", {}, head), htmlEl("tbody", {}, ...rows)),
    );
  }

  function renderTableChoice() {
    const choice = $("bf-table");
    const keep = choice.value;
    const tables = [...state.tables.values()]
      .filter((t) => !t.retired)
      .sort((a, b) => a.name.localeCompare(b.name));
    choice.replaceChildren(
      htmlEl("option", { value: "", text: "any free table that fits" }),
      ...tables.map((t) => htmlEl("option", { value: t.id, text: `${t.name} (${t.capacity} seats)` })),
    );
    choice.value = tables.some((t) => t.id === keep) ? keep : "";
  }

  // --- live ------------------------------------------------------------------------

  function connect() {
    state.source?.close();
    const live = $("floor-live");
    live.dataset.state = "connecting";
    live.textContent = "◌ connecting…";
    const source = new EventSource(scoped(`/api/v1/tables/status/stream?date=${state.date}`));
    state.source = source;
    source.onopen = () => {
      live.dataset.state = "live";
      live.textContent = "● live";
      // The stream starts where it stands now: read the models again for anything that
      // changed between the last read and this (re)connection.
      quietly(refresh);
    };
    source.onerror = () => {
      live.dataset.state = "reconnecting";
      live.textContent = "◌ reconnecting…";
    };
    source.onmessage = (message) => {
      let change;
      try {
        change = JSON.parse(message.data);
      } catch {
        return;
      }
      if (change.date !== state.date) return;
      // A change stamped with the shown start time (or none: seating, unblocking) is
      // what the floor shows now; any other is settled by reading the models again.
      if (change.time === state.time || change.time === "") {
        state.live.set(change.table_id, { status: change.status, at: Date.now() });
        draw(change.table_id);
      }
      scheduleRefresh();
    };
  }

  function scheduleRefresh() {
    for (const timer of state.refresh) clearTimeout(timer);
    state.refresh = [250, LIVE_WINS_MS + 300].map((ms) => setTimeout(() => quietly(refresh), ms));
  }

  async function refresh() {
    await loadDay();
    for (const id of groups.keys()) draw(id);
    renderBookings();
  }

  async function quietly(action) {
    try {
      await action();
      showProblem(problem, null);
    } catch (error) {
      showProblem(problem, error);
    }
  }

  // --- writes ----------------------------------------------------------------------

  async function act(button, method, path) {
    button.disabled = true;
    try {
      let made;
      try {
        made = await api(method, path, { write: true });
      } catch (error) {
        // Outside the rules staff may bend (a party seated early): ask the host why.
        const reason = error instanceof ApiError && error.overrideRequired
          ? window.prompt(`${error.detail}.\nReason to go ahead anyway:`)
          : null;
        if (!reason || !reason.trim()) throw error;
        made = await api(method, path, { write: true, body: { override: { reason } } });
      }
      state.consistency = made.consistency;
      showProblem(problem, null);
      say(`${made.data.guest_name}: ${made.data.status.replace("_", "-")}.`);
      await refresh();
    } catch (error) {
      showProblem(problem, error);
      button.disabled = false;
    }
  }

  function clearFieldErrors() {
    for (const node of bookingForm.querySelectorAll(".field-error")) node.remove();
    for (const node of bookingForm.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("aria-describedby");
    }
  }

  function showFieldErrors(error) {
    if (!(error instanceof ApiError)) return;
    for (const { field, message } of error.errors) {
      const name = field.split(".").pop();
      const input = bookingForm.elements.namedItem(name);
      if (!input || !input.id) continue;
      const id = `${input.id}-error`;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
      input.after(htmlEl("p", { class: "field-error", id, text: message }));
    }
  }

  async function book(event) {
    event.preventDefault();
    clearFieldErrors();
    showProblem(bookingProblem, null);
    const data = new FormData(bookingForm);
    const body = {
      date: data.get("date"),
      time: data.get("time"),
      party_size: Number(data.get("party_size")),
      guest_name: String(data.get("guest_name")).trim(),
      source: data.get("source"),
    };
    for (const name of ["guest_phone", "guest_email", "special_requests", "table_id"]) {
      const value = String(data.get(name) ?? "").trim();
      if (value) body[name] = value;
    }
    const submit = bookingForm.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const made = await api("POST", "/api/v1/bookings/", { body, write: true });
      state.consistency = made.consistency;
      const b = made.data;
      const table = state.tables.get(b.table_id)?.name ?? b.table_id;
      say(`Booked ${b.guest_name}, party of ${b.party_size}, ${b.date} at ${b.time} on ${table}.`);
      for (const name of ["guest_name", "guest_phone", "guest_email", "special_requests"]) {
        bookingForm.elements.namedItem(name).value = "";
      }
      if (b.date === state.date) await refresh();
    } catch (error) {
      showProblem(bookingProblem, error, error instanceof ApiError ? `${error.title}:` : "");
      showFieldErrors(error);
    } finally {
      submit.disabled = false;
    }
  }

  bookingForm.addEventListener("submit", book);
  $("bf-walk-in").addEventListener("click", () => {
    const now = new Date();
    bookingForm.elements.namedItem("source").value = "walk_in";
    bookingForm.elements.namedItem("date").value = localDate(now);
    bookingForm.elements.namedItem("time").value = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
    bookingForm.elements.namedItem("guest_name").focus();
  });

  $("floor-when").addEventListener("submit", (event) => {
    event.preventDefault();
    quietly(() => showAt($("floor-date").value, $("floor-time").value));
  });

  async function showAt(date, time) {
    const changedDate = date !== state.date;
    state.date = date;
    state.time = time;
    state.live.clear();
    $("floor-date").value = date;
    $("floor-time").value = time;
    bookingForm.elements.namedItem("date").value = date;
    bookingForm.elements.namedItem("time").value = time;
    if (changedDate || !state.source) connect();
    await loadDay();
    render();
  }

  return {
    async show() {
      await quietly(async () => {
        await loadVenue();
        // What the inputs hold wins: someone may have typed while the venue loaded.
        const fallback = defaultWhen();
        await showAt($("floor-date").value || fallback.date, $("floor-time").value || fallback.time);
      });
    },
    hide() {
      state.source?.close();
      state.source = null;
      for (const timer of state.refresh) clearTimeout(timer);
      const live = $("floor-live");
      live.dataset.state = "off";
      live.textContent = "○ not live";
    },
  };
}
