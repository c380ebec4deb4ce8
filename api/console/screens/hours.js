// Opening hours and time slots: each weekday's shifts (a close at or before the open runs
// past midnight), and how start times, table turns, booking notice and pacing are laid
// out. Each form is saved whole with one PUT; the API reports every field at fault at
// once, each shown beside its input (inputs are named by the API's paths, e.g.
// `monday[1].close`, `turn_times[0].minutes`). Leaving with unsaved changes asks first.

import { ApiError, api, session, showProblem, venue } from "../api.js";
import { clearFieldErrors, refused } from "../forms.js";
import { htmlEl } from "../svg.js";
import { confirmAction } from "../confirm.js";

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const EMPTY_WEEK = () => Object.fromEntries(WEEKDAYS.map((day) => [day, []]));

/** "90 minutes", "2 hours", "1 hour 30 minutes", "3 days". */
export function duration(minutes) {
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (minutes >= 1440 && minutes % 1440 === 0) return plural(minutes / 1440, "day");
  if (minutes < 60 || minutes === 90) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${plural(hours, "hour")} ${plural(rest, "minute")}` : plural(hours, "hour");
}

/** A close at or before its open is on the next day (18:00–02:00). */
function pastMidnight(shift) {
  return Boolean(shift.open && shift.close && shift.close <= shift.open);
}

/** A number input's value: an integer, or null when empty (the API then says so). */
function integer(value) {
  const text = String(value ?? "").trim();
  return text === "" ? null : Number(text);
}

/** The slot settings in plain words, from what the form holds now. */
export function summarise(slots) {
  const sentences = [];
  const lead = slots.min_lead_minutes;
  const ahead = slots.max_days_ahead;
  const from = lead ? `from ${duration(lead)} ahead` : "up to the moment of arrival";
  sentences.push(
    `Start times are every ${duration(slots.interval_minutes ?? 0)}. Guests may book ${from}`
      + ` and up to ${ahead === 1 ? "1 day" : `${ahead ?? 0} days`} ahead.`,
  );
  const turns = [...slots.turn_times].filter((t) => t.max_party_size > 0 && t.minutes > 0);
  turns.sort((a, b) => a.max_party_size - b.max_party_size);
  if (turns.length) {
    let smallest = 1;
    const parts = turns.map((turn) => {
      const who = turn.max_party_size === 1
        ? "a party of 1"
        : smallest === turn.max_party_size
          ? `a party of ${turn.max_party_size}`
          : `parties of ${smallest} to ${turn.max_party_size}`;
      smallest = turn.max_party_size + 1;
      return `${who} ${who.startsWith("a ") ? "stays" : "stay"} ${duration(turn.minutes)}`;
    });
    const buffer = slots.buffer_minutes
      ? `then ${duration(slots.buffer_minutes)} to reset the table`
      : "and the table is free again at once";
    const larger = `larger parties stay as long as the largest`;
    const first = parts.join(", ");
    sentences.push(`${first[0].toUpperCase()}${first.slice(1)}; ${larger}; ${buffer}.`);
  }
  for (const rule of slots.pacing) {
    const days = rule.weekday ? `On ${DAY_NAMES[WEEKDAYS.indexOf(rule.weekday)]}s` : "Every day";
    const span = rule.from || rule.to ? ` from ${rule.from || "opening"} to ${rule.to || "close"}` : "";
    const limits = [
      rule.max_covers ? `${rule.max_covers} guests` : "",
      rule.max_bookings ? `${rule.max_bookings} parties` : "",
    ].filter(Boolean);
    if (!limits.length || !rule.per_minutes) continue;
    sentences.push(
      `${days}${span}, at most ${limits.join(" and ")} may arrive in any ${duration(rule.per_minutes)}.`,
    );
  }
  return sentences.join(" ");
}

function field(id, label, input, hint = "") {
  input.id = id;
  const wrap = htmlEl("div", { class: "hours-field" }, htmlEl("label", { for: id, text: label }), input);
  if (hint) wrap.append(htmlEl("p", { class: "hint", text: hint }));
  return wrap;
}

function numberInput(name, value, min, max) {
  return htmlEl("input", {
    type: "number", name, min, max, step: 1, inputmode: "numeric", value: value ?? "",
  });
}

export function createHours() {
  const section = document.getElementById("hours");
  let hours = EMPTY_WEEK(); // what the hours form shows
  let slots = null; // what the slots form shows
  let savedHours = ""; // JSON of what the API holds, to tell unsaved changes
  let savedSlots = "";
  let token = null; // the last write's consistency token, for the next read
  let shown = false;
  let built = null;

  function build() {
    const title = htmlEl("h2", { id: "hours-title", text: "Opening hours & time slots" });
    const loadProblem = htmlEl("div", { class: "problem", role: "alert", hidden: true });

    const hoursForm = htmlEl("form", { id: "hours-form", class: "card", novalidate: true });
    const week = htmlEl("div", { id: "hours-week" });
    const hoursProblem = htmlEl("div", { class: "problem", role: "alert", hidden: true });
    const hoursMarker = htmlEl("p", { class: "unsaved", id: "hours-unsaved", role: "status" });
    const copyMonday = htmlEl("button", { type: "button", id: "hours-copy-monday", text: "Copy Monday to every day" });
    hoursForm.append(
      htmlEl("h3", { text: "Opening hours" }),
      htmlEl("p", {
        class: "hint",
        text: "A close at or before the opening time runs past midnight, into the next day. A day with no shifts is closed.",
      }),
      week,
      hoursProblem,
      htmlEl("div", { class: "actions" },
        htmlEl("button", { type: "submit", class: "primary", text: "Save opening hours" }),
        copyMonday,
        hoursMarker),
    );

    const slotsForm = htmlEl("form", { id: "slots-form", class: "card", novalidate: true });
    const slotsProblem = htmlEl("div", { class: "problem", role: "alert", hidden: true });
    const slotsMarker = htmlEl("p", { class: "unsaved", id: "slots-unsaved", role: "status" });
    const basics = htmlEl("div", { class: "hours-grid", id: "slots-basics" });
    const turns = htmlEl("fieldset", { name: "turn_times", id: "slots-turns", class: "hours-rows" });
    const pacing = htmlEl("fieldset", { name: "pacing", id: "slots-pacing", class: "hours-rows" });
    const summary = htmlEl("p", { id: "slots-summary", class: "hours-summary", "aria-live": "polite" });
    slotsForm.append(
      htmlEl("h3", { text: "Time slots" }),
      basics,
      turns,
      pacing,
      slotsProblem,
      htmlEl("div", { class: "actions" },
        htmlEl("button", { type: "submit", class: "primary", text: "Save time slots" }),
        slotsMarker),
      htmlEl("h4", { text: "In plain words" }),
      summary,
    );

    section.append(title, loadProblem, htmlEl("div", { class: "hours-forms" }, hoursForm, slotsForm));
    return { loadProblem, hoursForm, week, hoursProblem, hoursMarker, copyMonday, slotsForm, slotsProblem, slotsMarker, basics, turns, pacing, summary };
  }

  // --- opening hours -------------------------------------------------------------------

  function renderWeek() {
    const { week } = built;
    week.replaceChildren(
      ...WEEKDAYS.map((day, d) => {
        const row = htmlEl("fieldset", { class: "hours-day", "data-day": day });
        row.append(htmlEl("legend", { text: DAY_NAMES[d] }));
        const list = htmlEl("div", { class: "hours-shifts" });
        if (!hours[day].length) list.append(htmlEl("p", { class: "hours-closed", text: "Closed" }));
        hours[day].forEach((shift, i) => list.append(shiftRow(day, d, shift, i)));
        const add = htmlEl("button", {
          type: "button", class: "hours-add", text: "+ Add shift", "aria-label": `Add a shift on ${DAY_NAMES[d]}`,
        });
        add.addEventListener("click", () => {
          const last = hours[day].at(-1);
          hours[day].push(last ? { open: last.close, close: last.close } : { open: "12:00", close: "22:00" });
          renderWeek();
          built.week.querySelector(`[name="${day}[${hours[day].length - 1}].open"]`)?.focus();
          changed();
        });
        row.append(list, add);
        return row;
      }),
    );
  }

  function shiftRow(day, d, shift, i) {
    const base = `hours-${day}-${i}`;
    const open = htmlEl("input", { type: "time", name: `${day}[${i}].open`, value: shift.open });
    const close = htmlEl("input", { type: "time", name: `${day}[${i}].close`, value: shift.close });
    const next = htmlEl("span", { class: "hours-next", text: "→ next day", hidden: !pastMidnight(shift) });
    const remove = htmlEl("button", {
      type: "button", class: "danger", text: "Remove", "aria-label": `Remove ${DAY_NAMES[d]}'s shift ${i + 1}`,
    });
    const sync = () => {
      shift.open = open.value;
      shift.close = close.value;
      next.hidden = !pastMidnight(shift);
      changed();
    };
    open.addEventListener("input", sync);
    close.addEventListener("input", sync);
    remove.addEventListener("click", () => {
      hours[day].splice(i, 1);
      renderWeek();
      (built.week.querySelector(`[data-day="${day}"] .hours-add`))?.focus();
      changed();
    });
    return htmlEl("div", { class: "hours-shift" },
      field(`${base}-open`, "Opens", open),
      field(`${base}-close`, "Closes", close),
      next,
      remove);
  }

  // --- time slots ----------------------------------------------------------------------

  function zones(current) {
    let names = [];
    try {
      names = Intl.supportedValuesOf("timeZone");
    } catch {
      names = [];
    }
    if (current && !names.includes(current)) names = [current, ...names];
    return names;
  }

  function renderSlots() {
    const { basics } = built;
    const zone = htmlEl("select", { name: "time_zone" },
      ...zones(slots.time_zone).map((z) => htmlEl("option", { value: z, text: z.replaceAll("_", " "), selected: z === slots.time_zone })));
    basics.replaceChildren(
      field("slots-interval", "Start times every (minutes)", numberInput("interval_minutes", slots.interval_minutes, 1, 240)),
      field("slots-buffer", "Table reset between parties (minutes)", numberInput("buffer_minutes", slots.buffer_minutes, 0, 240)),
      field("slots-lead", "Notice guests must give (minutes)", numberInput("min_lead_minutes", slots.min_lead_minutes, 0, 43200)),
      field("slots-ahead", "Guests may book up to (days ahead)", numberInput("max_days_ahead", slots.max_days_ahead, 0, 1098)),
      field("slots-zone", "The venue's time zone", zone),
    );
    renderTurns();
    renderPacing();
  }

  // The rows of the slot settings' lists (`turn_times`, `pacing`) are drawn by `render`
  // in the fieldset `box`, with a "+ Add" button `addId` below them.

  /** The "+ Add" button: a `fresh()` row at the end of the list, its `first` input focused. */
  function addRowButton(box, key, addId, text, fresh, first, render) {
    const add = htmlEl("button", { type: "button", id: addId, text });
    add.addEventListener("click", () => {
      slots[key].push(fresh());
      render();
      box.querySelector(`[name="${key}[${slots[key].length - 1}].${first}"]`)?.focus();
      changed();
    });
    return add;
  }

  /** Row `i`'s "Remove" button, named `label`: focus goes back to the "+ Add" button. */
  function removeRowButton(box, key, addId, i, label, render) {
    const remove = htmlEl("button", { type: "button", class: "danger", text: "Remove", "aria-label": label });
    remove.addEventListener("click", () => {
      slots[key].splice(i, 1);
      render();
      box.querySelector(`#${addId}`)?.focus();
      changed();
    });
    return remove;
  }

  function renderTurns() {
    const { turns } = built;
    const largest = () => Math.max(0, ...slots.turn_times.map((t) => t.max_party_size || 0));
    const fresh = () => ({ max_party_size: largest() + 2, minutes: 120 });
    const add = addRowButton(turns, "turn_times", "slots-add-turn", "+ Add turn time", fresh, "max_party_size", renderTurns);
    turns.replaceChildren(
      htmlEl("legend", { text: "Turn times: how long a party keeps its table" }),
      ...slots.turn_times.map((turn, i) => {
        const size = numberInput(`turn_times[${i}].max_party_size`, turn.max_party_size, 1, 1000);
        const minutes = numberInput(`turn_times[${i}].minutes`, turn.minutes, 1, 1440);
        for (const [input, key] of [[size, "max_party_size"], [minutes, "minutes"]]) {
          input.addEventListener("input", () => {
            turn[key] = integer(input.value);
            changed();
          });
        }
        const remove = removeRowButton(turns, "turn_times", "slots-add-turn", i, `Remove turn time ${i + 1}`, renderTurns);
        return htmlEl("div", { class: "hours-row" },
          field(`slots-turn-${i}-size`, "Parties up to (guests)", size),
          field(`slots-turn-${i}-minutes`, "stay (minutes)", minutes),
          remove);
      }),
      add,
    );
  }

  function renderPacing() {
    const { pacing } = built;
    const fresh = () => ({ per_minutes: 30, max_covers: 20 });
    const add = addRowButton(pacing, "pacing", "slots-add-pacing", "+ Add pacing rule", fresh, "weekday", renderPacing);
    pacing.replaceChildren(
      htmlEl("legend", { text: "Pacing: how many guests may arrive together" }),
      ...(slots.pacing.length ? [] : [htmlEl("p", { class: "hint", text: "No pacing: any number of guests may arrive at once, as tables allow." })]),
      ...slots.pacing.map((rule, i) => {
        const p = `pacing[${i}]`;
        const weekday = htmlEl("select", { name: `${p}.weekday` },
          htmlEl("option", { value: "", text: "Every day", selected: !rule.weekday }),
          ...WEEKDAYS.map((day, d) => htmlEl("option", { value: day, text: DAY_NAMES[d], selected: rule.weekday === day })));
        const from = htmlEl("input", { type: "time", name: `${p}.from`, value: rule.from ?? "" });
        const to = htmlEl("input", { type: "time", name: `${p}.to`, value: rule.to ?? "" });
        const per = numberInput(`${p}.per_minutes`, rule.per_minutes, 5, 1440);
        const covers = numberInput(`${p}.max_covers`, rule.max_covers, 1, 100000);
        const parties = numberInput(`${p}.max_bookings`, rule.max_bookings, 1, 100000);
        const read = {
          weekday: () => weekday.value || null,
          from: () => from.value || null,
          to: () => to.value || null,
          per_minutes: () => integer(per.value),
          max_covers: () => integer(covers.value),
          max_bookings: () => integer(parties.value),
        };
        const inputs = { weekday, from, to, per_minutes: per, max_covers: covers, max_bookings: parties };
        for (const [key, input] of Object.entries(inputs)) {
          input.addEventListener(input.tagName === "SELECT" ? "change" : "input", () => {
            rule[key] = read[key]();
            changed();
          });
        }
        const remove = removeRowButton(pacing, "pacing", "slots-add-pacing", i, `Remove pacing rule ${i + 1}`, renderPacing);
        const id = `slots-pacing-${i}`;
        return htmlEl("div", { class: "hours-row hours-pacing-rule" },
          field(`${id}-weekday`, "On", weekday),
          field(`${id}-from`, "From (empty: opening)", from),
          field(`${id}-to`, "To (empty: close)", to),
          field(`${id}-covers`, "At most guests", covers),
          field(`${id}-parties`, "At most parties", parties),
          field(`${id}-window`, "In any (minutes)", per),
          remove);
      }),
      add,
    );
  }

  /** The slot settings as the API takes them: turn times sorted, empty limits left out. */
  function slotsBody() {
    const form = built.slotsForm;
    const value = (name) => form.elements.namedItem(name).value;
    return {
      interval_minutes: integer(value("interval_minutes")),
      turn_times: slots.turn_times.map((t) => ({ max_party_size: t.max_party_size, minutes: t.minutes })),
      buffer_minutes: integer(value("buffer_minutes")),
      min_lead_minutes: integer(value("min_lead_minutes")),
      max_days_ahead: integer(value("max_days_ahead")),
      time_zone: value("time_zone"),
      pacing: slots.pacing.map((rule) => {
        const out = { per_minutes: rule.per_minutes };
        for (const key of ["weekday", "from", "to", "max_covers", "max_bookings"]) {
          if (rule[key] !== null && rule[key] !== undefined && rule[key] !== "") out[key] = rule[key];
        }
        return out;
      }),
    };
  }

  function sortTurns() {
    slots.turn_times.sort((a, b) => (a.max_party_size ?? Infinity) - (b.max_party_size ?? Infinity));
  }

  // --- unsaved changes -----------------------------------------------------------------

  const hoursDirty = () => built && JSON.stringify(hours) !== savedHours;
  const slotsDirty = () => built && slots && JSON.stringify(slotsBody()) !== savedSlots;
  let discarded = false; // the user chose to leave without saving: the edits no longer count
  const dirty = () => Boolean(shown && !discarded && (hoursDirty() || slotsDirty()));

  function mark(marker, state) {
    marker.dataset.state = state;
    marker.textContent = { unsaved: "● Unsaved changes", saved: "✓ Saved" }[state] ?? "";
  }

  function changed() {
    mark(built.hoursMarker, hoursDirty() ? "unsaved" : "");
    mark(built.slotsMarker, slotsDirty() ? "unsaved" : "");
    if (slots) built.summary.textContent = summarise(slotsBody());
  }

  /** Ask whether to leave with unsaved changes; true to leave. The dialog is the page's,
   * outside the section: it may ask after the section is hidden. */
  const askToLeave = () =>
    confirmAction({
      title: "Leave without saving?",
      detail: "Your changes to the opening hours or time slots are not saved yet.",
      confirm: "Leave without saving",
      keep: "Stay and keep editing",
    });

  // The shell moves away on a click in the navigation, a change of venue or Sign out:
  // these listeners run first (capture, on the document) and hold each back while there
  // are unsaved changes, then let it go through again if the user chooses to leave.
  async function holdBack(event, goAgain, stayPut = () => {}) {
    if (!dirty()) return;
    event.stopPropagation();
    event.preventDefault();
    if (!(await askToLeave())) {
      stayPut();
      return;
    }
    discarded = true;
    goAgain();
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target?.closest("#nav button, #sign-out");
    if (!shown || !button || button.dataset.screen === "hours") return;
    holdBack(event, () => button.click());
  }, { capture: true });
  document.addEventListener("change", (event) => {
    if (!shown || event.target?.id !== "venue") return;
    const picker = event.target;
    const chosen = picker.value;
    holdBack(
      event,
      () => {
        picker.value = chosen;
        picker.dispatchEvent(new Event("change", { bubbles: true }));
      },
      () => {
        picker.value = venue.id;
      },
    );
  }, { capture: true });
  // Any other way away (the browser's Back, a search) has already moved on when the
  // shell hides this screen: ask then, and come back with the edits kept to stay.
  let keepEdits = false;
  async function askAfterLeaving() {
    if (await askToLeave()) return;
    keepEdits = true;
    location.hash = "hours";
  }
  window.addEventListener("beforeunload", (event) => {
    if (dirty()) event.preventDefault();
  });

  // --- loading and saving --------------------------------------------------------------

  async function load() {
    const { loadProblem } = built;
    showProblem(loadProblem, null);
    try {
      const [week, settings] = await Promise.all([
        api("GET", "/api/v1/admin/operating-hours", { consistency: token }),
        api("GET", "/api/v1/admin/time-slots", { consistency: token }),
      ]);
      setHours(week.data);
      setSlots(settings.data);
    } catch (error) {
      showProblem(loadProblem, error, "Could not load the hours:");
    }
  }

  function setHours(data) {
    hours = Object.fromEntries(WEEKDAYS.map((day) => [day, (data?.[day] ?? []).map((s) => ({ open: s.open, close: s.close }))]));
    savedHours = JSON.stringify(hours);
    clearFieldErrors(built.hoursForm);
    showProblem(built.hoursProblem, null);
    renderWeek();
    changed();
  }

  function setSlots(data) {
    slots = {
      ...data,
      turn_times: data.turn_times.map((t) => ({ ...t })),
      pacing: (data.pacing ?? []).map((rule) => ({ ...rule })),
    };
    sortTurns();
    clearFieldErrors(built.slotsForm);
    showProblem(built.slotsProblem, null);
    renderSlots();
    savedSlots = JSON.stringify(slotsBody());
    changed();
  }

  /** Save one form whole: PUT what `body()` gives to `path` (the form's button held
   * meanwhile), then `saved(data)`; a refusal is shown beside the form, its first field
   * at fault focused. */
  async function saveWhole(form, box, path, body, saved) {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const sent = await api("PUT", path, { body: body(), write: true });
      token = sent.consistency;
      saved(sent.data);
    } catch (error) {
      refused(form, box, error, "Not saved:");
      if (error instanceof ApiError) form.querySelector("[aria-invalid=true]")?.focus();
    } finally {
      button.disabled = false;
    }
  }

  async function saveHours(event) {
    event.preventDefault();
    const { hoursForm, hoursProblem } = built;
    await saveWhole(hoursForm, hoursProblem, "/api/v1/admin/operating-hours", () => hours, (data) => {
      setHours(data);
      mark(built.hoursMarker, "saved");
    });
  }

  async function saveSlots(event) {
    event.preventDefault();
    const { slotsForm, slotsProblem } = built;
    // Sorted before sending, so the API's `turn_times[i]` is the row shown i-th.
    sortTurns();
    renderTurns();
    await saveWhole(slotsForm, slotsProblem, "/api/v1/admin/time-slots", slotsBody, (data) => {
      setSlots(data);
      if (venue.zone !== data.time_zone) venue.zone = data.time_zone;
      mark(built.slotsMarker, "saved");
    });
  }

  function wire() {
    const { hoursForm, slotsForm, copyMonday } = built;
    hoursForm.addEventListener("submit", saveHours);
    slotsForm.addEventListener("submit", saveSlots);
    slotsForm.addEventListener("input", () => changed());
    slotsForm.addEventListener("change", () => changed());
    copyMonday.addEventListener("click", () => {
      for (const day of WEEKDAYS.slice(1)) hours[day] = hours.monday.map((s) => ({ ...s }));
      renderWeek();
      changed();
    });
    // Ctrl+S (⌘S) saves the form being edited.
    section.addEventListener("keydown", (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "s") return;
      const form = event.target instanceof Element ? event.target.closest("form") : null;
      if (form === hoursForm || form === slotsForm) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  return {
    async show() {
      if (!built) {
        built = build();
        wire();
      }
      shown = true;
      discarded = false;
      if (keepEdits) {
        keepEdits = false; // back after "Stay and keep editing": the edits are as they were
        return;
      }
      await load();
    },
    hide() {
      const unsaved = dirty();
      shown = false;
      // Signed out (the session ended): the edits are gone with it, there is no screen
      // to come back to.
      if (unsaved && session.token) askAfterLeaving();
    },
  };
}
