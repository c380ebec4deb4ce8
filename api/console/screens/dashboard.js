// The dashboard: one service day at a glance, for managers. Bookings, covers, parties
// seated now, cancellations, no-shows and their rate, occupancy and how far the
// waitlist's quotes were off, as large cards with plain labels. It opens on the venue's
// service day as the server counts it (past midnight in a late shift, still the
// evening's), steps a day back or on, and reads the day again every 30 s while shown.

import { api, showProblem, venueNow } from "../api.js";
import { htmlEl } from "../svg.js";
import { addDays, longDate, percent } from "./days.js";

// A tab may ask for another pace with `tablebook.dashboardRefreshMs` in its session.
const REFRESH_MS = Number(sessionStorage.getItem("tablebook.dashboardRefreshMs")) || 30000;

/** One card: its label, the figure, and a line saying what it counts. */
function card(key, label, value, note) {
  return htmlEl(
    "div",
    { class: "stat", "data-stat": key },
    htmlEl("dt", { text: label }),
    htmlEl("dd", { class: "value", text: String(value) }),
    htmlEl("dd", { class: "note", text: note }),
  );
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** The cards of a day, from `GET /admin/dashboard/stats`. */
export function cards(stats, isToday) {
  const noShowRate = stats.bookings ? stats.no_shows / stats.bookings : null;
  const measured = stats.waitlist_quotes_measured || 0;
  const error = stats.waitlist_quote_error_minutes;
  return [
    card("bookings", "Bookings", stats.bookings, "not cancelled"),
    card("covers", "Covers", stats.covers, "guests expected or seated, no-shows left out"),
    card(
      "seated_now",
      "Seated now",
      isToday ? stats.seated_now : "—",
      isToday ? "parties at their tables" : "only today has a “now”",
    ),
    card("cancellations", "Cancellations", stats.cancellations, "bookings cancelled"),
    card(
      "no_shows",
      "No-shows",
      stats.no_shows,
      noShowRate === null ? "no bookings" : `${percent(noShowRate)} of bookings`,
    ),
    card("occupancy", "Occupancy", percent(stats.occupancy_rate), "of the open seat-time booked"),
    card(
      "quotes",
      "Waitlist quotes",
      error === null || error === undefined ? "—" : `±${Math.round(error)} min`,
      measured ? `median error, ${plural(measured, "party", "parties")} seated from the list` : "no party seated from the list",
    ),
    card("tables", "Tables", stats.tables_total, "in service"),
  ];
}

export function createDashboard() {
  const section = document.getElementById("dashboard");
  const state = { date: null, today: null, timer: null, loading: 0 };
  let els = null;

  function build() {
    const date = htmlEl("input", { id: "dashboard-date", name: "date", type: "date", required: true });
    const form = htmlEl(
      "form",
      { class: "toolbar", id: "dashboard-when" },
      htmlEl("h2", { id: "dashboard-title", text: "Dashboard" }),
      htmlEl("button", { type: "button", id: "dashboard-prev", "aria-label": "Previous day", text: "◀ Previous" }),
      htmlEl("label", { for: "dashboard-date", text: "Service date" }),
      date,
      htmlEl("button", { type: "button", id: "dashboard-next", "aria-label": "Next day", text: "Next ▶" }),
      htmlEl("button", { type: "button", id: "dashboard-today", text: "Today" }),
    );
    const heading = htmlEl("p", { class: "day", id: "dashboard-day" });
    const problem = htmlEl("div", { class: "problem", role: "alert", id: "dashboard-problem", hidden: true });
    const status = htmlEl("p", { class: "status", role: "status", id: "dashboard-status" });
    const stats = htmlEl("dl", { class: "stats", id: "dashboard-stats", "aria-labelledby": "dashboard-day" });
    section.append(form, heading, problem, status, stats);

    const go = (day) => {
      state.date = day;
      load();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (date.value) go(date.value);
    });
    date.addEventListener("change", () => {
      if (date.value) go(date.value);
    });
    const shown = () => state.date ?? venueNow().date;
    form.querySelector("#dashboard-prev").addEventListener("click", () => go(addDays(shown(), -1)));
    form.querySelector("#dashboard-next").addEventListener("click", () => go(addDays(shown(), 1)));
    form.querySelector("#dashboard-today").addEventListener("click", () => go(null));
    return { date, heading, problem, status, stats };
  }

  /** Read the day (the server's service day when none is chosen, which is then "today")
   * and draw it. A read that comes back after a newer one was asked for is dropped. */
  async function load() {
    const ticket = ++state.loading;
    const query = state.date ? `?date=${encodeURIComponent(state.date)}` : "";
    try {
      const { data } = await api("GET", `/api/v1/admin/dashboard/stats${query}`);
      if (ticket !== state.loading) return;
      if (!query) state.today = data.date;
      state.date = data.date;
      render(data, data.date === state.today);
      showProblem(els.problem, null);
    } catch (error) {
      if (ticket !== state.loading) return;
      showProblem(els.problem, error, "The day could not be read:");
    }
  }

  function render(data, isToday) {
    els.date.value = data.date;
    els.heading.textContent = `${longDate(data.date)}${isToday ? " · today" : ""}`;
    els.stats.replaceChildren(...cards(data, isToday));
    els.status.textContent = `Updated at ${venueNow().time} (venue time); refreshes every ${Math.round(REFRESH_MS / 1000)} s.`;
  }

  /** The 30 s refresh: today follows the server's service day as it turns over. */
  function refresh() {
    if (state.date === state.today) state.date = null;
    load();
  }

  return {
    async show() {
      els ??= build();
      // Each visit opens on today, the venue's (which may be another venue than before).
      state.date = null;
      clearInterval(state.timer);
      state.timer = setInterval(refresh, REFRESH_MS);
      await load();
    },
    hide() {
      clearInterval(state.timer);
      state.timer = null;
    },
  };
}
