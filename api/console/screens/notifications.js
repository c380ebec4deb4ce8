// Notifications: the emails and text messages the venue's guests were sent, or were to be
// sent, newest first; for managers. Filter by status (failed, pending, sent, skipped) and
// channel; each row says what it was about, by which channel to whom, when, how many
// attempts and the last error. "Retry" puts a failed one back in the sender's queue
// (`POST /admin/notifications/{id}/retry`); the row then shows it pending.

import { api, showProblem, venue } from "../api.js";
import { select } from "../forms.js";
import { htmlEl } from "../svg.js";
import { venueInstant } from "./days.js";

const PAGE = 50;

const STATUSES = [
  ["", "All"],
  ["failed", "Failed"],
  ["pending", "Pending"],
  ["sent", "Sent"],
  ["skipped", "Skipped"],
];

// Each status with a sign, so colour is never the only signal.
const STATUS_WORDS = {
  pending: "… pending",
  sending: "⟳ sending",
  sent: "✓ sent",
  failed: "✕ failed",
  skipped: "– skipped",
  cancelled: "⊘ cancelled",
};

const KINDS = {
  placed: "Booking confirmation",
  changed: "Booking changed",
  cancelled: "Booking cancelled",
  reminder: "Reminder",
  table_ready: "Table ready (waitlist)",
};

const CHANNELS = { email: "Email", sms: "SMS" };

/** When the row happened, in the venue's time: sent, else due. */
function when(row) {
  if (row.sent_at) return { label: "sent", at: row.sent_at };
  if (row.status === "pending" || row.status === "sending") return { label: "due", at: row.due_at };
  return { label: "updated", at: row.updated_at };
}

export function createNotifications() {
  const section = document.getElementById("notifications");
  const state = { status: "", channel: "", rows: [], cursor: null, loading: 0 };
  let els = null;

  function build() {
    const statuses = htmlEl(
      "fieldset",
      { class: "segmented", id: "notifications-status" },
      htmlEl("legend", { text: "Status" }),
      ...STATUSES.map(([value, label]) =>
        htmlEl(
          "label",
          {},
          htmlEl("input", { type: "radio", name: "status", value, checked: value === state.status }),
          htmlEl("span", { text: label }),
        ),
      ),
    );
    const channel = select({ id: "notifications-channel", name: "channel" }, [
      ["", "Email and SMS"],
      ["email", "Email"],
      ["sms", "SMS"],
    ]);
    const form = htmlEl(
      "form",
      { class: "toolbar", id: "notifications-filters" },
      htmlEl("h2", { id: "notifications-title", text: "Notifications" }),
      statuses,
      htmlEl("label", { for: "notifications-channel", text: "Channel" }),
      channel,
      htmlEl("button", { type: "submit", text: "⟳ Refresh" }),
    );
    const problem = htmlEl("div", { class: "problem", role: "alert", id: "notifications-problem", hidden: true });
    const status = htmlEl("p", { class: "status", role: "status", id: "notifications-said" });
    const list = htmlEl("div", { class: "table-wrap", id: "notifications-list" });
    const more = htmlEl("button", { type: "button", id: "notifications-more", hidden: true, text: "Show more" });
    section.append(form, problem, status, list, more);

    form.addEventListener("change", (event) => {
      if (event.target.name === "status") state.status = event.target.value;
      if (event.target.name === "channel") state.channel = event.target.value;
      load();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    more.addEventListener("click", () => load({ more: true }));
    return { form, problem, status, list, more };
  }

  function query(cursor) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (state.status) params.set("status", state.status);
    if (state.channel) params.set("channel", state.channel);
    if (cursor) params.set("cursor", cursor);
    return `/api/v1/admin/notifications?${params}`;
  }

  /** The first page for the filters (or, with `more`, the next one). */
  async function load({ more = false } = {}) {
    const ticket = ++state.loading;
    try {
      const { data } = await api("GET", query(more ? state.cursor : null));
      if (ticket !== state.loading) return;
      state.rows = more ? [...state.rows, ...data.items] : data.items;
      state.cursor = data.next_cursor;
      render();
      showProblem(els.problem, null);
    } catch (error) {
      if (ticket !== state.loading) return;
      showProblem(els.problem, error, "The notifications could not be read:");
    }
  }

  function row(n) {
    const { label, at } = when(n);
    const problem = n.last_error || n.reason || "";
    const actions = htmlEl("td", { class: "nt-action" });
    if (n.status === "failed") {
      const retry = htmlEl("button", { type: "button", class: "retry", text: "↻ Retry", "aria-label": `Retry ${KINDS[n.kind] ?? n.kind} by ${CHANNELS[n.channel] ?? n.channel} to ${n.recipient ?? "the guest"}` });
      retry.addEventListener("click", () => retryOne(n, retry));
      actions.append(retry);
    }
    return htmlEl(
      "tr",
      { class: `nt-${n.status}`, "data-id": n.id },
      htmlEl("td", { class: "nt-status", text: STATUS_WORDS[n.status] ?? n.status }),
      htmlEl("td", { text: KINDS[n.kind] ?? n.kind }),
      htmlEl("td", {}, htmlEl("span", { text: CHANNELS[n.channel] ?? n.channel }), htmlEl("span", { class: "recipient", text: n.recipient || "no address" })),
      htmlEl("td", {}, htmlEl("span", { class: "when-label", text: label }), ` ${venueInstant(at, venue.zone)}`),
      htmlEl("td", { class: "num", text: String(n.attempts) }),
      htmlEl("td", { class: "nt-error", text: problem }),
      actions,
    );
  }

  function render() {
    els.more.hidden = !state.cursor;
    if (!state.rows.length) {
      const which = STATUSES.find(([v]) => v === state.status)?.[1].toLowerCase();
      els.list.replaceChildren(htmlEl("p", { class: "hint", text: state.status ? `No ${which} notifications.` : "No notifications yet." }));
      return;
    }
    const head = ["Status", "About", "Channel and recipient", "When", "Attempts", "Last error or reason", "Action"];
    els.list.replaceChildren(
      htmlEl(
        "table",
        { class: "report notifications", id: "notifications-table" },
        htmlEl("caption", { class: "visually-hidden", text: "Notifications, newest first" }),
        htmlEl("thead", {}, htmlEl("tr", {}, ...head.map((h) => htmlEl("th", { scope: "col", text: h })))),
        htmlEl("tbody", {}, ...state.rows.map(row)),
      ),
    );
  }

  async function retryOne(n, button) {
    button.disabled = true;
    try {
      const { data } = await api("POST", `/api/v1/admin/notifications/${encodeURIComponent(n.id)}/retry`, { write: true });
      const at = state.rows.findIndex((r) => r.id === n.id);
      // Still in the list when it shows every status or the new one; otherwise it leaves.
      if (at >= 0) {
        if (!state.status || state.status === data.status) state.rows[at] = data;
        else state.rows.splice(at, 1);
      }
      render();
      showProblem(els.problem, null);
      els.status.textContent = `${KINDS[n.kind] ?? n.kind} to ${n.recipient ?? "the guest"}: queued to be sent again.`;
    } catch (error) {
      button.disabled = false;
      showProblem(els.problem, error, "Not retried:");
    }
  }

  return {
    async show() {
      els ??= build();
      els.status.textContent = "";
      await load();
    },
    hide() {},
  };
}
