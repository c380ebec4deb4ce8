// The waitlist at the host stand: the parties waiting for a table tonight, in order, with
// the wait they were quoted (re-quoted by the server on every read) and how long they
// have waited so far; add a party, tell them their table is ready, seat them (a seated
// walk-in, leaving the list in the same step), or take them off the list with a reason.

import { ApiError, api, askReason, sentence, serverNow, showProblem, withOverride } from "./api.js";
import { checkedHere, clearFieldErrors, refused } from "./forms.js";
import { htmlEl } from "./svg.js";

const $ = (id) => document.getElementById(id);
// How often the list is read again while the floor is shown: quotes and waits move.
// (A tab may ask for another pace with `tablebook.waitlistRefreshMs` in its session.)
const REFRESH_MS = Number(sessionStorage.getItem("tablebook.waitlistRefreshMs")) || 30000;

/** "25 min", "1 h 05" */
function duration(minutes) {
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")}`;
}

/** A quote: "~25 min", "now", or "—" when no table seats the party. */
function quoted(minutes) {
  if (minutes === null || minutes === undefined) return "—";
  return minutes <= 0 ? "now" : `~${duration(minutes)}`;
}

/**
 * `floor` gives the tables chosen for seating (`tableIds()`), the consistency token of the
 * last write (`consistency()`, `wrote(token)`), and `seated(booking)` to show a party
 * seated from the list on the floor.
 */
export function createWaitlist(floor) {
  const box = $("waitlist-entries");
  const problem = $("waitlist-problem");
  const form = $("waitlist-form");
  const state = { entries: [], timer: null, shown: false, loading: null, loadFailed: false };

  async function load() {
    // No date: the server's service day now, which past midnight in a late shift is
    // still the evening's (the venue's calendar date is already the next day's).
    const options = { consistency: floor.consistency() };
    const { data } = await api("GET", "/api/v1/admin/waitlist", options);
    const items = Array.isArray(data) ? data : data?.entries || data?.items || [];
    state.entries = items
      .filter((e) => !e.status || e.status === "waiting" || e.status === "notified")
      .sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  }

  // What a row shows but the minutes waited: a row whose look this leaves unchanged is
  // kept as it is, buttons and all, so a refresh never swaps a button under a host's tap.
  const looks = (e) =>
    JSON.stringify([e.id, e.status, e.position, e.party_size, e.guest_name, e.notes, e.quoted_wait_minutes]);

  function row(e) {
    const actions = htmlEl("td", { class: "actions" });
    const step = (label, handler) => {
      const button = htmlEl("button", {
        type: "button",
        text: label,
        "aria-label": `${label}: ${e.guest_name}, party of ${e.party_size}`,
      });
      button.addEventListener("click", () => handler(button));
      actions.append(button);
    };
    step(e.status === "notified" ? "Notify again" : "Notify", (b) => notify(b, e));
    step("Seat", (b) => seat(b, e));
    step("Remove", (b) => remove(b, e));
    const name = htmlEl("td", { class: "wl-name" }, e.guest_name);
    if (e.status === "notified") name.append(htmlEl("span", { class: "badge", text: " notified" }));
    if (e.notes) name.append(htmlEl("span", { class: "source", text: ` · ${e.notes}` }));
    const tr = htmlEl(
      "tr",
      { "data-entry-id": e.id, class: `wl-${e.status || "waiting"}` },
      htmlEl("td", { class: "wl-position", text: String(e.position ?? "") }),
      htmlEl("td", { class: "wl-party", text: String(e.party_size) }),
      name,
      htmlEl("td", { class: "wl-quoted", text: quoted(e.quoted_wait_minutes) }),
      htmlEl("td", { class: "wl-waited" }),
      actions,
    );
    tr.dataset.looks = looks(e);
    return tr;
  }

  /** The list's table, made once and kept while anybody is waiting. */
  function table() {
    let body = box.querySelector("tbody");
    if (body) return body;
    const head = htmlEl(
      "tr",
      {},
      ...["#", "Party", "Name", "Quoted", "Waited", "Actions"].map((h) => htmlEl("th", { scope: "col", text: h })),
    );
    body = htmlEl("tbody");
    box.replaceChildren(
      htmlEl(
        "table",
        { class: "bookings waitlist", "aria-labelledby": "waitlist-title" },
        htmlEl("thead", {}, head),
        body,
      ),
    );
    return body;
  }

  function render() {
    $("waitlist-count").textContent = state.entries.length ? `(${state.entries.length})` : "";
    if (!state.entries.length) {
      if (box.querySelector("tbody") || !box.querySelector(".hint")) {
        box.replaceChildren(htmlEl("p", { class: "hint", text: "Nobody is waiting." }));
      } else {
        box.querySelector(".hint").textContent = "Nobody is waiting.";
      }
      return;
    }
    const body = table();
    const shown = new Map([...body.children].map((tr) => [tr.dataset.entryId, tr]));
    const now = serverNow().getTime(); // the wait is measured on the server's clock, like added_at
    const rows = state.entries.map((e) => {
      const kept = shown.get(e.id);
      const tr = kept && kept.dataset.looks === looks(e) ? kept : row(e);
      const added = Date.parse(e.added_at);
      const waited = Number.isNaN(added) ? "—" : duration((now - added) / 60000);
      const cell = tr.querySelector(".wl-waited");
      if (cell.textContent !== waited) cell.textContent = waited;
      return tr;
    });
    const same = rows.length === body.children.length && rows.every((tr, i) => body.children[i] === tr);
    if (!same) body.replaceChildren(...rows);
  }

  /** Read the list again; `clear` takes down the last refusal shown (not after one). */
  async function refresh(clear = true) {
    // One read at a time: the interval and an action may ask at once.
    if (!state.loading) {
      state.loading = load().finally(() => {
        state.loading = null;
      });
    }
    try {
      await state.loading;
      render();
      if (clear || state.loadFailed) showProblem(problem, null);
      state.loadFailed = false;
    } catch (error) {
      state.loadFailed = true;
      showProblem(problem, error, error instanceof ApiError ? `${error.title}:` : "");
    }
  }

  async function write(button, path, body, done, confirm = "Override and go ahead") {
    button.disabled = true;
    try {
      const made = await withOverride((extra) => {
        const sent = { ...body, ...extra };
        return api("POST", path, { body: Object.keys(sent).length ? sent : undefined, write: true });
      }, confirm);
      floor.wrote(made.consistency);
      showProblem(problem, null);
      if (button === form.querySelector("button[type=submit]")) clearFieldErrors(form);
      if (done) await done(made.data);
      await refresh();
    } catch (error) {
      await refresh(false);
      // A refusal of the form's fields shows beside them; any other in the list's box.
      const lead = error instanceof ApiError ? `${error.title}:` : "";
      if (button === form.querySelector("button[type=submit]")) refused(form, problem, error, "Not added:");
      else showProblem(problem, error, lead);
    } finally {
      button.disabled = false;
    }
  }

  const path = (e, action) => `/api/v1/admin/waitlist/${encodeURIComponent(e.id)}/${action}`;

  function notify(button, e) {
    return write(button, path(e, "notify"), {});
  }

  function seat(button, e) {
    const tableIds = floor.tableIds();
    const body = tableIds.length ? { table_ids: tableIds } : {};
    return write(button, path(e, "seat"), body, async (data) => {
      // The answer is the seated booking (or the entry with it); the floor shows it.
      const booking = data?.booking ?? (data?.table_ids ? data : null);
      if (booking?.date && booking?.time) await floor.seated(booking);
    }, "Override and seat");
  }

  async function remove(button, e) {
    const reason = await askReason({
      title: `Take ${e.guest_name} off the waitlist`,
      label: "Why are they leaving the list?",
      confirm: "Remove",
      value: "left",
    });
    if (reason === null) return;
    await write(button, path(e, "remove"), { reason });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const name = String(data.get("guest_name") ?? "").trim();
    const party = Number(data.get("party_size"));
    const mistakes = {
      guest_name: name ? "" : "Give the party's name, to call them when their table is ready.",
      party_size: Number.isInteger(party) && party >= 1 ? "" : "Give the party's size: a whole number, 1 or more.",
    };
    if (checkedHere(form, problem, mistakes, "Not added:")) {
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    clearFieldErrors(form);
    const body = { party_size: party, guest_name: name };
    for (const key of ["guest_phone", "notes"]) {
      const value = String(data.get(key) ?? "").trim();
      if (value) body[key] = value;
    }
    const submit = form.querySelector("button[type=submit]");
    await write(submit, "/api/v1/admin/waitlist", body, async (entry) => {
      form.elements.namedItem("guest_name").value = "";
      form.elements.namedItem("guest_phone").value = "";
      form.elements.namedItem("notes").value = "";
      const quote = entry?.quoted_wait_minutes;
      const said =
        quote === undefined || quote === null ? "" : quote <= 0 ? ", no wait" : `, quoted ~${duration(quote)}`;
      $("floor-status").textContent = sentence(`${name} added to the waitlist${said}`);
    });
  });

  return {
    refresh,
    show() {
      state.shown = true;
      clearInterval(state.timer);
      state.timer = setInterval(() => refresh(false), REFRESH_MS);
      return refresh();
    },
    hide() {
      state.shown = false;
      clearInterval(state.timer);
      state.timer = null;
    },
  };
}
