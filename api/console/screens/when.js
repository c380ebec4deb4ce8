// Dates and times as the venue's wall clock has them, for the admin screens: plain
// "YYYY-MM-DD" and "HH:MM" strings, shifted and shown without the browser's time zone
// ever coming into it.

import { venueNow } from "../api.js";

const pad = (n) => String(n).padStart(2, "0");

export const hhmm = (minutes) => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
export const minutesOf = (time) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** The calendar date `days` after `date` (UTC arithmetic on a date alone: no zone, no DST). */
export function addDays(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The wall-clock moment `minutes` after `date` `time`, as `{date, time}`. */
export function later({ date, time }, minutes) {
  const total = minutesOf(time) + minutes;
  const days = Math.floor(total / (24 * 60));
  return { date: addDays(date, days), time: hhmm(total - days * 24 * 60) };
}

/** "Sun 6 Dec 2026" for a "YYYY-MM-DD" date. */
export function dayLabel(date) {
  return new Date(`${date}T12:00:00Z`).toLocaleDateString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

/** An instant from the API (`...Z`) on the venue's clock: `{date, time}`. */
export function atVenue(instant) {
  const { date, time } = venueNow(new Date(instant));
  return { date, time };
}

/** "Sun 6 Dec 2026 19:00", leaving out the day when it is `sameDay`'s. */
export function momentLabel({ date, time }, sameDay = null) {
  return date === sameDay ? time : `${dayLabel(date)} ${time}`;
}
