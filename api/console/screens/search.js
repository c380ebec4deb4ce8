// Search: bookings by the guest's name, phone or email across every day, upcoming
// first (soonest at the top), then past ones (latest first), grouped by date. The
// header's box drives it: "/" focuses the box, typing searches as you type, Enter shows
// the results at once, Escape clears. Each result opens the booking's detail.

import { all, showProblem, venue, venueNow } from "../api.js";
import { STATUS_TEXT, longDate } from "../booking.js";
import { htmlEl } from "../svg.js";

const $ = (id) => document.getElementById(id);
const SHORTEST = 2; // one letter would list half the book
const TYPING_MS = 250;

/** The query of `#search?q=...`. */
function queryOfHash() {
  const [, query = ""] = location.hash.slice(1).split("?");
  return (new URLSearchParams(query).get("q") ?? "").trim();
}

function searchFor(text) {
  const q = text.trim();
  const hash = q ? `search?q=${encodeURIComponent(q)}` : "search";
  if (location.hash.slice(1) !== hash) location.hash = hash;
}

/** The header's search box: wired once, at start. */
export function initSearchBox() {
  const form = $("search-form");
  const input = $("search-input");
  let timer = null;

  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || form.hidden) return;
    const target = event.target;
    const typing = target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"));
    if (typing || document.querySelector("dialog[open]")) return;
    event.preventDefault();
    input.focus();
    input.select();
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value;
    if (text.trim().length < SHORTEST) return;
    timer = setTimeout(() => searchFor(text), TYPING_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    clearTimeout(timer);
    input.value = "";
    if (location.hash.startsWith("#search")) searchFor("");
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    searchFor(input.value);
  });
}

export function createSearch() {
  const section = $("search");
  section.append(
    htmlEl("h2", { id: "search-title", text: "Search" }),
    htmlEl("p", { class: "hint", id: "search-hint", text: "Bookings by the guest's name, phone or email, on any day. Press / to search from any screen." }),
    htmlEl("div", { class: "problem", role: "alert", id: "search-problem", hidden: true }),
    htmlEl("p", { class: "status", role: "status", id: "search-status" }),
    htmlEl("div", { id: "search-results" }),
  );
  const results = $("search-results");
  const problem = $("search-problem");
  const say = (text) => {
    $("search-status").textContent = text;
  };
  const state = { q: "", tables: new Map(), tablesOf: null, asked: 0, consistency: null };

  async function tableNames() {
    if (state.tablesOf === venue.id) return;
    const tables = await all("/api/v1/admin/tables");
    state.tables = new Map(tables.map((t) => [t.id, t.name]));
    state.tablesOf = venue.id;
  }

  function result(b) {
    const open = htmlEl(
      "button",
      { type: "button", class: "sr-open", "data-booking-id": b.id, "aria-label": `${b.guest_name}, ${longDate(b.date)} at ${b.time}: open the booking` },
      htmlEl("span", { class: "sr-time", text: `${b.time}–${b.end_time}` }),
      htmlEl("span", { class: "sr-name", text: b.guest_name }),
      htmlEl("span", { text: `party of ${b.party_size}` }),
      htmlEl("span", { text: b.table_ids.map((id) => state.tables.get(id) ?? id).join(" + ") || "no table" }),
      htmlEl("span", { class: `sr-status st-${b.status}`, text: STATUS_TEXT[b.status] ?? b.status }),
      htmlEl("span", { class: "sr-contact", text: [b.guest_phone, b.guest_email].filter(Boolean).join(" · ") }),
    );
    if (b.special_requests) open.append(htmlEl("span", { class: "sr-requests", text: `⚑ ${b.special_requests}` }));
    open.addEventListener("click", () =>
      document.dispatchEvent(new CustomEvent("tablebook:open-booking", { detail: { id: b.id } })),
    );
    return htmlEl("li", {}, open);
  }

  /** Upcoming days soonest first, then past days latest first, each day a list. */
  function render(bookings) {
    const today = venueNow().date;
    const byDate = new Map();
    for (const b of bookings) {
      if (!byDate.has(b.date)) byDate.set(b.date, []);
      byDate.get(b.date).push(b);
    }
    const dates = [...byDate.keys()];
    const upcoming = dates.filter((d) => d >= today).sort();
    const past = dates.filter((d) => d < today).sort().reverse();
    const day = (date) =>
      htmlEl(
        "section",
        { class: "sr-day", "aria-label": longDate(date) },
        htmlEl("h4", { text: `${longDate(date)}${date === today ? " · today" : ""}` }),
        htmlEl("ul", { class: "sr-list" }, ...byDate.get(date).sort((a, b) => a.time.localeCompare(b.time)).map(result)),
      );
    const part = (title, days) =>
      days.length ? [htmlEl("h3", { text: title }), ...days.map(day)] : [];
    results.replaceChildren(...part("Upcoming", upcoming), ...part("Past", past));
  }

  async function run() {
    const q = state.q;
    const asked = ++state.asked; // a slower answer to an older query must not win
    showProblem(problem, null);
    if (q.length < SHORTEST) {
      results.replaceChildren();
      say(q ? `Type at least ${SHORTEST} letters or digits.` : "Type a name, phone or email in the search box.");
      return;
    }
    say(`Searching for “${q}”…`);
    try {
      await tableNames();
      const found = await all(`/api/v1/admin/bookings?q=${encodeURIComponent(q)}`, { consistency: state.consistency });
      if (asked !== state.asked) return;
      render(found);
      say(found.length ? `${found.length} booking${found.length === 1 ? "" : "s"} for “${q}”.` : `No booking for “${q}”.`);
    } catch (error) {
      if (asked === state.asked) showProblem(problem, error, "Search failed:");
    }
  }

  // A change made in the booking detail shows in the results.
  const onChanged = (event) => {
    state.consistency = event.detail?.consistency ?? null;
    if (!section.hidden) run();
  };

  return {
    async show() {
      document.addEventListener("tablebook:booking-changed", onChanged);
      state.q = queryOfHash();
      const input = $("search-input");
      if (input.value.trim() !== state.q && document.activeElement !== input) input.value = state.q;
      await run();
    },
    hide() {
      document.removeEventListener("tablebook:booking-changed", onChanged);
    },
  };
}
