// Reports: bookings over a range of service dates, for managers. A preset (last 7 days,
// last 30 days, this month) or a custom range; the totals, a chart of covers per day
// with the day's no-shows and cancellations marked on it, the same numbers in a table
// under it, the bookings by source and by party size, and "Download CSV": the API's own
// CSV of the daily rows (`Accept: text/csv`), so the file holds exactly the numbers shown.

import { ApiError, api, scoped, session, showProblem, venueNow } from "../api.js";
import { clearFieldErrors, refused, select } from "../forms.js";
import { htmlEl, svgEl } from "../svg.js";
import { addDays, daysBetween, longDate, percent, shortDate, weekday } from "./days.js";

const MAX_DAYS = 366; // the API's longest report

/** The range of a preset, ending on the venue's today. */
export function presetRange(preset, today) {
  if (preset === "7") return { from: addDays(today, -6), to: today };
  if (preset === "30") return { from: addDays(today, -29), to: today };
  if (preset === "month") return { from: `${today.slice(0, 8)}01`, to: today };
  return null;
}

const SOURCES = { online: "Online", phone: "Phone", walk_in: "Walk-in", staff: "Staff", waitlist: "Waitlist" };
const sourceName = (key) => SOURCES[key] ?? key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

// --- the chart -----------------------------------------------------------------------

const CHART = { height: 280, top: 40, bottom: 52, left: 56, right: 16, minSlot: 24 };

/** A round step for an axis up to `max` with about five ticks. */
function niceStep(max) {
  const raw = Math.max(1, max) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return Math.max(1, step);
}

/**
 * Covers per day as bars, each day's no-shows (▲) and cancellations (✕) above its bar,
 * drawn at its real size in pixels (so its text stays 12 px and more): wider than its
 * box, it scrolls inside the box, never the page.
 */
export function drawChart(days, width) {
  const slots = days.length;
  const slot = Math.max(CHART.minSlot, (width - CHART.left - CHART.right) / Math.max(1, slots));
  const plotWidth = slot * slots;
  const fullWidth = CHART.left + plotWidth + CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  const maxCovers = Math.max(0, ...days.map((d) => d.covers));
  const step = niceStep(maxCovers);
  const top = Math.max(step, Math.ceil(maxCovers / step) * step);
  const y = (value) => CHART.top + plotHeight - (value / top) * plotHeight;
  const svg = svgEl("svg", {
    id: "reports-chart-svg",
    width: fullWidth,
    height: CHART.height,
    viewBox: `0 0 ${fullWidth} ${CHART.height}`,
    role: "img",
    "aria-labelledby": "reports-chart-title",
  });
  svg.append(svgEl("title", { id: "reports-chart-title" }, "Covers per day; the table below gives the same numbers"));
  const grid = svgEl("g", { class: "axis y-axis" });
  for (let v = 0; v <= top; v += step) {
    grid.append(
      svgEl("line", { x1: CHART.left, x2: CHART.left + plotWidth, y1: y(v), y2: y(v), class: v ? "grid" : "base" }),
      svgEl("text", { x: CHART.left - 8, y: y(v) + 4, "text-anchor": "end" }, String(v)),
    );
  }
  grid.append(
    svgEl("text", { class: "axis-title", x: 14, y: CHART.top + plotHeight / 2, transform: `rotate(-90 14 ${CHART.top + plotHeight / 2})`, "text-anchor": "middle" }, "Covers"),
  );
  svg.append(grid);
  // Label as many days as fit: every day, or every n-th (and always the first).
  const every = Math.ceil(48 / slot);
  const bars = svgEl("g", { class: "bars" });
  days.forEach((day, i) => {
    const x = CHART.left + i * slot;
    const barWidth = Math.min(56, Math.max(6, slot * 0.62));
    const left = x + (slot - barWidth) / 2;
    const group = svgEl("g", { class: "day", "data-date": day.date });
    group.append(
      svgEl("rect", { class: "bar", x: left, y: y(day.covers), width: barWidth, height: Math.max(0, y(0) - y(day.covers)) },
        svgEl("title", {}, `${longDate(day.date)}: ${day.covers} covers, ${day.no_shows} no-shows, ${day.cancellations} cancellations`)),
    );
    const marks = [];
    if (day.no_shows) marks.push(["no-show", `▲${day.no_shows}`]);
    if (day.cancellations) marks.push(["cancelled", `✕${day.cancellations}`]);
    marks.forEach(([kind, text], k) => {
      group.append(svgEl("text", { class: `mark ${kind}`, x: x + slot / 2, y: y(day.covers) - 6 - k * 14, "text-anchor": "middle" }, text));
    });
    if (i % every === 0) {
      group.append(
        svgEl("text", { class: "x-label", x: x + slot / 2, y: y(0) + 18, "text-anchor": "middle" }, shortDate(day.date)),
        svgEl("text", { class: "x-label weekday", x: x + slot / 2, y: y(0) + 32, "text-anchor": "middle" }, weekday(day.date)),
      );
    }
    bars.append(group);
  });
  svg.append(bars);
  svg.append(svgEl("text", { class: "axis-title", x: CHART.left + plotWidth / 2, y: CHART.height - 4, "text-anchor": "middle" }, "Service date"));
  return svg;
}

// --- the tables ----------------------------------------------------------------------

/** A box a wide table scrolls in on a small screen (never the page), reachable by
 * keyboard so it can be scrolled without a pointer. */
function scroller(id, label, ...children) {
  return htmlEl("div", { class: "table-wrap", id, tabindex: "0", role: "region", "aria-label": label }, ...children);
}

function table(id, caption, heads, rows, foot = null) {
  const th = (text, scope = "col") => htmlEl("th", { scope, text });
  const body = rows.map((cells) =>
    htmlEl("tr", {}, ...cells.map((c, i) => (i === 0 ? th(String(c), "row") : htmlEl("td", { text: String(c) })))),
  );
  const parts = [htmlEl("caption", { text: caption }), htmlEl("thead", {}, htmlEl("tr", {}, ...heads.map((h) => th(h)))), htmlEl("tbody", {}, ...body)];
  if (foot) parts.push(htmlEl("tfoot", {}, htmlEl("tr", {}, ...foot.map((c, i) => (i === 0 ? th(String(c), "row") : htmlEl("td", { text: String(c) }))))));
  return htmlEl("table", { class: "report", id }, ...parts);
}

const noShowShare = (row) => (row.bookings ? percent(row.no_shows / row.bookings) : "—");

function dayTable(report) {
  const rows = report.by_day.map((d) => [
    `${weekday(d.date)} ${shortDate(d.date)}`,
    d.bookings,
    d.covers,
    d.cancellations,
    d.no_shows,
    percent(d.occupancy_rate),
  ]);
  const t = report.totals;
  return table(
    "reports-days",
    "Day by day",
    ["Date", "Bookings", "Covers", "Cancellations", "No-shows", "Occupancy"],
    rows,
    ["Total", t.bookings, t.covers, t.cancellations, t.no_shows, percent(t.occupancy_rate)],
  );
}

function totalsCards(t) {
  const card = (key, label, value, note) =>
    htmlEl("div", { class: "stat", "data-stat": key }, htmlEl("dt", { text: label }), htmlEl("dd", { class: "value", text: String(value) }), htmlEl("dd", { class: "note", text: note }));
  return [
    card("bookings", "Bookings", t.bookings, "not cancelled"),
    card("covers", "Covers", t.covers, "guests, no-shows left out"),
    card("cancellations", "Cancellations", t.cancellations, "bookings cancelled"),
    card("no_shows", "No-shows", t.no_shows, t.bookings ? `${noShowShare(t)} of bookings` : "no bookings"),
    card("occupancy", "Occupancy", percent(t.occupancy_rate), "of the open seat-time booked"),
  ];
}

// --- CSV -------------------------------------------------------------------------------

/** The report's CSV from the API, and the file name it suggests. */
async function fetchCsv(from, to) {
  const path = scoped(`/api/v1/admin/reports/bookings?from=${from}&to=${to}`);
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "text/csv", Authorization: `Bearer ${session.token}` } });
  } catch {
    throw new ApiError(0, { title: "Network error", detail: "The server could not be reached." });
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || `bookings-${from}-to-${to}.csv`;
  return { text: await response.text(), name };
}

function saveFile(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = htmlEl("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// --- the screen ------------------------------------------------------------------------

export function createReports() {
  const section = document.getElementById("reports");
  let els = null;
  let shown = null; // the range on screen: {from, to}
  let loading = 0;

  function build() {
    const preset = select({ id: "reports-preset", name: "preset" }, [
      ["7", "Last 7 days"],
      ["30", "Last 30 days"],
      ["month", "This month"],
      ["custom", "Custom range"],
    ]);
    const from = htmlEl("input", { id: "reports-from", name: "from", type: "date", required: true });
    const to = htmlEl("input", { id: "reports-to", name: "to", type: "date", required: true });
    const download = htmlEl("button", { type: "button", id: "reports-csv", text: "⤓ Download CSV" });
    const form = htmlEl(
      "form",
      { class: "toolbar", id: "reports-form", novalidate: true },
      htmlEl("h2", { id: "reports-title", text: "Reports" }),
      htmlEl("label", { for: "reports-preset", text: "Range" }),
      preset,
      htmlEl("span", { class: "field" }, htmlEl("label", { for: "reports-from", text: "From" }), from),
      htmlEl("span", { class: "field" }, htmlEl("label", { for: "reports-to", text: "To" }), to),
      htmlEl("button", { type: "submit", class: "primary", text: "Show" }),
      download,
    );
    const problem = htmlEl("div", { class: "problem", role: "alert", id: "reports-problem", hidden: true });
    const status = htmlEl("p", { class: "status", role: "status", id: "reports-status" });
    const range = htmlEl("p", { class: "day", id: "reports-range" });
    const totals = htmlEl("dl", { class: "stats", id: "reports-totals", "aria-label": "Totals" });
    // Focusable, so a keyboard can scroll a chart wider than the screen.
    const chart = htmlEl("div", { class: "chart-wrap", id: "reports-chart", tabindex: "0", role: "region", "aria-label": "Chart of covers per day" });
    const legend = htmlEl(
      "ul",
      { class: "legend", "aria-label": "Chart legend" },
      htmlEl("li", {}, htmlEl("span", { class: "swatch bar-swatch", "aria-hidden": "true" }), "Covers (bar)"),
      htmlEl("li", { class: "no-show" }, "▲ No-shows"),
      htmlEl("li", { class: "cancelled" }, "✕ Cancellations"),
    );
    const days = scroller("reports-table", "Day by day");
    const breakdown = htmlEl("div", { class: "breakdown", id: "reports-breakdown" });
    section.append(form, problem, status, range, totals, htmlEl("h3", { text: "Covers per day" }), legend, chart, days, breakdown);

    preset.addEventListener("change", () => {
      const range = presetRange(preset.value, venueNow().date);
      if (range) {
        from.value = range.from;
        to.value = range.to;
        submit();
      } else {
        from.focus();
      }
    });
    // Typing a date makes the range a custom one.
    for (const input of [from, to]) input.addEventListener("input", () => (preset.value = "custom"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    download.addEventListener("click", () => downloadCsv());
    return { form, preset, from, to, download, problem, status, range, totals, chart, days, breakdown };
  }

  /** The range in the form, or null after saying what is wrong beside the field. */
  function chosenRange() {
    const errors = [];
    if (!els.from.value) errors.push({ field: "from", message: "Choose the first day" });
    if (!els.to.value) errors.push({ field: "to", message: "Choose the last day" });
    if (!errors.length && els.from.value > els.to.value) {
      errors.push({ field: "to", message: "The last day must not be before the first" });
    }
    if (!errors.length && daysBetween(els.from.value, els.to.value) > MAX_DAYS) {
      errors.push({ field: "to", message: `A report spans at most ${MAX_DAYS} days` });
    }
    if (errors.length) {
      refused(els.form, els.problem, new ApiError(422, { title: "Check the dates", detail: "Check the dates.", errors }), "Not shown:");
      return null;
    }
    clearFieldErrors(els.form);
    return { from: els.from.value, to: els.to.value };
  }

  async function submit() {
    // A newer request, even a refused one, outdates any report still on its way.
    const ticket = ++loading;
    const range = chosenRange();
    if (!range) return;
    els.status.textContent = "Reading the report…";
    try {
      const query = `?from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}`;
      const { data } = await api("GET", `/api/v1/admin/reports/bookings${query}`);
      if (ticket !== loading) return;
      shown = { from: data.from, to: data.to };
      render(data);
      showProblem(els.problem, null);
      els.status.textContent = "";
    } catch (error) {
      if (ticket !== loading) return;
      els.status.textContent = "";
      refused(els.form, els.problem, error, "The report could not be read:");
    }
  }

  function render(report) {
    const n = report.by_day.length;
    els.range.textContent = `${longDate(report.from)} to ${longDate(report.to)} · ${n} ${n === 1 ? "day" : "days"}`;
    els.totals.replaceChildren(...totalsCards(report.totals));
    const inner = els.chart.clientWidth - 16; // its padding
    els.chart.replaceChildren(drawChart(report.by_day, inner > 0 ? inner : 800));
    els.days.replaceChildren(dayTable(report));
    const sources = report.by_source.map((s) => [sourceName(s.source), s.bookings, s.covers]);
    const sizes = report.by_party_size.map((s) => [s.party_size, s.bookings, s.covers]);
    const none = (text) => htmlEl("p", { class: "hint", text });
    els.breakdown.replaceChildren(
      scroller(null, "By source", sources.length ? table("reports-sources", "By source", ["Source", "Bookings", "Covers"], sources) : none("No bookings by source in this range.")),
      scroller(null, "By party size", sizes.length ? table("reports-sizes", "By party size", ["Party of", "Bookings", "Covers"], sizes) : none("No bookings by party size in this range.")),
    );
    els.download.disabled = false;
  }

  async function downloadCsv() {
    const range = chosenRange();
    if (!range) return;
    els.download.disabled = true;
    try {
      const { text, name } = await fetchCsv(range.from, range.to);
      saveFile(text, name);
      els.status.textContent = `Downloaded ${name}.`;
      showProblem(els.problem, null);
    } catch (error) {
      showProblem(els.problem, error, "The CSV could not be made:");
    } finally {
      els.download.disabled = false;
    }
  }

  return {
    async show() {
      if (!els) {
        els = build();
        const range = presetRange("7", venueNow().date);
        els.from.value = range.from;
        els.to.value = range.to;
      }
      await submit();
    },
    hide() {},
  };
}
