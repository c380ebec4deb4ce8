// The venue's tables and the combinations they join into, for managers: a list of the
// tables with their seats, area and shape; one form to add a table or change one; retiring
// asks first, and when the table still has bookings to come says which and offers to
// cancel them, behind a second confirmation. Combinations: listed with their tables and
// party range, made from two or more tables, removed after a confirmation.

import { ApiError, all, api, showProblem } from "../api.js";
import { clearFieldErrors, refused } from "../forms.js";
import { htmlEl } from "../svg.js";
import { confirmAction } from "../confirm.js";
import { field, formCard, invalid, listBeside, screenTop } from "./admin-kit.js";
import { withNames } from "./plain-ids.js";
import { dayLabel } from "./when.js";

const SHAPES = ["rectangle", "square", "round", "oval"];
// The most bookings a refusal's list shows by name; the rest are counted.
const LISTED_BOOKINGS = 12;

const number = (id, name, attrs = {}) =>
  htmlEl("input", { id, name, type: "number", min: 1, max: 100, inputmode: "numeric", required: true, ...attrs });

function tableForm() {
  return formCard(
    "tb",
    "Add a table",
    field("tb-name", "Name", htmlEl("input", { id: "tb-name", name: "name", maxlength: 100, required: true, autocomplete: "off" })),
    htmlEl(
      "div",
      { class: "pair" },
      field("tb-capacity", "Seats", number("tb-capacity", "capacity", { value: 4 })),
      field("tb-min", "Fewest guests", number("tb-min", "min_capacity", { value: 1 })),
    ),
    htmlEl(
      "div",
      { class: "pair" },
      field(
        "tb-area",
        "Area",
        htmlEl("input", { id: "tb-area", name: "area", maxlength: 100, list: "tb-areas", autocomplete: "off" }),
      ),
      field(
        "tb-shape",
        "Shape",
        htmlEl("select", { id: "tb-shape", name: "shape" }, ...SHAPES.map((s) => htmlEl("option", { value: s, text: s }))),
      ),
    ),
    htmlEl("datalist", { id: "tb-areas" }),
    htmlEl(
      "div",
      { class: "actions" },
      htmlEl("button", { type: "submit", class: "primary", id: "tb-save", text: "Add table" }),
      htmlEl("button", { type: "button", id: "tb-cancel", text: "Cancel editing", hidden: true }),
    ),
  );
}

function combinationForm() {
  return formCard(
    "cb",
    "Join tables",
    htmlEl(
      "fieldset",
      { id: "cb-tables", class: "choices" },
      htmlEl("legend", { text: "Tables to join (two or more)" }),
      htmlEl("div", { id: "cb-choices", class: "choice-list" }),
    ),
    htmlEl(
      "div",
      { class: "pair" },
      field("cb-min", "Fewest guests", number("cb-min", "min_capacity", { value: 1, max: 1000 })),
      field("cb-capacity", "Most guests", number("cb-capacity", "capacity", { max: 1000 })),
    ),
    field("cb-name", "Name (optional)", htmlEl("input", { id: "cb-name", name: "name", maxlength: 100, autocomplete: "off" })),
    htmlEl("div", { class: "actions" }, htmlEl("button", { type: "submit", class: "primary", text: "Join tables" })),
  );
}

export function createTables() {
  const section = document.getElementById("tables");
  const state = { tables: [], combinations: [], editing: null, consistency: null, showRetired: false };
  let ui = null;

  function build() {
    const retiredToggle = htmlEl("input", { type: "checkbox", id: "tb-show-retired" });
    const top = screenTop("tables", "Tables");
    ui = {
      problem: top.problem,
      status: top.status,
      list: htmlEl("tbody", { id: "tb-rows" }),
      count: htmlEl("span", { class: "count", id: "tb-count" }),
      combos: htmlEl("tbody", { id: "cb-rows" }),
      form: tableForm(),
      comboForm: combinationForm(),
      retiredToggle,
    };
    section.replaceChildren(
      top.toolbar,
      ui.problem,
      ui.status,
      listBeside(
        ui.form,
        "tb",
        ["Name", "Seats", "Fewest", "Area", "Shape", "State", "Actions"],
        ui.list,
        htmlEl("h3", { id: "tb-list-title" }, "The venue's tables ", ui.count),
        htmlEl("label", { class: "inline", for: "tb-show-retired" }, retiredToggle, " Show retired tables"),
      ),
      listBeside(
        ui.comboForm,
        "cb",
        ["Name", "Tables", "Party", "Actions"],
        ui.combos,
        htmlEl("h3", { id: "cb-list-title", text: "Combinations" }),
        htmlEl("p", {
          class: "hint",
          text: "Tables pushed together for a larger party. A party at a combination holds every one of its tables.",
        }),
      ),
    );
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveTable();
    });
    ui.form.querySelector("#tb-cancel").addEventListener("click", () => startAdding());
    ui.comboForm.addEventListener("submit", (event) => {
      event.preventDefault();
      saveCombination();
    });
    retiredToggle.addEventListener("change", () => {
      state.showRetired = retiredToggle.checked;
      load();
    });
  }

  const say = (text) => {
    ui.status.textContent = text;
  };
  const nameOf = (id) => state.tables.find((t) => t.id === id)?.name ?? id;

  async function load() {
    const options = { consistency: state.consistency };
    try {
      const [tables, combinations] = await Promise.all([
        all(`/api/v1/admin/tables?include_retired=${state.showRetired}`, options),
        all("/api/v1/admin/table-combinations", options),
      ]);
      state.tables = tables;
      state.combinations = combinations;
      showProblem(ui.problem, null);
    } catch (error) {
      showProblem(ui.problem, error, "Could not load the tables:");
      return;
    }
    render();
  }

  function render() {
    const active = state.tables.filter((t) => !t.retired);
    ui.count.textContent = `(${active.length} in use)`;
    ui.list.replaceChildren(
      ...state.tables.map((t) => {
        const edit = htmlEl("button", { type: "button", text: "Edit", "aria-label": `Edit ${t.name}` });
        edit.addEventListener("click", () => startEditing(t));
        const retire = htmlEl("button", { type: "button", class: "danger", text: "Retire", "aria-label": `Retire ${t.name}` });
        retire.addEventListener("click", () => retireTable(t));
        return htmlEl(
          "tr",
          { "data-table-id": t.id, class: t.retired ? "retired" : "" },
          htmlEl("th", { scope: "row", text: t.name }),
          htmlEl("td", { "data-label": "Seats", text: String(t.capacity) }),
          htmlEl("td", { "data-label": "Fewest", text: String(t.min_capacity) }),
          htmlEl("td", { "data-label": "Area", text: t.area ?? "—" }),
          htmlEl("td", { "data-label": "Shape", text: t.shape }),
          htmlEl("td", { class: "tb-state", "data-label": "State", text: t.retired ? "⊘ retired" : "✓ in use" }),
          htmlEl("td", { class: "actions" }, ...(t.retired ? [] : [edit, retire])),
        );
      }),
    );
    const areas = [...new Set(state.tables.map((t) => t.area).filter(Boolean))].sort();
    ui.form.querySelector("#tb-areas").replaceChildren(...areas.map((a) => htmlEl("option", { value: a })));

    ui.combos.replaceChildren(
      ...(state.combinations.length
        ? state.combinations.map((c) => {
            const joined = c.table_ids.map(nameOf).join(" + ");
            const remove = htmlEl("button", { type: "button", class: "danger", text: "Remove", "aria-label": `Remove ${c.name || joined}` });
            remove.addEventListener("click", () => removeCombination(c, joined));
            return htmlEl(
              "tr",
              { "data-combination-id": c.id },
              htmlEl("th", { scope: "row", text: c.name || "—" }),
              htmlEl("td", { "data-label": "Tables", text: joined }),
              htmlEl("td", { "data-label": "Party", text: `${c.min_capacity}–${c.capacity} guests` }),
              htmlEl("td", { class: "actions" }, remove),
            );
          })
        : [htmlEl("tr", {}, htmlEl("td", { colspan: 4, class: "hint", text: "No tables are joined yet." }))]),
    );
    const picked = new Set(
      [...ui.comboForm.querySelectorAll("input[name=table_ids]:checked")].map((box) => box.value),
    );
    ui.comboForm.querySelector("#cb-choices").replaceChildren(
      ...active.map((t) =>
        htmlEl(
          "label",
          { class: "choice" },
          htmlEl("input", { type: "checkbox", name: "table_ids", value: t.id, checked: picked.has(t.id) }),
          ` ${t.name} (${t.capacity})`,
        ),
      ),
    );
  }

  // --- one table ------------------------------------------------------------------------

  function startAdding() {
    state.editing = null;
    ui.form.reset();
    clearFieldErrors(ui.form);
    showProblem(ui.form.querySelector("#tb-problem"), null);
    ui.form.querySelector("#tb-form-title").textContent = "Add a table";
    ui.form.querySelector("#tb-save").textContent = "Add table";
    ui.form.querySelector("#tb-cancel").hidden = true;
  }

  function startEditing(table) {
    state.editing = table;
    clearFieldErrors(ui.form);
    showProblem(ui.form.querySelector("#tb-problem"), null);
    const set = (name, value) => {
      ui.form.elements.namedItem(name).value = value;
    };
    set("name", table.name);
    set("capacity", table.capacity);
    set("min_capacity", table.min_capacity);
    set("area", table.area ?? "");
    set("shape", table.shape);
    ui.form.querySelector("#tb-form-title").textContent = `Edit ${table.name}`;
    ui.form.querySelector("#tb-save").textContent = "Save changes";
    ui.form.querySelector("#tb-cancel").hidden = false;
    ui.form.elements.namedItem("name").focus();
  }

  /** The form's fields, or the field errors a host can fix before asking the API. */
  function readTable() {
    const value = (name) => ui.form.elements.namedItem(name).value.trim();
    const errors = [];
    const whole = (name, label) => {
      const n = Number(value(name));
      if (!value(name) || !Number.isInteger(n) || n < 1 || n > 100) {
        errors.push({ field: name, message: `${label} must be a whole number from 1 to 100` });
      }
      return n;
    };
    const body = {
      name: value("name"),
      capacity: whole("capacity", "seats"),
      min_capacity: whole("min_capacity", "fewest guests"),
      area: value("area") || null,
      shape: value("shape"),
    };
    if (!body.name) errors.push({ field: "name", message: "give the table a name, e.g. T7" });
    if (!errors.length && body.min_capacity > body.capacity) {
      errors.push({ field: "min_capacity", message: "fewest guests cannot be more than the seats" });
    }
    return { body, errors };
  }

  async function saveTable() {
    const box = ui.form.querySelector("#tb-problem");
    const { body, errors } = readTable();
    const editing = state.editing;
    const lead = editing ? "Not saved:" : "Not added:";
    if (errors.length) {
      refused(ui.form, box, invalid(errors), lead);
      return;
    }
    const button = ui.form.querySelector("#tb-save");
    button.disabled = true;
    try {
      const { data, consistency } = editing
        ? await api("PUT", `/api/v1/admin/tables/${encodeURIComponent(editing.id)}`, { body, write: true })
        : await api("POST", "/api/v1/admin/tables", { body, write: true });
      state.consistency = consistency;
      startAdding();
      say(editing ? `Saved ${data.name}.` : `Added ${data.name}: ${data.capacity} seats.`);
      await load();
    } catch (error) {
      refused(ui.form, box, withNames(error, state.tables), lead);
    } finally {
      button.disabled = false;
    }
  }

  /** The bookings a refusal names (`bkg_...` in its detail), as lines a host reads. */
  async function bookingLines(error) {
    const ids = [...new Set(error.detail.match(/\bbkg_[A-Za-z0-9_-]+/g) ?? [])];
    const lines = await Promise.all(
      ids.slice(0, LISTED_BOOKINGS).map(async (id) => {
        try {
          const { data: b } = await api("GET", `/api/v1/admin/bookings/${encodeURIComponent(id)}`);
          const who = b.guest_name ? `, ${b.guest_name}` : "";
          return `${dayLabel(b.date)} ${b.time}: party of ${b.party_size}${who} (${b.status})`;
        } catch {
          return `Booking ${id}`;
        }
      }),
    );
    if (ids.length > LISTED_BOOKINGS) lines.push(`… and ${ids.length - LISTED_BOOKINGS} more`);
    return { count: ids.length, lines };
  }

  async function retire(table, cancelBookings) {
    const query = cancelBookings ? "?cancel_bookings=true" : "";
    const { consistency } = await api("DELETE", `/api/v1/admin/tables/${encodeURIComponent(table.id)}${query}`, {
      write: true,
    });
    state.consistency = consistency;
    if (state.editing?.id === table.id) startAdding();
  }

  async function retireTable(table) {
    const sure = await confirmAction({
      title: `Retire ${table.name}?`,
      detail: "A retired table takes no more bookings and leaves every combination it belongs to. This cannot be undone.",
      confirm: `Retire ${table.name}`,
    });
    if (!sure) return;
    try {
      await retire(table, false);
      say(`Retired ${table.name}.`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 409) {
        showProblem(ui.problem, error, `${table.name} not retired:`);
        return;
      }
      const { count, lines } = await bookingLines(error);
      const bookings = count === 1 ? "1 booking" : `${count || "some"} bookings`;
      const cancel = await confirmAction({
        title: `${table.name} still has ${bookings} to come`,
        detail: `To retire ${table.name} now, ${count === 1 ? "that booking is" : "those bookings are"} cancelled. Guests already seated are never cancelled. Cancelling cannot be undone.`,
        items: lines,
        confirm: `Cancel ${bookings} and retire`,
        keep: "Keep the table",
      });
      if (!cancel) {
        showProblem(ui.problem, new Error(`${table.name} still has ${bookings} to come; move them first, or cancel them.`), "Not retired:");
        return;
      }
      try {
        await retire(table, true);
        say(`Retired ${table.name} and cancelled ${bookings}.`);
      } catch (again) {
        showProblem(ui.problem, again, `${table.name} not retired:`);
        return;
      }
    }
    showProblem(ui.problem, null);
    await load();
  }

  // --- combinations ---------------------------------------------------------------------

  async function saveCombination() {
    const form = ui.comboForm;
    const box = form.querySelector("#cb-problem");
    const tableIds = [...form.querySelectorAll("input[name=table_ids]:checked")].map((box) => box.value);
    const value = (name) => form.elements.namedItem(name).value.trim();
    const errors = [];
    if (tableIds.length < 2) errors.push({ field: "table_ids", message: "pick two or more tables to join" });
    const least = Number(value("min_capacity"));
    const most = Number(value("capacity"));
    if (!value("min_capacity") || !Number.isInteger(least) || least < 1) {
      errors.push({ field: "min_capacity", message: "fewest guests must be a whole number, at least 1" });
    }
    if (!value("capacity") || !Number.isInteger(most) || most < 1) {
      errors.push({ field: "capacity", message: "most guests must be a whole number, at least 1" });
    } else if (most < least) {
      errors.push({ field: "capacity", message: "most guests cannot be fewer than fewest guests" });
    }
    // The API names the tables' field `table_ids`; the form shows its errors on the fieldset.
    const names = { table_ids: "cb-tables" };
    if (errors.length) {
      refused(form, box, invalid(errors), "Not joined:", names);
      return;
    }
    const body = { table_ids: tableIds, min_capacity: least, capacity: most };
    if (value("name")) body.name = value("name");
    try {
      const { consistency } = await api("POST", "/api/v1/admin/table-combinations", { body, write: true });
      state.consistency = consistency;
      form.reset();
      clearFieldErrors(form);
      showProblem(box, null);
      say(`Joined ${tableIds.map(nameOf).join(" + ")} for ${least}–${most} guests.`);
      for (const input of form.querySelectorAll("input[name=table_ids]")) input.checked = false;
      await load();
    } catch (error) {
      refused(form, box, withNames(error, state.tables, state.combinations), "Not joined:", names);
    }
  }

  async function removeCombination(combination, joined) {
    const sure = await confirmAction({
      title: `Remove ${combination.name || joined}?`,
      detail: `${joined} will no longer be offered together. Bookings already made keep their tables.`,
      confirm: "Remove combination",
    });
    if (!sure) return;
    try {
      const { consistency } = await api(
        "DELETE",
        `/api/v1/admin/table-combinations/${encodeURIComponent(combination.id)}`,
        { write: true },
      );
      state.consistency = consistency;
      say(`Removed ${combination.name || joined}.`);
      showProblem(ui.problem, null);
      await load();
    } catch (error) {
      showProblem(ui.problem, error, "Not removed:");
    }
  }

  return {
    async show() {
      if (!ui) build();
      await load();
    },
    hide() {},
  };
}
