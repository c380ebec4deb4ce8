// The timeline: the venue's tables (rows, by area) against the day's time (columns), every
// booking a bar. A bar is dragged (mouse, touch or pen) to another table or time, or by
// its right end to another length; each drop is a re-decided `PUT /bookings/{id}` with
// `If-Match`, and a refusal puts the bar back and says why. Keyboard: arrows move a
// focused bar, Shift+←/→ change its length, Enter saves, Escape cancels.
//
// Minutes on the timeline count from the shown day's midnight on the venue's clock: the
// evening before's bookings that run past midnight start below 0, a shift that closes
// after midnight ends past 1440.

import { ApiError, all, api, scoped, sentence, showProblem, venueNow, withOverride } from "../api.js";
import { announce } from "../booking.js";
import { htmlEl } from "../svg.js";

const DAY = 24 * 60;
const PX_PER_MINUTE = 2; // an hour is 120 px: a 15-minute slot is a 30 px target
const DRAG_THRESHOLD = 5; // px a pointer moves before a press is a drag, not a click
const SHOWN = new Set(["confirmed", "seated", "completed", "no_show"]);
const MOVABLE = new Set(["confirmed", "seated"]);
const STATUS_TEXT = {
  confirmed: "◐ booked",
  seated: "● seated",
  completed: "✓ done",
  no_show: "✗ no-show",
};
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

const pad = (n) => String(n).padStart(2, "0");
const minutesOf = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
/** A minute of the timeline as the venue's clock shows it ("00:30" past midnight). */
const clock = (minutes) => {
  const m = ((minutes % DAY) + DAY) % DAY;
  return `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
};

/** `date` moved by `days` ("YYYY-MM-DD" arithmetic in UTC, free of any clock change). */
function addDays(date, days) {
  const at = new Date(`${date}T12:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

const daysBetween = (from, to) => Math.round((Date.parse(`${to}T12:00:00Z`) - Date.parse(`${from}T12:00:00Z`)) / 864e5);

function longDate(date) {
  return new Date(`${date}T12:00:00Z`).toLocaleDateString("en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    timeZone: "UTC",
  });
}

export function createTimeline() {
  const section = document.getElementById("timeline");
  const state = {
    date: null,
    tables: [], // the rows, in order: {id, name, capacity, area}
    areas: [], // [{name, tables: [...]}]
    interval: 15,
    hours: null,
    bookings: [], // the bars' bookings: {..., start, end} in timeline minutes
    blocks: [], // {table_id, start, end, reason} in timeline minutes
    closure: null, // the day's closure, if it is closed
    axis: { start: 17 * 60, end: 23 * 60 },
    consistency: null,
    source: null,
    refreshTimers: [],
    clockTimer: null,
    draft: null, // the change being made to a bar: see `begin`
    newDay: false, // the next drawing scrolls to now or the day's first booking
  };
  let ui = null;

  // --- the screen's frame ----------------------------------------------------------

  function build() {
    const dateInput = htmlEl("input", { id: "tl-date", type: "date", name: "date", required: true });
    const prev = htmlEl("button", { type: "button", id: "tl-prev", "aria-label": "Previous day", text: "‹ Prev" });
    const next = htmlEl("button", { type: "button", id: "tl-next", "aria-label": "Next day", text: "Next ›" });
    const today = htmlEl("button", { type: "button", id: "tl-today", text: "Today" });
    const live = htmlEl("span", { id: "tl-live", class: "live", "data-state": "off", text: "○ not live" });
    const toolbar = htmlEl(
      "div",
      { class: "toolbar tl-toolbar" },
      htmlEl("h2", { id: "timeline-title", text: "Timeline" }),
      prev,
      htmlEl("label", { for: "tl-date", text: "Day" }),
      dateInput,
      next,
      today,
      live,
    );
    const heading = htmlEl("p", { id: "tl-day", class: "tl-day" });
    const status = htmlEl("p", { id: "tl-status", class: "status", role: "status", "aria-live": "polite" });
    const problem = htmlEl("div", { id: "tl-problem", class: "problem", role: "alert", hidden: true });
    const legend = htmlEl(
      "ul",
      { class: "legend tl-legend", "aria-label": "Key" },
      ...Object.entries(STATUS_TEXT).map(([status, text]) =>
        htmlEl("li", {}, htmlEl("span", { class: `tl-swatch bk-${status}`, "aria-hidden": "true" }), text),
      ),
      htmlEl("li", {}, htmlEl("span", { class: "tl-swatch tl-block-swatch", "aria-hidden": "true" }), "⊘ blocked"),
    );
    const hint = htmlEl("p", {
      class: "hint",
      text:
        "Drag a booking to another table or time, or its right end to change its length. " +
        "Keyboard: Tab to a booking, ←/→ move it one slot, ↑/↓ another table, Shift+←/→ its " +
        "length, Enter saves (or opens it), Escape cancels.",
    });
    const scroller = htmlEl("div", { id: "tl-scroll", class: "tl-scroll", tabindex: "0", role: "region", "aria-label": "Tables and times" });
    section.replaceChildren(toolbar, heading, status, problem, scroller, legend, hint);

    dateInput.addEventListener("change", () => {
      if (dateInput.value) go(dateInput.value);
    });
    prev.addEventListener("click", () => go(addDays(state.date, -1)));
    next.addEventListener("click", () => go(addDays(state.date, 1)));
    today.addEventListener("click", () => go(venueNow().date));
    scroller.addEventListener("pointerdown", pressed);
    scroller.addEventListener("click", clicked);
    scroller.addEventListener("keydown", keyed);
    return { dateInput, live, heading, status, problem, scroller, grid: null, nowLine: null };
  }

  const say = (text) => {
    ui.status.textContent = text;
  };

  // --- reading ---------------------------------------------------------------------

  /** The rows: tables of the active layout by its areas (a table's area is the one its
   * centre lies in), else by the table's own area. */
  async function loadVenue() {
    const [tables, layouts, slots, hours] = await Promise.all([
      all("/api/v1/admin/tables"),
      all("/api/v1/admin/layouts"),
      api("GET", "/api/v1/admin/time-slots"),
      api("GET", "/api/v1/admin/operating-hours"),
    ]);
    state.interval = Math.max(5, slots.data.interval_minutes || 15);
    state.hours = hours.data;
    const active = layouts.find((l) => l.active);
    const areaOf = (table) => {
      const placed = active?.tables.find((p) => p.table_id === table.id);
      if (placed) {
        const cx = placed.x + placed.width / 2;
        const cy = placed.y + placed.height / 2;
        const area = (active.areas ?? []).find(
          (a) => cx >= a.x && cx <= a.x + a.width && cy >= a.y && cy <= a.y + a.height,
        );
        if (area) return area.name;
      }
      return table.area || "Tables";
    };
    const live = tables.filter((t) => !t.retired).map((t) => ({ ...t, area: areaOf(t) }));
    const order = active ? (active.areas ?? []).map((a) => a.name) : [];
    const areas = new Map(order.map((name) => [name, []]));
    for (const t of live.sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }))) {
      if (!areas.has(t.area)) areas.set(t.area, []);
      areas.get(t.area).push(t);
    }
    state.areas = [...areas].filter(([, list]) => list.length).map(([name, list]) => ({ name, tables: list }));
    state.tables = state.areas.flatMap((a) => a.tables);
  }

  /** The venue's minute of an instant, counted from the shown day's midnight. */
  function minuteOf(instant) {
    const local = venueNow(new Date(instant));
    return daysBetween(state.date, local.date) * DAY + local.minutes;
  }

  function span(b, offset) {
    const start = minutesOf(b.time) + offset;
    return { ...b, start, end: start + b.duration_minutes };
  }

  async function loadDay() {
    const date = state.date;
    const options = { consistency: state.consistency };
    const [today, evening, blocks, after, closures] = await Promise.all([
      all(`/api/v1/admin/bookings?date=${date}`, options),
      all(`/api/v1/admin/bookings?date=${addDays(date, -1)}`, options),
      all(`/api/v1/admin/blocks?date=${date}`, options),
      // the night after midnight, for a shift that runs into it
      all(`/api/v1/admin/blocks?date=${addDays(date, 1)}`, options),
      all(`/api/v1/admin/closures?from=${date}&to=${date}`, options),
    ]);
    if (date !== state.date) return false; // another day was asked for meanwhile
    state.bookings = [
      ...evening.filter((b) => SHOWN.has(b.status)).map((b) => span(b, -DAY)).filter((b) => b.end > 0),
      ...today.filter((b) => SHOWN.has(b.status)).map((b) => span(b, 0)),
    ];
    const seen = new Set(blocks.map((b) => b.id));
    state.blocks = [...blocks, ...after.filter((b) => !seen.has(b.id))].map((b) => ({
      ...b,
      start: minuteOf(b.start),
      end: minuteOf(b.end),
    }));
    state.closure = closures.find((c) => c.date === date) ?? null;
    state.axis = axisOf();
    return true;
  }

  /** The hours the day's shifts cover (past midnight too, and the evening before's shift
   * that runs into this day), widened to its bookings; the bookings' own span where the
   * venue has no hours that day. Whole hours. */
  function axisOf() {
    const spans = [];
    const shifts = (date, offset) =>
      (state.hours?.[WEEKDAYS[new Date(`${date}T12:00:00Z`).getUTCDay()]] ?? []).map((s) => {
        const open = minutesOf(s.open);
        let close = minutesOf(s.close);
        if (close <= open) close += DAY;
        return { start: open + offset, end: close + offset };
      });
    spans.push(...shifts(state.date, 0));
    spans.push(...shifts(addDays(state.date, -1), -DAY).filter((s) => s.end > 0).map((s) => ({ start: 0, end: s.end })));
    spans.push(...state.bookings.map((b) => ({ start: Math.max(b.start, 0), end: b.end })));
    if (!spans.length) return { start: 12 * 60, end: 23 * 60 };
    const start = Math.min(...spans.map((s) => s.start));
    const end = Math.max(...spans.map((s) => s.end));
    return { start: Math.floor(start / 60) * 60, end: Math.max(Math.ceil(end / 60) * 60, start + 60) };
  }

  // --- drawing ---------------------------------------------------------------------

  const x = (minute) => (minute - state.axis.start) * PX_PER_MINUTE;
  const tableName = (id) => state.tables.find((t) => t.id === id)?.name ?? id;

  function render() {
    const { start, end } = state.axis;
    const width = x(end);
    const ruler = htmlEl("div", { class: "tl-ruler", style: `width:${width}px`, "aria-hidden": "true" });
    for (let m = start; m < end; m += 60) {
      ruler.append(htmlEl("span", { class: "tl-hour", style: `left:${x(m)}px`, text: clock(m) }));
    }
    const body = htmlEl("div", { class: "tl-body", style: `width:${width}px` });
    const rows = [
      htmlEl("div", { class: "tl-corner", "aria-hidden": "true" }, htmlEl("span", { text: "Table" })),
      htmlEl("div", { class: "tl-ruler-cell" }, ruler),
    ];
    for (const area of state.areas) {
      rows.push(htmlEl("div", { class: "tl-area" }, htmlEl("span", { text: area.name })));
      for (const table of area.tables) {
        const track = htmlEl("div", {
          class: "tl-track",
          "data-table-id": table.id,
          style: `width:${width}px;background-size:${state.interval * PX_PER_MINUTE}px 100%, ${60 * PX_PER_MINUTE}px 100%`,
        });
        track.append(...blocksOf(table.id), ...barsOf(table.id));
        rows.push(
          htmlEl(
            "div",
            { class: "tl-label", "data-table-id": table.id },
            htmlEl("strong", { text: table.name }),
            htmlEl("span", { class: "tl-seats", text: ` ${table.capacity} seats` }),
          ),
          track,
        );
      }
    }
    if (!state.tables.length) rows.push(htmlEl("p", { class: "hint tl-empty", text: "This venue has no tables yet." }));
    const grid = htmlEl("div", { class: "tl-grid", style: `--tl-width:${width}px` }, ...rows);
    if (state.closure) {
      grid.append(
        htmlEl(
          "div",
          { class: "tl-closed", style: `width:${width}px` },
          htmlEl("span", { text: `Closed all day${state.closure.reason ? `: ${state.closure.reason}` : ""}` }),
        ),
      );
    }
    ui.nowLine = htmlEl("div", { class: "tl-now", hidden: true }, htmlEl("span", { class: "tl-now-label" }));
    grid.append(ui.nowLine);
    const scrollLeft = ui.scroller.scrollLeft;
    ui.grid = grid;
    ui.scroller.replaceChildren(grid);
    placeNow();
    if (state.newDay) {
      // A day just chosen opens at now (today), else at its first booking.
      state.newDay = false;
      const first = Math.min(...state.bookings.map((b) => Math.max(b.start, start)));
      const minute = ui.nowLine.hidden ? (Number.isFinite(first) ? first : start) : nowMinute();
      ui.scroller.scrollLeft = Math.max(0, x(minute) - 120);
    } else {
      ui.scroller.scrollLeft = scrollLeft;
    }
    const count = state.bookings.filter((b) => b.start >= 0).length;
    const closed = state.closure ? ` Closed: ${state.closure.reason || "no reason given"}.` : "";
    const until = end === DAY ? "midnight" : end > DAY ? `${clock(end)} the next day` : clock(end);
    ui.heading.textContent = `${longDate(state.date)} · ${clock(start)} to ${until} · ${count} booking${count === 1 ? "" : "s"}.${closed}`;
  }

  function blocksOf(tableId) {
    return state.blocks
      .filter((b) => b.table_id === tableId && b.end > state.axis.start && b.start < state.axis.end)
      .map((b) => {
        const from = Math.max(b.start, state.axis.start);
        const to = Math.min(b.end, state.axis.end);
        const text = `⊘ blocked${b.reason ? `: ${b.reason}` : ""}`;
        return htmlEl(
          "div",
          {
            class: "tl-block",
            style: `left:${x(from)}px;width:${(to - from) * PX_PER_MINUTE}px`,
            title: `${text} (${clock(b.start)}–${clock(b.end)})`,
          },
          htmlEl("span", { text }),
        );
      });
  }

  function barsOf(tableId) {
    return state.bookings.filter((b) => b.table_ids.includes(tableId)).map((b) => bar(b, tableId));
  }

  /** Put a bar at its start and length; the part before the axis (the evening before's
   * start) is cut off rather than hidden under the table names. */
  function place(node, start, length) {
    const from = Math.max(start, state.axis.start);
    node.style.left = `${x(from)}px`;
    node.style.width = `${Math.max(start + length - from, state.interval) * PX_PER_MINUTE}px`;
  }

  function bar(b, tableId) {
    const others = b.table_ids.filter((id) => id !== tableId).map(tableName);
    const joined = others.length ? ` · with ${others.join(" + ")}` : "";
    const movable = MOVABLE.has(b.status);
    const label =
      `${b.guest_name}, party of ${b.party_size}, ${clock(b.start)} to ${clock(b.end)}, ` +
      `${STATUS_TEXT[b.status].slice(2)}, table ${tableName(tableId)}${joined}` +
      (b.start < 0 ? ", from the evening before" : "") +
      (movable ? ". Arrows move it, Shift+arrows change its length, Enter opens it." : ". Enter opens it.");
    const node = htmlEl(
      "div",
      {
        class: `tl-bar bk-${b.status}${movable ? " movable" : ""}${others.length ? " joined" : ""}`,
        role: "button",
        tabindex: "0",
        "data-booking-id": b.id,
        "data-table-id": tableId,
        "aria-label": label,
      },
      htmlEl(
        "span",
        { class: "tl-line" },
        htmlEl("span", { class: "tl-name", text: b.guest_name }),
        htmlEl("span", { class: "tl-party", text: ` · ${b.party_size}` }),
      ),
      htmlEl("span", { class: "tl-state", text: `${STATUS_TEXT[b.status]}${joined}` }),
    );
    if (movable) node.append(htmlEl("span", { class: "tl-grip", "aria-hidden": "true" }));
    place(node, b.start, b.end - b.start);
    return node;
  }

  /** The venue's current minute, counted from the shown day's midnight. */
  function nowMinute() {
    const now = venueNow();
    return daysBetween(state.date, now.date) * DAY + now.minutes;
  }

  /** The "now" line, on the venue's clock. */
  function placeNow() {
    const line = ui?.nowLine;
    if (!line || !state.date) return;
    const minute = nowMinute();
    const shown = minute >= state.axis.start && minute <= state.axis.end;
    line.hidden = !shown;
    if (!shown) return;
    line.style.left = `calc(var(--tl-label) + ${x(minute)}px)`;
    line.firstChild.textContent = `now ${clock(minute)}`;
  }

  // --- changing a bar --------------------------------------------------------------

  const bookingOf = (id) => state.bookings.find((b) => b.id === id);
  const trackOf = (tableId) => ui.grid.querySelector(`.tl-track[data-table-id="${CSS.escape(tableId)}"]`);

  /** A change to `node`'s booking begins: where it is now. */
  function begin(node) {
    const b = bookingOf(node.dataset.bookingId);
    if (!b || !MOVABLE.has(b.status)) return null;
    return { node, booking: b, fromTable: node.dataset.tableId, toTable: node.dataset.tableId, start: b.start, length: b.end - b.start };
  }

  /** Draw the bar where the draft puts it (its row may be another table's). */
  function paint(draft) {
    const { node, booking } = draft;
    const from = trackOf(draft.fromTable);
    const to = trackOf(draft.toTable);
    const dy = to && from ? to.offsetTop - from.offsetTop : 0;
    place(node, draft.start, draft.length);
    node.style.transform = dy ? `translateY(${dy}px)` : "";
    const changed = changes(draft);
    node.classList.toggle("draft", Boolean(changed));
    if (changed) {
      say(
        `${booking.guest_name}: ${clock(draft.start)}–${clock(draft.start + draft.length)} on ` +
          `${tableName(draft.toTable)}. Drop or press Enter to save, Escape to cancel.`,
      );
    }
  }

  /** What the draft changes, as the body of a `PUT`; null for nothing. */
  function changes(draft) {
    const b = draft.booking;
    const body = {};
    if (draft.toTable !== draft.fromTable) {
      body.table_ids = b.table_ids.includes(draft.toTable)
        ? b.table_ids
        : b.table_ids.map((id) => (id === draft.fromTable ? draft.toTable : id));
    }
    if (draft.start !== b.start) {
      // A start past midnight (or before it) is another day's booking time.
      const days = Math.floor(draft.start / DAY);
      const date = addDays(state.date, days);
      if (date !== b.date) body.date = date;
      body.time = clock(draft.start);
    }
    if (draft.length !== b.end - b.start) body.duration_minutes = draft.length;
    return Object.keys(body).length ? body : null;
  }

  function cancel(draft, note = "") {
    state.draft = null;
    draft.node.classList.remove("draft", "dragging");
    place(draft.node, draft.booking.start, draft.booking.end - draft.booking.start);
    draft.node.style.transform = "";
    if (note) say(note);
  }

  async function save(draft) {
    const body = changes(draft);
    if (!body) {
      cancel(draft);
      return;
    }
    const b = draft.booking;
    draft.node.classList.add("saving");
    draft.node.setAttribute("aria-busy", "true");
    try {
      const made = await withOverride(
        (extra) =>
          api("PUT", `/api/v1/bookings/${encodeURIComponent(b.id)}`, {
            body: { ...body, ...extra },
            ifMatch: b.version,
            write: true,
          }).catch((error) => {
            throw plain(error); // the reason dialog names tables as the host does
          }),
        "Override and move",
      );
      state.draft = null;
      state.consistency = made.consistency;
      showProblem(ui.problem, null);
      const after = made.data;
      const tables = after.table_ids.map(tableName).join(" + ");
      await reload();
      say(`Saved: ${after.guest_name} at ${after.time}–${after.end_time} on ${tables}.`);
      announce(after, made.consistency, "timeline");
      focusBar(after.id, after.table_ids.includes(draft.toTable) ? draft.toTable : after.table_ids[0]);
    } catch (error) {
      cancel(draft, `Not saved: ${b.guest_name} stays at ${clock(b.start)} on ${tableName(draft.fromTable)}.`);
      draft.node.classList.remove("saving");
      draft.node.removeAttribute("aria-busy");
      showProblem(ui.problem, error, "Not moved:");
      // Someone else changed it first: show the booking as it now stands.
      if (error instanceof ApiError && [409, 412, 428].includes(error.status)) quietly(reload);
      draft.node.focus();
    }
  }

  /** A refusal in a host's words: tables by their names, not their ids ("Table T2 is
   * booked at that time"), and its field errors named ("Time: …") rather than left out. */
  function plain(error) {
    if (!(error instanceof ApiError)) return error;
    const named = (text) =>
      state.tables.reduce((words, t) => words.split(`'${t.id}'`).join(t.name).split(t.id).join(t.name), String(text));
    const detail = error.errors.length
      ? error.errors.map((e) => sentence(`${e.field.split(".").pop().replace(/_/g, " ")}: ${named(e.message)}`)).join(" ")
      : named(error.detail);
    return new ApiError(error.status, { title: error.title, type: error.type, rule: error.rule, detail, errors: error.errors });
  }

  function focusBar(id, tableId) {
    const selector = `.tl-bar[data-booking-id="${CSS.escape(id)}"]`;
    const node =
      ui.grid.querySelector(`.tl-track[data-table-id="${CSS.escape(tableId ?? "")}"] ${selector}`) ??
      ui.grid.querySelector(selector);
    node?.focus();
  }

  // Pointer events: one code path for mouse, touch and pen.
  function pressed(event) {
    const node = event.target.closest?.(".tl-bar.movable");
    if (!node || event.button > 0 || state.draft) return;
    const draft = begin(node);
    if (!draft) return;
    const resizing = event.target.classList.contains("tl-grip");
    const origin = { x: event.clientX, y: event.clientY, start: draft.start, length: draft.length };
    let dragging = false;
    node.setPointerCapture(event.pointerId);

    const move = (e) => {
      const dx = e.clientX - origin.x;
      if (!dragging && Math.hypot(dx, e.clientY - origin.y) < DRAG_THRESHOLD) return;
      if (!dragging) {
        dragging = true;
        state.draft = draft;
        node.classList.add("dragging");
      }
      const slots = Math.round(dx / PX_PER_MINUTE / state.interval) * state.interval;
      if (resizing) {
        draft.length = Math.max(state.interval, origin.length + slots);
      } else {
        draft.start = origin.start + slots;
        const row = [...ui.grid.querySelectorAll(".tl-track")].find((track) => {
          const box = track.getBoundingClientRect();
          return e.clientY >= box.top && e.clientY < box.bottom;
        });
        if (row) draft.toTable = row.dataset.tableId;
      }
      paint(draft);
    };
    const up = (e) => {
      node.removeEventListener("pointermove", move);
      node.removeEventListener("pointerup", up);
      node.removeEventListener("pointercancel", up);
      if (!dragging) return; // a press, not a drag: the click opens the booking
      node.classList.remove("dragging");
      node.dataset.dragged = "1"; // the click that follows the drop opens nothing
      if (e.type === "pointercancel") cancel(draft, "Move cancelled.");
      else save(draft);
    };
    node.addEventListener("pointermove", move);
    node.addEventListener("pointerup", up);
    node.addEventListener("pointercancel", up);
  }

  function clicked(event) {
    const node = event.target.closest?.(".tl-bar");
    if (!node) return;
    if (node.dataset.dragged) {
      delete node.dataset.dragged;
      return;
    }
    open(node.dataset.bookingId);
  }

  function open(id) {
    document.dispatchEvent(new CustomEvent("tablebook:open-booking", { detail: { id } }));
  }

  function keyed(event) {
    const node = event.target.closest?.(".tl-bar");
    if (!node || event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (key === "Escape") {
      if (state.draft?.node === node) {
        event.preventDefault();
        cancel(state.draft, "Change cancelled.");
      }
      return;
    }
    if (key === "Enter" || key === " ") {
      event.preventDefault();
      if (state.draft?.node === node) save(state.draft);
      else open(node.dataset.bookingId);
      return;
    }
    if (!["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(key)) return;
    if (state.draft && state.draft.node !== node) cancel(state.draft);
    const draft = state.draft ?? begin(node);
    if (!draft) return;
    event.preventDefault();
    state.draft = draft;
    const step = key === "ArrowLeft" ? -state.interval : state.interval;
    if (key === "ArrowLeft" || key === "ArrowRight") {
      if (event.shiftKey) draft.length = Math.max(state.interval, draft.length + step);
      else draft.start += step;
    } else {
      const ids = state.tables.map((t) => t.id);
      const at = ids.indexOf(draft.toTable) + (key === "ArrowUp" ? -1 : 1);
      if (at >= 0 && at < ids.length) draft.toTable = ids[at];
    }
    paint(draft);
  }

  // --- live ------------------------------------------------------------------------

  function connect() {
    state.source?.close();
    ui.live.dataset.state = "connecting";
    ui.live.textContent = "◌ connecting…";
    const source = new EventSource(scoped(`/api/v1/tables/status/stream?date=${state.date}`));
    state.source = source;
    source.onopen = () => {
      ui.live.dataset.state = "live";
      ui.live.textContent = "● live";
      scheduleRefresh(); // anything changed between the last read and this connection
    };
    source.onerror = () => {
      ui.live.dataset.state = "reconnecting";
      ui.live.textContent = "◌ reconnecting…";
    };
    source.onmessage = () => scheduleRefresh();
  }

  /** Read the day again soon (once for a burst of changes), and once more a little
   * later: the stream may tell of a change before the bookings' read model has it. A bar
   * being changed waits. */
  function scheduleRefresh() {
    for (const timer of state.refreshTimers) clearTimeout(timer);
    state.refreshTimers = [250, 1500].map((ms) =>
      setTimeout(function again() {
        if (state.draft) state.refreshTimers.push(setTimeout(again, 500));
        else quietly(reload);
      }, ms),
    );
  }

  async function reload() {
    const focused = document.activeElement?.closest?.(".tl-bar");
    const keep = focused ? [focused.dataset.bookingId, focused.dataset.tableId] : null;
    const before = drawn();
    // Redraw only what changed: a host's hover, focus and scroll stay put otherwise.
    if ((await loadDay()) && drawn() !== before) {
      render();
      if (keep) focusBar(...keep);
    }
  }

  /** What the screen draws, to tell whether a reading changed anything. */
  function drawn() {
    const { date, bookings, blocks, closure, axis } = state;
    return JSON.stringify({ date, bookings, blocks, closure, axis });
  }

  async function quietly(action) {
    try {
      await action();
    } catch (error) {
      showProblem(ui.problem, error);
    }
  }

  async function go(date) {
    if (state.draft) cancel(state.draft);
    const changed = date !== state.date;
    state.date = date;
    state.newDay ||= changed;
    ui.dateInput.value = date;
    showProblem(ui.problem, null);
    if (changed || !state.source) connect();
    say(`Loading ${longDate(date)}…`);
    if (await loadDay()) {
      render();
      say("");
    }
  }

  /** A day named by the link (`#timeline?date=YYYY-MM-DD`), if any. */
  function linkedDate() {
    const query = location.hash.split("?")[1] ?? "";
    const date = new URLSearchParams(query).get("date");
    return date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : null;
  }

  const onChanged = (event) => {
    if (event.detail?.from === "timeline") return; // our own write: read already
    state.consistency = event.detail?.consistency ?? state.consistency;
    if (state.date) scheduleRefresh();
  };

  return {
    async show() {
      ui ??= build();
      document.addEventListener("tablebook:booking-changed", onChanged);
      clearInterval(state.clockTimer);
      state.clockTimer = setInterval(() => placeNow(), 15_000);
      await quietly(async () => {
        await loadVenue();
        await go(linkedDate() ?? state.date ?? venueNow().date);
      });
    },
    hide() {
      document.removeEventListener("tablebook:booking-changed", onChanged);
      clearInterval(state.clockTimer);
      for (const timer of state.refreshTimers) clearTimeout(timer);
      if (state.draft) cancel(state.draft);
      state.source?.close();
      state.source = null;
      if (ui) {
        ui.live.dataset.state = "off";
        ui.live.textContent = "○ not live";
      }
    },
  };
}
