// The floor-plan editor: one layout's tables on its canvas, moved, resized and rotated
// by pointer or keyboard, tables added, changed and retired; nothing is written until
// Save, which refuses to overwrite a layout someone else saved meanwhile.

import { ApiError, all, api, showProblem } from "./api.js";
import { checkedHere, clearFieldErrors, refused } from "./forms.js";
import {
  areaAt,
  centreOf,
  drawCanvas,
  gridPlacements,
  htmlEl,
  labels,
  placeGroup,
  shapeOf,
  svgEl,
  svgPoint,
} from "./svg.js";
import { keepLegible } from "./legible.js";

const SNAP = 5;
const MIN_SIZE = 20;
const $ = (id) => document.getElementById(id);

const snap = (value, step = SNAP) => Math.round(value / step) * step;
const clone = (value) => JSON.parse(JSON.stringify(value));

export function createEditor() {
  const svg = $("plan-svg");
  keepLegible(svg);
  const form = $("table-form");
  const problem = $("plan-problem");
  const status = $("plan-status");
  const select = $("plan-layout");

  const state = {
    layouts: [],
    layout: null, // as the server last answered
    draft: null, // {name, tables, areas, canvas}: what Save writes
    tables: new Map(), // id -> the venue's table, as the server last answered
    edits: new Map(), // id -> changed fields of a table (name, capacity, min_capacity, area)
    created: new Map(), // temporary id -> a table to add on Save
    retiring: new Set(), // table ids to retire on Save
    selected: null,
    dirty: false,
    consistency: null,
    drag: null,
  };
  const groups = new Map();
  let newCount = 0;

  const say = (text) => {
    status.textContent = text;
  };

  function setDirty(dirty) {
    state.dirty = dirty;
    $("plan-dirty").hidden = !dirty;
  }

  function tableOf(id) {
    const base = state.created.get(id) ?? state.tables.get(id) ?? { name: id, capacity: 0 };
    return { ...base, ...state.edits.get(id) };
  }

  function placement(id) {
    return state.draft.tables.find((t) => t.table_id === id);
  }

  // --- loading ---------------------------------------------------------------------

  async function load(layoutId) {
    const options = { consistency: state.consistency };
    const [layouts, tables] = await Promise.all([
      all("/api/v1/admin/layouts", options),
      all("/api/v1/admin/tables", options),
    ]);
    state.layouts = layouts;
    state.tables = new Map(tables.map((t) => [t.id, t]));
    const wanted =
      layouts.find((l) => l.id === layoutId) ??
      layouts.find((l) => l.id === state.layout?.id) ??
      layouts.find((l) => l.active) ??
      layouts[0] ??
      null;
    open(wanted);
  }

  function open(layout) {
    state.layout = layout;
    state.draft = layout
      ? clone({ name: layout.name, tables: layout.tables, areas: layout.areas, canvas: layout.canvas })
      : null;
    if (state.draft) {
      state.draft.tables = state.draft.tables.filter((t) => state.tables.has(t.table_id));
    }
    state.edits.clear();
    state.created.clear();
    state.retiring.clear();
    state.selected = null;
    setDirty(false);
    renderToolbar();
    render();
  }

  function renderToolbar() {
    select.replaceChildren(
      ...state.layouts.map((l) =>
        htmlEl("option", { value: l.id, text: l.active ? `${l.name} (active)` : l.name }),
      ),
    );
    if (!state.layouts.length) select.append(htmlEl("option", { value: "", text: "no layouts yet" }));
    select.value = state.layout?.id ?? "";
    $("plan-active").hidden = !state.layout?.active;
    for (const id of ["plan-add", "plan-save", "plan-activate"]) $(id).disabled = !state.layout;
    $("plan-activate").disabled = !state.layout || state.layout.active;
    $("plan-name").value = state.draft?.name ?? "";
    $("plan-name").disabled = !state.layout;
    const canvas = state.draft?.canvas;
    $("plan-canvas-w").value = canvas ? canvas.width : "";
    $("plan-canvas-h").value = canvas ? canvas.height : "";
    if (!state.layout) say("No layout yet: “New layout” places every table on a grid to start from.");
  }

  // --- drawing ---------------------------------------------------------------------

  function render() {
    groups.clear();
    if (!state.draft) {
      svg.replaceChildren();
      form.hidden = true;
      renderSide();
      return;
    }
    const layer = drawCanvas(svg, state.draft);
    const tablesLayer = svgEl("g", { class: "tables" });
    layer.after(tablesLayer);
    for (const p of state.draft.tables) {
      const group = svgEl("g", {
        class: "table",
        tabindex: 0,
        role: "button",
        "data-table-id": p.table_id,
      });
      groups.set(p.table_id, group);
      tablesLayer.append(group);
      draw(p.table_id);
    }
    renderForm();
    renderSide();
  }

  function draw(id) {
    const group = groups.get(id);
    const p = placement(id);
    if (!group || !p) return;
    const table = tableOf(id);
    const selected = state.selected === id;
    placeGroup(group, p);
    group.classList.toggle("selected", selected);
    group.setAttribute("aria-pressed", String(selected));
    group.setAttribute(
      "aria-label",
      `Table ${table.name}, ${table.capacity} seats, at ${Math.round(p.x)}, ${Math.round(p.y)}` +
        `, ${p.width} by ${p.height}, rotated ${p.rotation || 0} degrees`,
    );
    const children = [shapeOf(p, { class: "table-shape" }), labels(p, [table.name, `${table.capacity} seats`])];
    if (selected) {
      children.push(
        svgEl("line", { x1: 0, y1: -p.height / 2, x2: 0, y2: -p.height / 2 - 22, class: "handle-line" }),
        svgEl("circle", { cx: 0, cy: -p.height / 2 - 26, r: 8, class: "handle", "data-handle": "rotate" }),
        svgEl("rect", {
          x: p.width / 2 - 8,
          y: p.height / 2 - 8,
          width: 16,
          height: 16,
          class: "handle",
          "data-handle": "resize",
        }),
      );
    }
    group.replaceChildren(...children);
  }

  function select_(id) {
    const before = state.selected;
    state.selected = id;
    if (before) draw(before);
    if (id) draw(id);
    renderForm();
  }

  function renderForm() {
    const id = state.selected;
    form.hidden = !id;
    if (!id) return;
    if (form.dataset.table !== id) clearFieldErrors(form); // another table's mistakes go
    form.dataset.table = id;
    const table = tableOf(id);
    const p = placement(id);
    $("table-form-title").textContent = `Table ${table.name}`;
    $("tf-name").value = table.name;
    $("tf-capacity").value = table.capacity;
    $("tf-min").value = table.min_capacity ?? 1;
    const areas = [...new Set([...(state.draft.areas ?? []).map((a) => a.name), table.area].filter(Boolean))];
    $("tf-area").replaceChildren(
      htmlEl("option", { value: "", text: "no area" }),
      ...areas.map((name) => htmlEl("option", { value: name, text: name })),
    );
    $("tf-area").value = table.area ?? "";
    $("tf-shape").value = p.shape;
    $("tf-width").value = p.width;
    $("tf-height").value = p.height;
    $("tf-rotation").value = p.rotation || 0;
  }

  function renderSide() {
    const unplaced = [...state.tables.values()].filter(
      (t) => !t.retired && state.draft && !placement(t.id) && !state.retiring.has(t.id),
    );
    const box = $("plan-unplaced");
    box.replaceChildren();
    if (unplaced.length) {
      box.append(htmlEl("h3", { text: "Not on this plan" }));
      const list = htmlEl("ul", { class: "plain" });
      for (const t of unplaced) {
        const place = htmlEl("button", { type: "button", text: `Place ${t.name}` });
        place.addEventListener("click", () => placeTable(t.id));
        list.append(htmlEl("li", {}, place));
      }
      box.append(list);
    }
    const retiring = $("plan-retiring");
    retiring.replaceChildren();
    if (state.retiring.size) {
      retiring.append(htmlEl("h3", { text: "Retired on save" }));
      const list = htmlEl("ul", { class: "plain" });
      for (const id of state.retiring) {
        const keep = htmlEl("button", { type: "button", text: `Keep ${tableOf(id).name}` });
        keep.addEventListener("click", () => {
          state.retiring.delete(id);
          placeTable(id);
        });
        list.append(htmlEl("li", {}, keep));
      }
      retiring.append(list);
    }
  }

  // --- changes ---------------------------------------------------------------------

  function changed(id) {
    setDirty(true);
    draw(id);
    if (state.selected === id) renderForm();
  }

  function edit(id, fields) {
    state.edits.set(id, { ...state.edits.get(id), ...fields });
    if (state.created.has(id)) state.created.set(id, { ...state.created.get(id), ...fields });
    changed(id);
  }

  function settleArea(id) {
    const area = areaAt(state.draft, centreOf(placement(id)));
    if (area && area.name !== tableOf(id).area) edit(id, { area: area.name });
  }

  function placeTable(id) {
    const canvas = svg.viewBox.baseVal;
    const size = 80;
    state.draft.tables.push({
      table_id: id,
      x: snap(canvas.width / 2 - size / 2),
      y: snap(canvas.height / 2 - size / 2),
      width: size,
      height: size,
      rotation: 0,
      shape: "rectangle",
    });
    setDirty(true);
    render();
    select_(id);
    groups.get(id)?.focus();
  }

  function addTable() {
    newCount += 1;
    const id = `new-${newCount}`;
    state.created.set(id, { id, name: `New ${newCount}`, capacity: 4, min_capacity: 1, area: null });
    placeTable(id);
    say(`Table New ${newCount} added; it is created when you save.`);
    $("tf-name").focus();
  }

  function retire(id) {
    state.draft.tables = state.draft.tables.filter((t) => t.table_id !== id);
    if (state.created.has(id)) state.created.delete(id);
    else state.retiring.add(id);
    state.selected = null;
    setDirty(true);
    render();
    say(`Table ${tableOf(id).name} will be retired when you save.`);
  }

  function nudge(id, dx, dy) {
    const p = placement(id);
    p.x += dx;
    p.y += dy;
    changed(id);
  }

  function rotate(id, by) {
    const p = placement(id);
    let angle = ((p.rotation || 0) + by) % 360;
    if (angle > 180) angle -= 360;
    if (angle <= -180) angle += 360;
    p.rotation = angle;
    changed(id);
  }

  // --- pointer ---------------------------------------------------------------------

  svg.addEventListener("pointerdown", (event) => {
    const group = event.target.closest("g.table");
    if (!group) {
      if (state.selected) select_(null);
      return;
    }
    event.preventDefault();
    const id = group.dataset.tableId;
    if (state.selected !== id) select_(id);
    group.focus({ preventScroll: true });
    const p = placement(id);
    const at = svgPoint(svg, event);
    const handle = event.target.closest("[data-handle]")?.dataset.handle ?? "move";
    state.drag = {
      id,
      mode: handle,
      dx: at.x - p.x,
      dy: at.y - p.y,
      from: [event.clientX, event.clientY],
      moved: false,
    };
    svg.setPointerCapture(event.pointerId);
  });

  svg.addEventListener("pointermove", (event) => {
    const drag = state.drag;
    if (!drag) return;
    // A click is not a drag: a pixel of jitter must not move (and snap) the table.
    if (!drag.moved && Math.hypot(event.clientX - drag.from[0], event.clientY - drag.from[1]) < 3) {
      return;
    }
    const p = placement(drag.id);
    const at = svgPoint(svg, event);
    const fine = event.altKey;
    if (drag.mode === "move") {
      p.x = fine ? at.x - drag.dx : snap(at.x - drag.dx);
      p.y = fine ? at.y - drag.dy : snap(at.y - drag.dy);
    } else if (drag.mode === "resize") {
      const c = centreOf(p);
      const r = ((p.rotation || 0) * Math.PI) / 180;
      const lx = (at.x - c.x) * Math.cos(r) + (at.y - c.y) * Math.sin(r);
      const ly = -(at.x - c.x) * Math.sin(r) + (at.y - c.y) * Math.cos(r);
      let w = Math.max(MIN_SIZE, snap(2 * Math.abs(lx)));
      let h = Math.max(MIN_SIZE, snap(2 * Math.abs(ly)));
      if (p.shape === "round" || p.shape === "square") w = h = Math.max(w, h);
      p.x = c.x - w / 2;
      p.y = c.y - h / 2;
      p.width = w;
      p.height = h;
    } else {
      const c = centreOf(p);
      let angle = (Math.atan2(at.y - c.y, at.x - c.x) * 180) / Math.PI + 90;
      angle = event.shiftKey ? Math.round(angle) : snap(angle, 15);
      if (angle > 180) angle -= 360;
      p.rotation = angle;
    }
    drag.moved = true;
    changed(drag.id);
  });

  const endDrag = (event) => {
    const drag = state.drag;
    if (!drag) return;
    state.drag = null;
    if (svg.hasPointerCapture(event.pointerId)) svg.releasePointerCapture(event.pointerId);
    if (drag.moved && drag.mode === "move") settleArea(drag.id);
  };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  // --- keyboard --------------------------------------------------------------------

  svg.addEventListener("focusin", (event) => {
    const group = event.target.closest?.("g.table");
    if (group && state.selected !== group.dataset.tableId) select_(group.dataset.tableId);
  });

  svg.addEventListener("keydown", (event) => {
    const group = event.target.closest?.("g.table");
    if (!group) return;
    const id = group.dataset.tableId;
    const step = event.shiftKey ? 1 : 10;
    const moves = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    if (moves[event.key]) {
      nudge(id, ...moves[event.key]);
      settleArea(id);
    } else if (event.key === "r" || event.key === "R") {
      rotate(id, event.shiftKey ? -15 : 15);
    } else if (event.key === "Delete") {
      retire(id);
    } else if (event.key === "Enter" || event.key === " ") {
      $("tf-name").focus();
    } else {
      return;
    }
    event.preventDefault();
  });

  // --- the side form ---------------------------------------------------------------

  /** What is wrong with the table form's values, field by field ("" where nothing is):
   * shown beside each field as it is typed, and a wrong value is not taken. */
  function mistakesOf() {
    const whole = (name, least, most) => {
      const value = Number(form.elements.namedItem(name).value);
      return Number.isInteger(value) && value >= least && value <= most;
    };
    const capacity = Number(form.elements.namedItem("capacity").value);
    const fewest = Number(form.elements.namedItem("min_capacity").value);
    const number = (name) => form.elements.namedItem(name).value.trim() !== "";
    return {
      name: form.elements.namedItem("name").value.trim() ? "" : "Give the table a name, e.g. T12.",
      capacity: whole("capacity", 1, 100) ? "" : "Seats must be a whole number from 1 to 100.",
      min_capacity: !whole("min_capacity", 1, 100)
        ? "Fewest guests must be a whole number from 1 to 100."
        : fewest > capacity
          ? "Fewest guests cannot be more than the seats."
          : "",
      width: number("width") && Number(form.elements.namedItem("width").value) >= 10 ? "" : "Width must be 10 or more.",
      height: number("height") && Number(form.elements.namedItem("height").value) >= 10 ? "" : "Height must be 10 or more.",
      rotation:
        number("rotation") && Math.abs(Number(form.elements.namedItem("rotation").value)) <= 360
          ? ""
          : "Rotation must be between -360 and 360 degrees.",
    };
  }

  form.addEventListener("input", (event) => {
    const id = state.selected;
    if (!id) return;
    const mistakes = mistakesOf();
    if (!checkedHere(form, problem, mistakes, `Table ${tableOf(id).name}:`)) showProblem(problem, null);
    const input = event.target;
    if (mistakes[input.name]) return; // not taken until it is right
    const p = placement(id);
    const number = Number(input.value);
    switch (input.name) {
      case "name":
        if (input.value.trim()) edit(id, { name: input.value.trim() });
        break;
      case "capacity":
      case "min_capacity":
        if (Number.isInteger(number) && number >= 1) edit(id, { [input.name]: number });
        break;
      case "area":
        edit(id, { area: input.value || null });
        break;
      case "shape":
        p.shape = input.value;
        changed(id);
        break;
      case "width":
      case "height":
        if (number >= 10) {
          const c = centreOf(p);
          p[input.name] = number;
          p.x = c.x - p.width / 2;
          p.y = c.y - p.height / 2;
          changed(id);
        }
        break;
      case "rotation":
        if (Math.abs(number) <= 360) {
          p.rotation = number;
          changed(id);
        }
        break;
    }
  });
  $("tf-retire").addEventListener("click", () => state.selected && retire(state.selected));

  $("plan-name").addEventListener("input", (event) => {
    state.draft.name = event.target.value;
    setDirty(true);
  });
  for (const [id, key] of [
    ["plan-canvas-w", "width"],
    ["plan-canvas-h", "height"],
  ]) {
    $(id).addEventListener("change", (event) => {
      const value = Number(event.target.value);
      if (!(value >= 100)) return;
      const current = svg.viewBox.baseVal;
      state.draft.canvas = {
        width: current.width,
        height: current.height,
        ...state.draft.canvas,
        [key]: value,
      };
      setDirty(true);
      render();
    });
  }

  // --- writes ----------------------------------------------------------------------

  function conflictMessage(error) {
    const box = problem;
    showProblem(
      box,
      error,
      "Someone else saved this layout while you were editing it; nothing of yours was written over.",
    );
    const reload = htmlEl("button", { type: "button", text: "Reload their version" });
    reload.addEventListener("click", () => guarded(() => load(state.layout.id)));
    box.append(htmlEl("p", { text: "Reload to see their version, then make your changes again. " }, reload));
  }

  /** A write of one table; a refusal of its fields is shown beside them in the table's
   * form (the table selected), and the save stops there: answers null. */
  async function tableWrite(id, write) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status >= 500 || error.status === 0) throw error;
      select_(id);
      refused(form, problem, error, `Table ${tableOf(id).name} not saved:`);
      form.querySelector("[aria-invalid=true]")?.focus();
      say("Not saved.");
      return null;
    }
  }

  async function save() {
    if (!state.draft) return;
    showProblem(problem, null);
    say("Saving…");
    const layoutId = state.layout.id;
    const current = await api("GET", `/api/v1/admin/layouts/${layoutId}`, {
      consistency: state.consistency,
    });
    if (current.data.version !== state.layout.version) {
      conflictMessage(
        new ApiError(409, {
          title: "Conflict",
          detail: `The layout is at version ${current.data.version}; you opened version ${state.layout.version}.`,
        }),
      );
      say("Not saved.");
      return;
    }
    let token = null;
    const ids = new Map();
    for (const [tempId, t] of state.created) {
      const body = { name: t.name, capacity: t.capacity, min_capacity: t.min_capacity ?? 1 };
      if (t.area) body.area = t.area;
      const made = await tableWrite(tempId, () => api("POST", "/api/v1/admin/tables", { body, write: true }));
      if (!made) return;
      ids.set(tempId, made.data.id);
      token = made.consistency ?? token;
    }
    for (const [id, fields] of state.edits) {
      if (state.created.has(id) || state.retiring.has(id)) continue;
      const made = await tableWrite(id, () => api("PUT", `/api/v1/admin/tables/${id}`, { body: fields, write: true }));
      if (!made) return;
      token = made.consistency ?? token;
    }
    const body = {
      name: state.draft.name.trim() || state.layout.name,
      tables: state.draft.tables.map((t) => ({ ...t, table_id: ids.get(t.table_id) ?? t.table_id })),
      areas: state.draft.areas ?? [],
    };
    if (state.draft.canvas) body.canvas = state.draft.canvas;
    try {
      const saved = await api("PUT", `/api/v1/admin/layouts/${layoutId}`, {
        body,
        ifMatch: state.layout.version,
        write: true,
      });
      token = saved.consistency ?? token;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        conflictMessage(error);
        say("Not saved.");
        return;
      }
      throw error;
    }
    const refused = [];
    for (const id of state.retiring) {
      try {
        const made = await api("DELETE", `/api/v1/admin/tables/${id}`, { write: true });
        token = made.consistency ?? token;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        refused.push(`${tableOf(id).name}: ${error.detail}`);
      }
    }
    state.consistency = token;
    await load(layoutId);
    if (refused.length) {
      showProblem(problem, new Error(refused.join(" ")), "Not retired:");
    }
    say(`Saved “${state.layout.name}” (version ${state.layout.version}).`);
  }

  async function activate() {
    const made = await api("POST", `/api/v1/admin/layouts/${state.layout.id}/activate`, { write: true });
    state.consistency = made.consistency;
    const dirty = state.dirty;
    if (!dirty) await load(state.layout.id);
    else {
      state.layout = { ...state.layout, active: true };
      renderToolbar();
      setDirty(true);
    }
    say(`“${made.data.name}” is the active layout.`);
  }

  async function newLayout() {
    const tables = [...state.tables.values()].filter((t) => !t.retired);
    const body = state.draft
      ? { name: `${state.draft.name} (copy)`, tables: state.draft.tables.filter((t) => state.tables.has(t.table_id)), areas: state.draft.areas ?? [] }
      : { name: "New layout", tables: gridPlacements(tables) };
    if (state.draft?.canvas) body.canvas = state.draft.canvas;
    const made = await api("POST", "/api/v1/admin/layouts", { body, write: true });
    state.consistency = made.consistency;
    await load(made.data.id);
    say(`Layout “${made.data.name}” created.`);
  }

  async function guarded(action) {
    try {
      await action();
    } catch (error) {
      showProblem(problem, error);
      say("");
    }
  }

  $("plan-save").addEventListener("click", () => guarded(save));
  $("plan-activate").addEventListener("click", () => guarded(activate));
  $("plan-new").addEventListener("click", () => guarded(newLayout));
  $("plan-add").addEventListener("click", () => addTable());
  select.addEventListener("change", () => {
    if (state.dirty && !window.confirm("Drop your unsaved changes to this layout?")) {
      select.value = state.layout?.id ?? "";
      return;
    }
    showProblem(problem, null);
    open(state.layouts.find((l) => l.id === select.value) ?? null);
  });

  window.addEventListener("beforeunload", (event) => {
    if (state.dirty) event.preventDefault();
  });

  return {
    async show() {
      showProblem(problem, null);
      if (state.dirty) return;
      await guarded(() => load());
    },
    hide() {}, // the draft stays as it is, to come back to
  };
}
