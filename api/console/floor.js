// The evening's floor: every table of the active layout coloured by its status at the
// chosen date and time, kept live by the status stream; the day's bookings beside it
// with the evening's workflow, a walk-in seated in one step, the waitlist, and a booking
// form for phone calls. Tables picked on the floor (Shift+click for several) are the
// tables of the next booking; the venue's table combinations are offered as choices.

import { ApiError, all, api, scoped, sentence, showProblem, venueNow, withOverride } from "./api.js";
import { drawCanvas, gridPlacements, htmlEl, labels, placeGroup, shapeOf, svgEl } from "./svg.js";
import { clearFieldErrors, refused } from "./forms.js";
import { STEP_LABEL, announce, stepsFor, takeStep } from "./booking.js";
import { keepLegible } from "./legible.js";
import { createWaitlist } from "./waitlist.js";

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
// The API's table fields are the forms' table choice.
const TABLE_FIELDS = { table_id: "tables", table_ids: "tables" };

const pad = (n) => String(n).padStart(2, "0");
const hhmm = (minutes) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
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
  keepLegible(svg);
  const problem = $("floor-problem");
  const status = $("floor-status");
  const bookingProblem = $("booking-problem");
  const bookingForm = $("booking-form");
  const walkinForm = $("walkin-form");
  const walkinProblem = $("walkin-problem");

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
    combinations: [], // the venue's table combinations, if the venue has any
    picked: [], // tables picked on the floor for the next booking, in the order picked
  };
  const groups = new Map();

  const say = (text) => {
    status.textContent = text;
  };

  /** The venue's today and the next quarter hour on its clock (not the browser's). */
  function defaultWhen() {
    const now = venueNow();
    const minutes = Math.ceil(now.minutes / 15) * 15;
    return { date: now.date, time: minutes >= 24 * 60 ? "23:45" : hhmm(minutes) };
  }

  /** A time later tonight for a phone booking: the next quarter hour after the venue's
   * now (staff are not bound by the guests' lead time), at the latest 23:59. */
  function laterTonight() {
    const now = venueNow();
    const minutes = (Math.floor(now.minutes / 15) + 1) * 15;
    return { date: now.date, time: minutes >= 24 * 60 ? "23:59" : hhmm(minutes) };
  }

  // --- reading ---------------------------------------------------------------------

  /** The venue's table combinations; none where the venue (or server) has none. */
  async function loadCombinations() {
    try {
      const items = await all("/api/v1/admin/table-combinations");
      return items.filter((c) => Array.isArray(c.table_ids) && c.table_ids.length > 1);
    } catch (error) {
      if (error instanceof ApiError && [404, 405].includes(error.status)) return [];
      throw error;
    }
  }

  async function loadVenue() {
    const [layouts, tables, combinations] = await Promise.all([
      all("/api/v1/admin/layouts"),
      all("/api/v1/admin/tables"),
      loadCombinations(),
    ]);
    state.combinations = combinations;
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
      const group = svgEl("g", { class: "table", tabindex: 0, role: "button", "data-table-id": p.table_id });
      groups.set(p.table_id, group);
      tablesLayer.append(group);
      draw(p.table_id);
    }
    state.picked = state.picked.filter((id) => groups.has(id) || state.tables.has(id));
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
    const picked = state.picked.includes(tableId);
    group.setAttribute("class", `table st-${current}${picked ? " picked" : ""}`);
    group.setAttribute("aria-pressed", String(picked));
    const who = booking ? `, ${booking.guest_name} at ${booking.time} (Enter opens the booking)` : "";
    const mark = picked ? ", picked" : "";
    group.setAttribute("aria-label", `Table ${table.name}, ${table.capacity} seats, ${current}${who}${mark}`);
    // The shapes and words are drawn again only when their look changes: a live event
    // that leaves a table as it was leaves its elements alone, so none is swapped under
    // a pointer pressing it.
    const looks = JSON.stringify([p.shape, p.width, p.height, p.rotation || 0, table.name, current]);
    if (group.dataset.looks === looks) return;
    const parts = [shapeOf(p, { class: "table-shape" })];
    if (current !== "available") parts.push(shapeOf(p, { class: "table-pattern", fill: `url(#pat-${current})` }));
    parts.push(labels(p, [table.name, STATUS_TEXT[current]]));
    group.replaceChildren(...parts);
    group.dataset.looks = looks;
  }

  const tablesText = (b) => b.table_ids.map((id) => state.tables.get(id)?.name ?? id).join(", ");

  // Everything a booking's row shows and its buttons and click use: a row whose look
  // this leaves unchanged is kept as it is, buttons and all, so a refresh never swaps a
  // button under a host's tap; any change makes a new row, so no button acts on a stale
  // booking.
  const looks = (b) =>
    JSON.stringify([
      b.id,
      b.status,
      b.date,
      b.time,
      b.end_time,
      b.guest_name,
      b.party_size,
      b.source,
      b.guest_phone,
      b.special_requests,
      tablesText(b),
    ]);

  function bookingRow(b) {
    const tables = tablesText(b);
    const actions = htmlEl("td", { class: "actions" });
    for (const step of stepsFor(b.status)) {
      const label = STEP_LABEL[step];
      const button = htmlEl("button", {
        type: "button",
        text: label,
        "aria-label": `${label}: ${b.guest_name} at ${b.time}`,
      });
      button.addEventListener("click", () => act(button, step, b));
      actions.append(button);
    }
    // The guest's name opens the booking's detail (so does a click anywhere on its row).
    const guest = htmlEl("td", {}, htmlEl("button", { type: "button", class: "bk-open", text: b.guest_name }));
    guest.append(htmlEl("span", { class: "source", text: ` · ${b.source.replace("_", "-")}` }));
    if (b.guest_phone) guest.append(htmlEl("span", { class: "bk-contact", text: `☎ ${b.guest_phone}` }));
    if (b.special_requests) {
      guest.append(htmlEl("span", { class: "bk-requests", text: `⚑ ${b.special_requests}` }));
    }
    const row = htmlEl(
      "tr",
      { "data-booking-id": b.id, class: `bk-${b.status}` },
      htmlEl("td", { text: `${b.time}–${b.end_time}` }),
      guest,
      htmlEl("td", { text: String(b.party_size) }),
      htmlEl("td", { text: tables || "—" }),
      htmlEl("td", { class: "bk-status", text: b.status.replace("_", "-") }),
      actions,
    );
    row.addEventListener("click", (event) => {
      if (event.target.closest("td.actions")) return;
      openBooking(b.id);
    });
    row.dataset.looks = looks(b);
    return row;
  }

  /** The day's bookings' table, made once and kept while the day has any. */
  function bookingsTable(box) {
    let body = box.querySelector("tbody");
    if (body) return body;
    const head = htmlEl(
      "tr",
      {},
      ...["Time", "Guest", "Party", "Table", "Status", "Actions"].map((h) =>
        htmlEl("th", { scope: "col", text: h }),
      ),
    );
    body = htmlEl("tbody");
    box.replaceChildren(htmlEl("table", { class: "bookings" }, htmlEl("thead", {}, head), body));
    return body;
  }

  function renderBookings() {
    const box = $("floor-bookings");
    if (!state.bookings.length) {
      if (box.querySelector("tbody") || !box.querySelector(".hint")) {
        box.replaceChildren(htmlEl("p", { class: "hint", text: "No bookings on this day yet." }));
      }
      return;
    }
    const body = bookingsTable(box);
    const shown = new Map([...body.children].map((tr) => [tr.dataset.bookingId, tr]));
    const rows = state.bookings.map((b) => {
      const kept = shown.get(String(b.id));
      shown.delete(String(b.id));
      return kept && kept.dataset.looks === looks(b) ? kept : bookingRow(b);
    });
    // Only what changed is taken out, put in or moved; a kept row in its place stays.
    const wanted = new Set(rows);
    for (const tr of [...body.children]) if (!wanted.has(tr)) tr.remove();
    rows.forEach((tr, i) => {
      const there = body.children[i] ?? null;
      if (there !== tr) body.insertBefore(tr, there);
    });
  }

  const tableName = (id) => state.tables.get(id)?.name ?? id;
  const seatsOf = (ids) => ids.reduce((sum, id) => sum + (Number(state.tables.get(id)?.capacity) || 0), 0);

  /** Every table choice (walk-in, waitlist, phone booking): any table, the tables picked
   * on the floor, each table, and each of the venue's combinations. */
  function renderTableChoice() {
    const tables = [...state.tables.values()]
      .filter((t) => !t.retired)
      .sort((a, b) => a.name.localeCompare(b.name));
    for (const choice of document.querySelectorAll("select.table-choice")) {
      const keep = choice.value;
      const options = [htmlEl("option", { value: "", text: "any free table that fits" })];
      if (state.picked.length > 1) {
        const names = state.picked.map(tableName).join(" + ");
        options.push(
          htmlEl("option", { value: "picked", text: `${names} (picked, ${seatsOf(state.picked)} seats)` }),
        );
      }
      options.push(
        htmlEl(
          "optgroup",
          { label: "One table" },
          ...tables.map((t) => htmlEl("option", { value: t.id, text: `${t.name} (${t.capacity} seats)` })),
        ),
      );
      if (state.combinations.length) {
        options.push(
          htmlEl(
            "optgroup",
            { label: "Tables joined" },
            ...state.combinations.map((c) => {
              const names = c.table_ids.map(tableName).join(" + ");
              const seats = c.min_capacity ? `${c.min_capacity}–${c.capacity}` : `${c.capacity}`;
              const label = c.name ? `${c.name}: ${names}` : names;
              return htmlEl("option", { value: `combo:${c.id}`, text: `${label} (${seats} seats)` });
            }),
          ),
        );
      }
      choice.replaceChildren(...options);
      const values = [...choice.options].map((o) => o.value);
      choice.value = values.includes(keep) ? keep : "";
    }
  }

  /** The table ids a table choice stands for; none for "any free table". */
  function tableIdsOf(choice) {
    const value = choice.value;
    if (!value) return [];
    if (value === "picked") return [...state.picked];
    if (value.startsWith("combo:")) {
      return state.combinations.find((c) => `combo:${c.id}` === value)?.table_ids ?? [];
    }
    return [value];
  }

  /** Pick a table on the floor (or with Shift, add it to / take it from the picked ones);
   * every table choice follows. */
  function pick(tableId, adding) {
    if (adding) {
      state.picked = state.picked.includes(tableId)
        ? state.picked.filter((id) => id !== tableId)
        : [...state.picked, tableId];
    } else {
      state.picked = state.picked.length === 1 && state.picked[0] === tableId ? [] : [tableId];
    }
    for (const id of groups.keys()) draw(id);
    renderTableChoice();
    const value = state.picked.length > 1 ? "picked" : state.picked[0] ?? "";
    for (const choice of document.querySelectorAll("select.table-choice")) choice.value = value;
    showPicked();
  }

  function showPicked() {
    const box = $("floor-picked");
    if (!state.picked.length) {
      box.replaceChildren();
      return;
    }
    const clear = htmlEl("button", { type: "button", text: "Clear" });
    clear.addEventListener("click", () => {
      state.picked = [];
      for (const id of groups.keys()) draw(id);
      renderTableChoice();
      showPicked();
    });
    const names = state.picked.map(tableName).join(" + ");
    box.replaceChildren(
      `Picked: ${names} (${seatsOf(state.picked)} seats). Shift+click another table to join it. `,
      clear,
    );
  }

  const openBooking = (id) =>
    document.dispatchEvent(new CustomEvent("tablebook:open-booking", { detail: { id } }));

  /** A table clicked: the booking that holds it at the chosen time opens; a free table
   * is picked for the next booking; with Shift it joins (or leaves) the picked ones. */
  function clicked(tableId, adding) {
    const booking = adding ? null : holding(tableId);
    if (booking) openBooking(booking.id);
    else pick(tableId, adding);
  }

  svg.addEventListener("click", (event) => {
    const group = event.target.closest?.("g.table[data-table-id]");
    if (group) clicked(group.dataset.tableId, event.shiftKey || event.ctrlKey || event.metaKey);
  });
  svg.addEventListener("keydown", (event) => {
    const group = event.target.closest?.("g.table[data-table-id]");
    if (!group || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    clicked(group.dataset.tableId, event.shiftKey);
  });

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

  async function act(button, step, booking) {
    button.disabled = true;
    try {
      // Cancel, no-show and complete ask first; a rule staff may bend (a party seated
      // early) asks why.
      const made = await takeStep(step, booking);
      if (!made) {
        button.disabled = false;
        return;
      }
      state.consistency = made.consistency;
      showProblem(problem, null);
      say(`${made.data.guest_name}: ${made.data.status.replace("_", "-")}.`);
      announce(made.data, made.consistency, "floor");
      await refresh();
    } catch (error) {
      showProblem(problem, error);
      button.disabled = false;
    }
  }

  /** `POST /admin/bookings` for staff, asking for an override reason when needed. */
  async function staffBooking(body) {
    return withOverride((extra) =>
      api("POST", "/api/v1/admin/bookings", { body: { ...body, ...extra }, write: true }),
    );
  }

  function detailsOf(data, body) {
    for (const name of ["guest_phone", "guest_email", "special_requests"]) {
      const value = String(data.get(name) ?? "").trim();
      if (value) body[name] = value;
    }
    return body;
  }

  function described(b) {
    const tables = (b.table_ids?.length ? b.table_ids : [b.table_id]).filter(Boolean).map(tableName);
    return `${b.guest_name}, party of ${b.party_size}, ${b.date} at ${b.time} on ${tables.join(" + ") || "no table"}`;
  }

  async function submitting(form, action) {
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      await action();
    } finally {
      submit.disabled = false;
    }
  }

  async function book(event) {
    event.preventDefault();
    clearFieldErrors(bookingForm);
    showProblem(bookingProblem, null);
    const data = new FormData(bookingForm);
    const body = detailsOf(data, {
      date: data.get("date"),
      time: data.get("time"),
      party_size: Number(data.get("party_size")),
      guest_name: String(data.get("guest_name")).trim(),
      source: data.get("source"),
    });
    const tableIds = tableIdsOf($("bf-table"));
    if (tableIds.length) body.table_ids = tableIds;
    await submitting(bookingForm, async () => {
      try {
        const made = await staffBooking(body);
        state.consistency = made.consistency;
        const b = made.data;
        say(`Booked ${described(b)}.`);
        for (const name of ["guest_name", "guest_phone", "guest_email", "special_requests"]) {
          bookingForm.elements.namedItem(name).value = "";
        }
        if (b.date === state.date) await refresh();
      } catch (error) {
        refused(bookingForm, bookingProblem, error, "Not booked:", TABLE_FIELDS);
      }
    });
  }

  /** A walk-in: booked from the venue's current minute and seated in one command. */
  async function walkIn(event) {
    event.preventDefault();
    clearFieldErrors(walkinForm);
    showProblem(walkinProblem, null);
    const data = new FormData(walkinForm);
    const body = detailsOf(data, {
      party_size: Number(data.get("party_size")),
      guest_name: String(data.get("guest_name") ?? "").trim() || "Walk-in",
      source: "walk_in",
      seat_now: true,
    });
    const tableIds = tableIdsOf($("wf-table"));
    if (tableIds.length) body.table_ids = tableIds;
    await submitting(walkinForm, async () => {
      try {
        const made = await staffBooking(body);
        state.consistency = made.consistency;
        const b = made.data;
        walkinForm.elements.namedItem("guest_name").value = "";
        walkinForm.elements.namedItem("guest_phone").value = "";
        await seated(b);
      } catch (error) {
        refused(walkinForm, walkinProblem, error, "Not seated:", TABLE_FIELDS);
      }
    });
  }

  /** A party just seated: the floor shows the venue's now, the picked tables are let go. */
  async function seated(b) {
    state.picked = [];
    showPicked();
    await showAt(b.date, b.time);
    say(`Seated ${described(b)}.`);
  }

  bookingForm.addEventListener("submit", book);
  walkinForm.addEventListener("submit", walkIn);
  $("bf-tonight").addEventListener("click", () => {
    const tonight = laterTonight();
    bookingForm.elements.namedItem("source").value = "phone";
    bookingForm.elements.namedItem("date").value = tonight.date;
    bookingForm.elements.namedItem("time").value = tonight.time;
    bookingForm.elements.namedItem("guest_name").focus();
  });

  const waitlist = createWaitlist({
    tableIds: () => tableIdsOf($("wl-table")),
    consistency: () => state.consistency,
    wrote: (token) => {
      state.consistency = token;
    },
    seated,
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
    // The phone form follows the floor, except that past the venue's now it offers the
    // next quarter hour tonight.
    const now = venueNow();
    const past = date < now.date || (date === now.date && minutesOf(time) <= now.minutes);
    const when = past && date === now.date ? laterTonight() : { date, time };
    bookingForm.elements.namedItem("date").value = when.date;
    bookingForm.elements.namedItem("time").value = when.time;
    if (changedDate || !state.source) connect();
    await loadDay();
    render();
  }

  // A booking changed elsewhere (its detail, the timeline): read the day again.
  const onChanged = (event) => {
    if (event.detail?.from === "floor") return; // the floor's own write: read already
    state.consistency = event.detail?.consistency ?? state.consistency;
    if (state.date) quietly(refresh);
  };

  return {
    async show() {
      document.addEventListener("tablebook:booking-changed", onChanged);
      await quietly(async () => {
        await loadVenue();
        // What the inputs hold wins: someone may have typed while the venue loaded.
        const fallback = defaultWhen();
        await showAt($("floor-date").value || fallback.date, $("floor-time").value || fallback.time);
      });
      waitlist.show();
    },
    hide() {
      document.removeEventListener("tablebook:booking-changed", onChanged);
      waitlist.hide();
      state.source?.close();
      state.source = null;
      for (const timer of state.refresh) clearTimeout(timer);
      const live = $("floor-live");
      live.dataset.state = "off";
      live.textContent = "○ not live";
    },
  };
}
