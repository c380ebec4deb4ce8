// Blocks and closures, for managers. A block takes one table out of service for a span
// of the venue's clock (a private party, a broken chair); the presets fill the span from
// the venue's now, never the browser's. The blocks that have not ended are listed across
// all tables, each lifted after a confirmation. A closure shuts the whole venue for a day.

import { all, api, showProblem, venue, venueNow } from "../api.js";
import { clearFieldErrors, refused } from "../forms.js";
import { htmlEl } from "../svg.js";
import { confirmAction } from "../confirm.js";
import { field, formCard, invalid, listBeside, screenTop } from "./admin-kit.js";
import { withNames } from "./plain-ids.js";
import { addDays, atVenue, dayLabel, later, momentLabel } from "./when.js";

// The block's start and end are two fields each; the API reports them as one.
const BLOCK_FIELDS = { start: "start_date", end: "end_date" };
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

function blockForm() {
  return formCard(
    "bk",
    "Block a table",
    field("bk-table", "Table", htmlEl("select", { id: "bk-table", name: "table_id", required: true })),
    htmlEl(
      "div",
      { class: "presets", role: "group", "aria-label": "Quick spans, from the venue's now" },
      htmlEl("button", { type: "button", id: "bk-next-2h", text: "Next 2 hours" }),
      htmlEl("button", { type: "button", id: "bk-tonight", text: "Rest of tonight" }),
    ),
    htmlEl(
      "div",
      { class: "pair" },
      field("bk-start-date", "Starts on", htmlEl("input", { id: "bk-start-date", name: "start_date", type: "date", required: true })),
      field("bk-start-time", "at", htmlEl("input", { id: "bk-start-time", name: "start_time", type: "time", step: 60, required: true })),
    ),
    htmlEl(
      "div",
      { class: "pair" },
      field("bk-end-date", "Ends on", htmlEl("input", { id: "bk-end-date", name: "end_date", type: "date", required: true })),
      field("bk-end-time", "at", htmlEl("input", { id: "bk-end-time", name: "end_time", type: "time", step: 60, required: true })),
    ),
    field("bk-reason", "Reason", htmlEl("input", { id: "bk-reason", name: "reason", maxlength: 500, autocomplete: "off", placeholder: "e.g. private party" })),
    htmlEl("p", { class: "hint", id: "bk-zone" }),
    htmlEl("div", { class: "actions" }, htmlEl("button", { type: "submit", class: "primary", text: "Block table" })),
  );
}

function closureForm() {
  return formCard(
    "cl",
    "Close for a whole day",
    field("cl-date", "Date", htmlEl("input", { id: "cl-date", name: "date", type: "date", required: true })),
    field("cl-reason", "Reason", htmlEl("input", { id: "cl-reason", name: "reason", maxlength: 500, autocomplete: "off", placeholder: "e.g. staff party" })),
    htmlEl("p", { class: "hint", text: "No booking can be made for a closed day; bookings already made stay." }),
    htmlEl("div", { class: "actions" }, htmlEl("button", { type: "submit", class: "primary", text: "Close the day" })),
  );
}

export function createClosures() {
  const section = document.getElementById("closures");
  const state = { tables: [], blocks: [], closures: [], hours: null, consistency: null };
  let ui = null;

  function build() {
    const top = screenTop("closures", "Blocks & closures");
    ui = {
      problem: top.problem,
      status: top.status,
      blocks: htmlEl("tbody", { id: "bk-rows" }),
      closures: htmlEl("tbody", { id: "cl-rows" }),
      blockForm: blockForm(),
      closureForm: closureForm(),
    };
    section.replaceChildren(
      top.toolbar,
      ui.problem,
      ui.status,
      listBeside(
        ui.blockForm,
        "bk",
        ["Table", "From", "Until", "Reason", "Actions"],
        ui.blocks,
        htmlEl("h3", { id: "bk-list-title", text: "Tables blocked now or later" }),
      ),
      listBeside(
        ui.closureForm,
        "cl",
        ["Date", "Reason", "Actions"],
        ui.closures,
        htmlEl("h3", { id: "cl-list-title", text: "Closed days to come" }),
      ),
    );
    ui.blockForm.addEventListener("submit", (event) => {
      event.preventDefault();
      placeBlock();
    });
    ui.closureForm.addEventListener("submit", (event) => {
      event.preventDefault();
      closeDay();
    });
    ui.blockForm.querySelector("#bk-next-2h").addEventListener("click", () => preset(120));
    ui.blockForm.querySelector("#bk-tonight").addEventListener("click", () => preset(null));
  }

  const say = (text) => {
    ui.status.textContent = text;
  };
  const tableName = (id) => state.tables.find((t) => t.id === id)?.name ?? id;

  async function load() {
    const options = { consistency: state.consistency };
    try {
      const [tables, closures, hours] = await Promise.all([
        all("/api/v1/admin/tables", options),
        all(`/api/v1/admin/closures?from=${venueNow().date}`, options),
        api("GET", "/api/v1/admin/operating-hours").then(({ data }) => data),
      ]);
      state.tables = tables;
      state.closures = closures;
      state.hours = hours;
      // No venue-wide read of blocks: one read a table, all at once.
      const perTable = await Promise.all(
        tables.map((t) => all(`/api/v1/admin/tables/${encodeURIComponent(t.id)}/blocks`, options)),
      );
      state.blocks = perTable.flat().sort((a, b) => a.start.localeCompare(b.start));
      showProblem(ui.problem, null);
    } catch (error) {
      showProblem(ui.problem, error, "Could not load the blocks and closures:");
      return;
    }
    render();
  }

  function render() {
    const today = venueNow().date;
    const picker = ui.blockForm.elements.namedItem("table_id");
    const chosen = picker.value;
    picker.replaceChildren(
      ...state.tables.map((t) => htmlEl("option", { value: t.id, text: `${t.name} (${t.capacity} seats)` })),
    );
    if (state.tables.some((t) => t.id === chosen)) picker.value = chosen;
    ui.blockForm.querySelector("#bk-zone").textContent =
      `Dates and times are the venue's own (${venue.zone ?? "its time zone"}); it is ${dayLabel(today)} there now.`;

    ui.blocks.replaceChildren(
      ...(state.blocks.length
        ? state.blocks.map((b) => {
            const from = atVenue(b.start);
            const until = atVenue(b.end);
            const lift = htmlEl("button", { type: "button", class: "danger", text: "Lift", "aria-label": `Lift the block of ${tableName(b.table_id)}` });
            lift.addEventListener("click", () => liftBlock(b));
            return htmlEl(
              "tr",
              { "data-block-id": b.id },
              htmlEl("th", { scope: "row", text: `⊘ ${tableName(b.table_id)}` }),
              htmlEl("td", { "data-label": "From", text: momentLabel(from) }),
              htmlEl("td", { "data-label": "Until", text: momentLabel(until, from.date) }),
              htmlEl("td", { "data-label": "Reason", text: b.reason || "—" }),
              htmlEl("td", { class: "actions" }, lift),
            );
          })
        : [htmlEl("tr", {}, htmlEl("td", { colspan: 5, class: "hint", text: "No table is blocked now or later." }))]),
    );

    ui.closures.replaceChildren(
      ...(state.closures.length
        ? state.closures.map((c) => {
            const reopen = htmlEl("button", { type: "button", class: "danger", text: "Reopen", "aria-label": `Reopen ${dayLabel(c.date)}` });
            reopen.addEventListener("click", () => reopenDay(c));
            return htmlEl(
              "tr",
              { "data-closure-date": c.date },
              htmlEl("th", { scope: "row", text: `✕ ${dayLabel(c.date)}` }),
              htmlEl("td", { "data-label": "Reason", text: c.reason || "—" }),
              htmlEl("td", { class: "actions" }, reopen),
            );
          })
        : [htmlEl("tr", {}, htmlEl("td", { colspan: 3, class: "hint", text: "No closed days to come." }))]),
    );
  }

  // --- blocks ---------------------------------------------------------------------------

  /** Where tonight's service ends on the venue's clock: the close of the shift open now
   * (a shift may pass midnight), or midnight when none is. */
  function endOfTonight(now) {
    const toMinutes = (t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
    const weekday = (date) => WEEKDAYS[new Date(`${date}T12:00:00Z`).getUTCDay()];
    const shifts = (date) => state.hours?.[weekday(date)] ?? [];
    for (const shift of shifts(now.date)) {
      const open = toMinutes(shift.open);
      let close = toMinutes(shift.close);
      if (close <= open) close += 24 * 60; // past midnight
      if (open <= now.minutes && now.minutes < close) return later({ date: now.date, time: "00:00" }, close);
    }
    // Yesterday's shift running past midnight into this early morning.
    for (const shift of shifts(addDays(now.date, -1))) {
      const open = toMinutes(shift.open);
      const close = toMinutes(shift.close);
      if (close <= open && now.minutes < close) return { date: now.date, time: shift.close };
    }
    return { date: addDays(now.date, 1), time: "00:00" };
  }

  /** Fill the span from the venue's now: `minutes` long, or to the end of tonight. */
  function preset(minutes) {
    const now = venueNow();
    const start = { date: now.date, time: now.time };
    const end = minutes === null ? endOfTonight(now) : later(start, minutes);
    const set = (name, value) => {
      ui.blockForm.elements.namedItem(name).value = value;
    };
    set("start_date", start.date);
    set("start_time", start.time);
    set("end_date", end.date);
    set("end_time", end.time);
    clearFieldErrors(ui.blockForm);
    ui.blockForm.elements.namedItem("reason").focus();
  }

  function readBlock() {
    const value = (name) => ui.blockForm.elements.namedItem(name).value.trim();
    const errors = [];
    for (const [name, what] of [
      ["start_date", "the day it starts"],
      ["start_time", "the time it starts"],
      ["end_date", "the day it ends"],
      ["end_time", "the time it ends"],
    ]) {
      if (!value(name)) errors.push({ field: name, message: `give ${what}` });
    }
    if (!value("table_id")) errors.push({ field: "table_id", message: "choose a table" });
    const start = `${value("start_date")}T${value("start_time")}`;
    const end = `${value("end_date")}T${value("end_time")}`;
    if (!errors.length && end <= start) errors.push({ field: "end_date", message: "the block must end after it starts" });
    return { tableId: value("table_id"), body: { start, end, reason: value("reason") }, errors };
  }

  async function placeBlock() {
    const form = ui.blockForm;
    const box = form.querySelector("#bk-problem");
    const { tableId, body, errors } = readBlock();
    if (errors.length) {
      refused(form, box, invalid(errors), "Not blocked:", BLOCK_FIELDS);
      return;
    }
    try {
      const { data, consistency } = await api("POST", `/api/v1/admin/tables/${encodeURIComponent(tableId)}/blocks`, {
        body,
        write: true,
      });
      state.consistency = consistency;
      clearFieldErrors(form);
      showProblem(box, null);
      const from = atVenue(data.start);
      say(`Blocked ${tableName(tableId)} from ${momentLabel(from)} until ${momentLabel(atVenue(data.end), from.date)}.`);
      form.elements.namedItem("reason").value = "";
      await load();
    } catch (error) {
      refused(form, box, withNames(error, state.tables), "Not blocked:", BLOCK_FIELDS);
    }
  }

  async function liftBlock(block) {
    const name = tableName(block.table_id);
    const from = atVenue(block.start);
    const span = `${momentLabel(from)} – ${momentLabel(atVenue(block.end), from.date)}`;
    const sure = await confirmAction({
      title: `Lift the block of ${name}?`,
      detail: `${name} can be booked again ${span}${block.reason ? ` (blocked for: ${block.reason})` : ""}.`,
      confirm: "Lift block",
    });
    if (!sure) return;
    try {
      const { consistency } = await api(
        "DELETE",
        `/api/v1/admin/tables/${encodeURIComponent(block.table_id)}/blocks/${encodeURIComponent(block.id)}`,
        { write: true },
      );
      state.consistency = consistency;
      showProblem(ui.problem, null);
      say(`Lifted the block of ${name}, ${span}.`);
      await load();
    } catch (error) {
      showProblem(ui.problem, error, "Not lifted:");
    }
  }

  // --- closures -------------------------------------------------------------------------

  async function closeDay() {
    const form = ui.closureForm;
    const box = form.querySelector("#cl-problem");
    const date = form.elements.namedItem("date").value;
    const reason = form.elements.namedItem("reason").value.trim();
    if (!date) {
      refused(form, box, invalid([{ field: "date", message: "choose the day to close" }]), "Not closed:");
      return;
    }
    try {
      const { consistency } = await api("POST", "/api/v1/admin/closures", { body: { date, reason }, write: true });
      state.consistency = consistency;
      form.reset();
      clearFieldErrors(form);
      showProblem(box, null);
      say(`Closed on ${dayLabel(date)}.`);
      await load();
    } catch (error) {
      refused(form, box, error, "Not closed:");
    }
  }

  async function reopenDay(closure) {
    const day = dayLabel(closure.date);
    const sure = await confirmAction({
      title: `Reopen ${day}?`,
      detail: `Guests can book ${day} again, within the opening hours.`,
      confirm: "Reopen the day",
    });
    if (!sure) return;
    try {
      const { consistency } = await api("DELETE", `/api/v1/admin/closures/${closure.date}`, { write: true });
      state.consistency = consistency;
      showProblem(ui.problem, null);
      say(`Reopened ${day}.`);
      await load();
    } catch (error) {
      showProblem(ui.problem, error, "Not reopened:");
    }
  }

  return {
    async show() {
      if (!ui) build();
      const today = venueNow().date;
      ui.closureForm.elements.namedItem("date").min = today;
      await load();
    },
    hide() {},
  };
}
