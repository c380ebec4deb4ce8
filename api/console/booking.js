// One booking in full, over whatever screen asked for it: the guest and how to reach
// them, the special requests first, what their earlier bookings here say, the booking's
// history (who did what, overrides and their reasons), an edit form, a move to another
// table, the evening's steps that apply to its status, and the guest's profile (tags and
// notes, which admins and managers edit here). Any screen opens it with
//   document.dispatchEvent(new CustomEvent("tablebook:open-booking", {detail: {id}}))
// and every write it makes is announced with "tablebook:booking-changed".

import { ApiError, all, api, showProblem, venue, venueNow, withOverride } from "./api.js";
import { confirmAction } from "./confirm.js";
import { clearFieldErrors, refused } from "./forms.js";
import { htmlEl } from "./svg.js";

export const STATUS_TEXT = {
  confirmed: "◐ confirmed",
  seated: "● seated",
  completed: "✓ completed",
  cancelled: "✕ cancelled",
  no_show: "⊘ no-show",
};

const EVENT_TEXT = {
  BookingPlaced: "Booked",
  BookingChanged: "Changed",
  BookingCancelled: "Cancelled",
  BookingSeated: "Seated",
  BookingCompleted: "Completed",
  BookingMarkedNoShow: "Marked a no-show",
  BookingNoShow: "Marked a no-show",
};

// The fields the edit form shows, as the API names them.
const EDITABLE = ["party_size", "date", "time", "guest_name", "guest_phone", "guest_email", "special_requests"];
const TABLE_FIELDS = { table_id: "table_ids", table_ids: "table_ids" };

const sourceText = (source) => String(source || "").replace("_", "-");

/** A date as a host reads it: "Sat 12 Dec 2026". */
export function longDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.toLocaleDateString("en-GB", {
    weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });
}

/** Tell the screens a booking changed (they read again; `consistency` is the write's
 * token, so their read sees it; `from` names the screen that wrote, which has read). */
export function announce(booking, consistency = null, from = "booking") {
  document.dispatchEvent(new CustomEvent("tablebook:booking-changed", { detail: { booking, consistency, from } }));
}

/** The confirmation of each irreversible step, naming the guest and the time. */
export function confirmStep(step, booking) {
  const who = `${booking.guest_name}, party of ${booking.party_size}, ${longDate(booking.date)} at ${booking.time}`;
  const asks = {
    cancel: { title: "Cancel this booking?", confirm: "Cancel booking", detail: `${who}. The guest is told; this cannot be undone.` },
    "no-show": { title: "Mark a no-show?", confirm: "Mark no-show", detail: `${who}. The tables are freed; this cannot be undone.` },
    complete: { title: "Complete this visit?", confirm: "Complete", detail: `${who}. The party has left; this cannot be undone.` },
  };
  return confirmAction(asks[step]);
}

/** The request of each step of the evening. */
export function stepRequest(step, booking) {
  if (step === "cancel") return ["DELETE", `/api/v1/bookings/${booking.id}`];
  return ["POST", `/api/v1/admin/bookings/${booking.id}/${step}`];
}

/** The steps a booking's status allows, in the order a host takes them. */
export function stepsFor(status) {
  if (status === "confirmed") return ["seat", "no-show", "cancel"];
  if (status === "seated") return ["complete"];
  return [];
}

export const STEP_LABEL = { seat: "Seat", complete: "Complete", "no-show": "No-show", cancel: "Cancel" };

/** Take a step (asking first when it cannot be undone, and for a reason when a rule must
 * be set aside): answers the write, or null when the host declined. */
export async function takeStep(step, booking) {
  if (step !== "seat" && !(await confirmStep(step, booking))) return null;
  const [method, path] = stepRequest(step, booking);
  return withOverride(
    (extra) => api(method, path, { write: true, body: Object.keys(extra).length ? extra : undefined }),
    `Override and ${STEP_LABEL[step].toLowerCase()}`,
  );
}

/**
 * Set up the booking detail: one dialog for the page, opened by "tablebook:open-booking".
 * `ctx.user()` is the signed-in user (their own writes read "you" in the history).
 */
export function initBookingDetail(ctx) {
  const state = { booking: null, tables: new Map(), tablesOf: null, staff: null, consistency: null, guestConsistency: null, opener: null };
  const dialog = build();
  const $ = (id) => dialog.querySelector(`#${id}`);
  const problem = $("bd-problem");
  const form = $("bd-edit-form");

  function build() {
    const node = htmlEl("dialog", { id: "booking-dialog", class: "booking-dialog", "aria-labelledby": "bd-title" });
    node.innerHTML = `
      <div class="bd-head">
        <h2 id="bd-title">Booking</h2>
        <button type="button" id="bd-close" aria-label="Close the booking">✕ Close</button>
      </div>
      <p class="bd-summary" id="bd-summary"></p>
      <div class="bd-requests" id="bd-requests" hidden></div>
      <dl class="bd-contact" id="bd-contact"></dl>
      <div class="problem" role="alert" id="bd-problem" hidden></div>
      <p class="status" role="status" id="bd-status"></p>
      <div class="actions" id="bd-steps"></div>
      <form id="bd-move-form" class="bd-move" novalidate>
        <label for="bd-move-table">Move to table</label>
        <div class="bd-inline">
          <select id="bd-move-table" name="table"></select>
          <button type="submit">Move</button>
        </div>
      </form>
      <details class="bd-edit" id="bd-edit">
        <summary>Edit booking</summary>
        <form id="bd-edit-form" novalidate>
          <div class="pair">
            <div><label for="bd-party">Party size</label>
              <input id="bd-party" name="party_size" type="number" min="1" max="100" inputmode="numeric"></div>
            <div><label for="bd-date">Date</label><input id="bd-date" name="date" type="date"></div>
            <div><label for="bd-time">Time</label><input id="bd-time" name="time" type="time" step="60"></div>
          </div>
          <label for="bd-tables">Table</label>
          <select id="bd-tables" name="table_ids"></select>
          <label for="bd-name">Guest name</label>
          <input id="bd-name" name="guest_name" maxlength="200" autocomplete="off">
          <div class="pair">
            <div><label for="bd-phone">Phone</label><input id="bd-phone" name="guest_phone" type="tel" autocomplete="off"></div>
            <div><label for="bd-email">Email</label><input id="bd-email" name="guest_email" type="email" autocomplete="off"></div>
          </div>
          <label for="bd-requests-input">Special requests</label>
          <textarea id="bd-requests-input" name="special_requests" rows="2" maxlength="2000"></textarea>
          <div class="problem" role="alert" id="bd-edit-problem" hidden></div>
          <div class="actions"><button type="submit" class="primary">Save changes</button></div>
        </form>
      </details>
      <section class="bd-guest" aria-labelledby="bd-guest-title">
        <h3 id="bd-guest-title">The guest here before</h3>
        <div id="bd-guest"></div>
      </section>
      <section class="bd-history" aria-labelledby="bd-history-title">
        <h3 id="bd-history-title">History</h3>
        <ol id="bd-history"></ol>
      </section>`;
    document.body.append(node);
    return node;
  }

  const say = (text) => {
    $("bd-status").textContent = text;
  };
  const tableName = (id) => state.tables.get(id)?.name ?? id;
  const tablesText = (ids) => (ids?.length ? ids.map(tableName).join(" + ") : "no table yet");

  async function loadTables() {
    if (state.tablesOf === venue.id) return;
    const tables = await all("/api/v1/admin/tables");
    state.tables = new Map(tables.map((t) => [t.id, t]));
    state.tablesOf = venue.id;
    state.staff = null;
  }

  /** The tables a party of `size` fits at, by name. */
  function fitting(size) {
    return [...state.tables.values()]
      .filter((t) => !t.retired && t.capacity >= size && (t.min_capacity ?? 1) <= size)
      .sort((a, b) => a.capacity - b.capacity || a.name.localeCompare(b.name));
  }

  // --- showing ---------------------------------------------------------------------

  function render() {
    const b = state.booking;
    $("bd-title").textContent = b.guest_name;
    $("bd-summary").replaceChildren(
      htmlEl("span", { class: `bd-status st-${b.status}`, text: STATUS_TEXT[b.status] ?? b.status }),
      ` · party of ${b.party_size} · ${longDate(b.date)}, ${b.time}–${b.end_time} · ${tablesText(b.table_ids)} · ${sourceText(b.source)}`,
    );
    const requests = $("bd-requests");
    requests.hidden = !b.special_requests;
    requests.replaceChildren(
      htmlEl("strong", { text: "⚑ Special requests: " }),
      htmlEl("span", { text: b.special_requests ?? "" }),
    );
    const contact = [];
    const item = (term, ...value) => contact.push(htmlEl("dt", { text: term }), htmlEl("dd", {}, ...value));
    item("Phone", b.guest_phone ? htmlEl("a", { href: `tel:${b.guest_phone.replace(/[^+0-9]/g, "")}`, text: `☎ ${b.guest_phone}` }) : "—");
    item("Email", b.guest_email ? htmlEl("a", { href: `mailto:${b.guest_email}`, text: `✉ ${b.guest_email}` }) : "—");
    $("bd-contact").replaceChildren(...contact);
    renderSteps();
    renderMove();
    fillForm();
    $("bd-edit").hidden = false;
  }

  function renderSteps() {
    const b = state.booking;
    const box = $("bd-steps");
    box.replaceChildren(
      ...stepsFor(b.status).map((step) => {
        const button = htmlEl("button", {
          type: "button",
          class: step === "seat" || step === "complete" ? "primary" : "danger",
          "data-step": step,
          text: STEP_LABEL[step],
        });
        button.addEventListener("click", () => act(step, button));
        return button;
      }),
    );
    if (!box.childElementCount) box.append(htmlEl("p", { class: "hint", text: `Nothing more to do: this booking is ${sourceText(b.status)}.` }));
  }

  function renderMove() {
    const b = state.booking;
    const moveForm = $("bd-move-form");
    moveForm.hidden = !["confirmed", "seated"].includes(b.status);
    const options = fitting(b.party_size)
      .filter((t) => !(b.table_ids.length === 1 && b.table_ids[0] === t.id))
      .map((t) => htmlEl("option", { value: t.id, text: `${t.name} (${t.capacity} seats)` }));
    const select = $("bd-move-table");
    select.replaceChildren(...options);
    moveForm.querySelector("button").disabled = !options.length;
    if (!options.length) select.append(htmlEl("option", { value: "", text: "no other table fits this party" }));
  }

  function fillForm() {
    const b = state.booking;
    clearFieldErrors(form);
    showProblem($("bd-edit-problem"), null);
    for (const name of EDITABLE) form.elements.namedItem(name).value = b[name] ?? "";
    const current = b.table_ids.join(",");
    const select = form.elements.namedItem("table_ids");
    const options = [htmlEl("option", { value: current, text: `${tablesText(b.table_ids)} (as booked)` })];
    for (const t of fitting(b.party_size)) {
      if (t.id !== current) options.push(htmlEl("option", { value: t.id, text: `${t.name} (${t.capacity} seats)` }));
    }
    select.replaceChildren(...options);
    select.value = current;
  }

  /** Who the guest is: their profile (what their bookings here add up to, the tags and
   * notes staff keep; admins and managers edit them here), or, for a booking that names
   * no profile, what their other bookings here found by email or phone say. */
  async function renderGuest() {
    const b = state.booking;
    const { data } = await api("GET", `/api/v1/admin/guests?booking_id=${encodeURIComponent(b.id)}`, {
      consistency: state.consistency,
    });
    if (state.booking !== b) return; // another booking was opened meanwhile
    if (data.items.length) {
      await renderProfile(data.items[0].id);
      return;
    }
    await renderFromBookings();
  }

  async function renderProfile(guestId) {
    const box = $("bd-guest");
    const { data: g } = await api("GET", `/api/v1/admin/guests/${encodeURIComponent(guestId)}`, {
      consistency: state.guestConsistency ?? state.consistency,
    });
    $("bd-guest-title").textContent = "Guest profile";
    const facts = [
      ["Visits", `${g.visits} (${g.covers} cover${g.covers === 1 ? "" : "s"})`],
      ["No-shows", String(g.no_shows)],
      ["Cancellations", String(g.cancellations)],
      ["First visit", g.first_visit ? longDate(g.first_visit) : "none yet"],
      ["Last visit", g.last_visit ? longDate(g.last_visit) : "none yet"],
    ];
    const tags = htmlEl(
      "ul",
      { class: "bd-tags", id: "bd-guest-tags", "aria-label": "Tags" },
      ...g.tags.map((tag) => htmlEl("li", { class: "bd-tag", text: tag })),
    );
    const parts = [
      g.tags.length ? tags : htmlEl("p", { class: "hint", id: "bd-guest-tags", text: "No tags." }),
      htmlEl("dl", { class: "bd-facts" }, ...facts.flatMap(([term, value]) => [htmlEl("dt", { text: term }), htmlEl("dd", { text: value })])),
    ];
    if (g.notes) parts.push(htmlEl("p", { class: "bd-guest-notes", id: "bd-guest-notes", text: g.notes }));
    if (["admin", "manager"].includes(ctx.role?.())) parts.push(profileForm(g));
    box.replaceChildren(...parts);
  }

  /** Tags and notes, for admins and managers: the whole list and text, with If-Match. */
  function profileForm(g) {
    const form = htmlEl("form", { class: "bd-guest-form", id: "bd-guest-form", novalidate: true });
    form.innerHTML = `
      <details>
        <summary>Edit tags &amp; notes</summary>
        <label for="bd-guest-tags-input">Tags, separated by commas</label>
        <input id="bd-guest-tags-input" name="tags" autocomplete="off" placeholder="VIP, allergy: nuts">
        <label for="bd-guest-notes-input">Notes</label>
        <textarea id="bd-guest-notes-input" name="notes" rows="3" maxlength="2000"></textarea>
        <div class="problem" role="alert" id="bd-guest-problem" hidden></div>
        <div class="actions"><button type="submit" class="primary">Save guest</button></div>
      </details>`;
    form.elements.namedItem("tags").value = g.tags.join(", ");
    form.elements.namedItem("notes").value = g.notes ?? "";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = form.querySelector("#bd-guest-problem");
      clearFieldErrors(form);
      showProblem(box, null);
      const tags = form.elements.namedItem("tags").value.split(",").map((t) => t.trim()).filter(Boolean);
      const notes = form.elements.namedItem("notes").value.trim() || null;
      try {
        const made = await api("PATCH", `/api/v1/admin/guests/${encodeURIComponent(g.id)}`, {
          write: true,
          ifMatch: g.version,
          body: { tags, notes },
        });
        state.guestConsistency = made.consistency;
        say("Guest profile saved.");
        await renderProfile(g.id);
      } catch (error) {
        const names = Object.fromEntries(tags.map((_, i) => [`tags[${i}]`, "tags"]));
        refused(form, box, error, "Could not save the guest:", names);
      }
    });
    return form;
  }

  async function renderFromBookings() {
    const b = state.booking;
    const box = $("bd-guest");
    $("bd-guest-title").textContent = "The guest here before";
    const keys = [b.guest_email, b.guest_phone].filter(Boolean);
    const key = keys.join(" or ");
    if (!keys.length) {
      box.replaceChildren(htmlEl("p", { class: "hint", text: "No phone or email on this booking to find the guest's other bookings by." }));
      return;
    }
    box.replaceChildren(htmlEl("p", { class: "hint", text: "Looking up their other bookings…" }));
    const found = await Promise.all(
      keys.map((k) => all(`/api/v1/admin/bookings?q=${encodeURIComponent(k)}`, { consistency: state.consistency })),
    );
    // The search matches within names, emails and numbers; the guest is the one with this
    // very email (any case) or this very number (its digits, however written).
    const digits = (text) => String(text || "").replace(/\D/g, "");
    const same = (o) =>
      (b.guest_email && o.guest_email?.toLowerCase() === b.guest_email.toLowerCase()) ||
      (b.guest_phone && digits(o.guest_phone) !== "" && digits(o.guest_phone) === digits(b.guest_phone));
    const byId = new Map(found.flat().filter(same).map((o) => [o.id, o]));
    byId.delete(b.id);
    const others = [...byId.values()];
    const count = (status) => others.filter((o) => o.status === status).length;
    const visits = others.filter((o) => o.status === "completed").map((o) => o.date).sort();
    const today = venueNow().date;
    const upcoming = others.filter((o) => o.status === "confirmed" && o.date >= today).length;
    const facts = [
      ["Visits", String(visits.length)],
      ["No-shows", String(count("no_show"))],
      ["Cancellations", String(count("cancelled"))],
      ["Last visit", visits.length ? longDate(visits.at(-1)) : "none yet"],
      ["Other upcoming", String(upcoming)],
    ];
    box.replaceChildren(
      htmlEl("dl", { class: "bd-facts" }, ...facts.flatMap(([term, value]) => [htmlEl("dt", { text: term }), htmlEl("dd", { text: value })])),
      htmlEl("p", { class: "hint", text: `From ${others.length} other booking${others.length === 1 ? "" : "s"} here with ${key}: this booking names no guest profile.` }),
    );
  }

  /** Who a user id is, as far as this user may know: "you", a member of the venue's staff
   * by name (for managers, who may list them), or the guest who booked. */
  async function whoIs(id) {
    if (!id) return "the system";
    const me = ctx.user();
    if (me && id === me.id) return `${me.full_name || me.email} (you)`;
    if (id === state.booking.user_id && state.booking.source === "online") return "the guest";
    if (state.staff === null && ctx.role?.() === "host") state.staff = new Map(); // hosts may not list the staff
    if (state.staff === null) {
      try {
        const { data } = await api("GET", `/api/v1/admin/venues/${encodeURIComponent(venue.id)}/staff`);
        state.staff = new Map(data.map((m) => [m.user_id, m.full_name || m.email]));
      } catch (error) {
        if (!(error instanceof ApiError) || ![403, 404].includes(error.status)) throw error;
        state.staff = new Map(); // not allowed to list the staff: ids stand for them
      }
    }
    return state.staff.get(id) ?? `user ${id.slice(0, 12)}…`;
  }

  function whatChanged(entry) {
    const d = entry.data ?? {};
    const parts = [];
    if (entry.type === "BookingPlaced" || entry.type === "BookingChanged") {
      parts.push(`party of ${d.party_size}, ${d.date} at ${String(d.time).slice(0, 5)}, ${tablesText(d.table_ids)}`);
    }
    if (d.reason) parts.push(`reason: ${d.reason}`);
    return parts.join("; ");
  }

  async function renderHistory() {
    const { data } = await api("GET", `/api/v1/bookings/${state.booking.id}/history`);
    const rows = [];
    for (const entry of data) {
      const at = venueNow(new Date(entry.at));
      const by = await whoIs(entry.data?.override?.given_by ?? entry.by);
      const what = EVENT_TEXT[entry.type] ?? entry.type;
      const line = htmlEl(
        "li",
        { "data-type": entry.type },
        htmlEl("time", { datetime: entry.at, text: `${longDate(at.date)} ${at.time}` }),
        ` ${what} by ${by}`,
      );
      const changed = whatChanged(entry);
      if (changed) line.append(htmlEl("span", { class: "hint", text: ` — ${changed}` }));
      if (entry.data?.override?.reason) {
        line.append(htmlEl("p", { class: "bd-override", text: `⚠ Override: ${entry.data.override.reason}` }));
      }
      rows.push(line);
    }
    $("bd-history").replaceChildren(...rows);
  }

  async function load(id) {
    await loadTables();
    const { data } = await api("GET", `/api/v1/admin/bookings/${encodeURIComponent(id)}`, { consistency: state.consistency });
    state.booking = data;
    render();
    await Promise.all([renderHistory(), renderGuest()]);
  }

  /** Nothing of the booking shown before stays while another loads. */
  function blank() {
    state.booking = null;
    $("bd-title").textContent = "Loading the booking…";
    for (const id of ["bd-summary", "bd-contact", "bd-steps", "bd-move-table", "bd-guest", "bd-history"]) {
      $(id).replaceChildren();
    }
    $("bd-requests").hidden = true;
    $("bd-move-form").hidden = true;
    $("bd-edit").hidden = true;
  }

  async function open(id) {
    showProblem(problem, null);
    say("");
    state.consistency = null;
    state.guestConsistency = null;
    $("bd-edit").open = false;
    blank();
    if (!dialog.open) {
      state.opener = document.activeElement; // focus goes back there when the panel closes
      dialog.showModal();
    }
    $("bd-close").focus();
    try {
      await load(id);
    } catch (error) {
      showProblem(problem, error, "Could not show the booking:");
    }
  }

  // --- writing ---------------------------------------------------------------------

  /** After a write: show the booking as it is now, tell the other screens. */
  async function wrote(made, message) {
    state.consistency = made.consistency;
    state.booking = made.data;
    render();
    say(message);
    showProblem(problem, null);
    announce(made.data, made.consistency);
    await Promise.all([renderHistory(), renderGuest()]);
  }

  const stale = (error) => error instanceof ApiError && (error.status === 412 || error.type.endsWith("/stale-version"));

  /** Someone changed the booking since it was shown: show it as it is now, and say so. */
  async function reloadStale(box) {
    // The write that beat ours may not be in the read model yet: read until it is.
    const seen = state.booking.version;
    for (let tries = 0; tries < 20; tries += 1) {
      await load(state.booking.id);
      if (state.booking.version > seen) break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    showProblem(box, new Error("Someone else changed this booking meanwhile; it is shown as it is now. Make your change again."), "Not saved:");
  }

  async function act(step, button) {
    button.disabled = true;
    try {
      const made = await takeStep(step, state.booking);
      if (made) await wrote(made, `${made.data.guest_name}: ${STATUS_TEXT[made.data.status] ?? made.data.status}.`);
    } catch (error) {
      showProblem(problem, error);
    } finally {
      button.disabled = false;
    }
  }

  /** A change of the booking, re-decided by the API like a new one. */
  async function change(body, box, onRefused) {
    const b = state.booking;
    try {
      const made = await withOverride(
        (extra) => api("PUT", `/api/v1/bookings/${b.id}`, { body: { ...body, ...extra }, ifMatch: b.version, write: true }),
        "Override and save",
      );
      return made;
    } catch (error) {
      if (stale(error)) await reloadStale(box);
      else onRefused(error);
      return null;
    }
  }

  $("bd-move-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const tableId = $("bd-move-table").value;
    if (!tableId) return;
    const made = await change({ table_ids: [tableId] }, problem, (error) => showProblem(problem, error, "Not moved:"));
    if (made) await wrote(made, `Moved to ${tablesText(made.data.table_ids)}.`);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("bd-edit-problem");
    clearFieldErrors(form);
    showProblem(box, null);
    const b = state.booking;
    const body = {};
    for (const name of EDITABLE) {
      const raw = String(form.elements.namedItem(name).value ?? "").trim();
      const value = name === "party_size" ? Number(raw) : raw;
      const was = b[name] ?? "";
      if (value === was) continue;
      // Emptied contact details and requests are taken off the booking.
      body[name] = value === "" && ["guest_phone", "guest_email", "special_requests"].includes(name) ? null : value;
    }
    const tables = form.elements.namedItem("table_ids").value;
    if (tables && tables !== b.table_ids.join(",")) body.table_ids = tables.split(",");
    if (!Object.keys(body).length) {
      showProblem(box, new Error("Nothing was changed."), "Not saved:");
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const made = await change(body, box, (error) => refused(form, box, error, "Not saved:", TABLE_FIELDS));
      if (made) {
        await wrote(made, "Saved.");
        $("bd-edit").open = false;
      }
    } finally {
      submit.disabled = false;
    }
  });

  $("bd-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    const opener = state.opener;
    state.opener = null;
    if (opener instanceof Element && opener.isConnected && typeof opener.focus === "function") opener.focus();
  });
  // A click on the backdrop (outside the dialog's box) closes it, as Escape does.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
    if (!inside) dialog.close();
  });

  document.addEventListener("tablebook:open-booking", (event) => {
    const id = event.detail?.id;
    if (id) open(id);
  });
}
