// Service dates as the API writes them ("YYYY-MM-DD"): arithmetic and wording that never
// pass through the browser's time zone (the date is the venue's already).

const MS_PER_DAY = 86400000;

function utc(date) {
  return new Date(`${date}T00:00:00Z`);
}

/** `date` moved by `days` (negative: back). */
export function addDays(date, days) {
  return new Date(utc(date).getTime() + days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Days from `from` to `to`, both counted. */
export function daysBetween(from, to) {
  return Math.round((utc(to) - utc(from)) / MS_PER_DAY) + 1;
}

/** Every date from `from` to `to`. */
export function datesFrom(from, to) {
  const out = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

const LONG = new Intl.DateTimeFormat("en-GB", {
  weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
});
const SHORT = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
const WEEKDAY = new Intl.DateTimeFormat("en-GB", { weekday: "short", timeZone: "UTC" });

/** "Saturday 5 December 2026" */
export function longDate(date) {
  return LONG.format(utc(date));
}

/** "5 Dec" */
export function shortDate(date) {
  return SHORT.format(utc(date));
}

/** "Sat" */
export function weekday(date) {
  return WEEKDAY.format(utc(date));
}

/** A share as a percentage for people: "37%", "0.4%"; "—" when there is none. */
export function percent(share) {
  if (share === null || share === undefined || Number.isNaN(share)) return "—";
  const value = share * 100;
  const digits = value > 0 && value < 1 ? 1 : 0;
  return `${value.toFixed(digits)}%`;
}

/** An instant (ISO-8601) on the venue's clock: "Sat 5 Dec, 21:03". */
export function venueInstant(iso, zone) {
  if (!iso) return "—";
  const options = {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  };
  try {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: zone || undefined }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
  }
}
