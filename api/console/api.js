// The public API as the console uses it: a Bearer token kept for the browser tab (and
// refreshed before it expires, so a console left open stays signed in through a
// service), JSON in and out, refusals turned into ApiError with the problem details, and
// "now" taken from the server's clock rather than the browser's.

const TOKEN_KEY = "tablebook.token";
const VENUE_KEY = "tablebook.venue";

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem?.detail || `The server answered ${status}.`;
    super(detail);
    this.status = status;
    this.title = problem?.title || "Error";
    this.detail = detail;
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
    this.type = problem?.type || "";
    this.rule = problem?.rule || null;
  }

  /** Staff broke a rule they may set aside by sending the request again with a reason. */
  get overrideRequired() {
    return this.type.endsWith("/override-required");
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    keepSignedIn();
  },
  onExpired: () => {},
};

// --- the server's clock ------------------------------------------------------------

/** Server time minus browser time, in ms: 0 until the first `syncClock()`. */
let clockOffset = 0;

/** The server's "now" (the browser's clock corrected by the last `syncClock()`). */
export function serverNow() {
  return new Date(Date.now() + clockOffset);
}

/**
 * Ask the server for its instant and the chosen venue's zone (`GET /clock`) and keep the
 * difference from the browser's clock, taking the request's round trip into account:
 * a tablet whose clock is wrong, or set to another zone, still opens the venue's now.
 */
export async function syncClock() {
  const asked = venue.id; // the venue may be switched while the answer is on its way
  const sent = Date.now();
  const { data } = await api("GET", "/api/v1/clock");
  const received = Date.now();
  const instant = Date.parse(data.now);
  if (Number.isFinite(instant)) clockOffset = instant - (sent + received) / 2;
  if (data.time_zone && venue.id === asked) venue.zone = data.time_zone;
  keepSignedIn(); // the refresh was planned on the clock as it was known before
  return data;
}

// --- keeping the session alive -----------------------------------------------------

const REFRESH_AHEAD_MS = 5 * 60 * 1000; // refresh this long before the token expires
const RETRY_MS = 30 * 1000; // after a network error, try again this soon
let refreshTimer = null;

/** When a token expires, in server-clock ms (its JWT `exp`); null if unreadable. */
function expiresAt(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = JSON.parse(atob(payload)).exp;
    return Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Plan the next refresh of the tab's token: a few minutes before it expires (half of
 * what is left when that is less), by the server's clock. Called whenever the token
 * changes, and when the tab comes back into view (hidden tabs' timers are slowed).
 */
export function keepSignedIn() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
  const token = session.token;
  const expires = token ? expiresAt(token) : null;
  if (expires === null) return;
  const left = expires - serverNow().getTime();
  const wait = left > 2 * REFRESH_AHEAD_MS ? left - REFRESH_AHEAD_MS : Math.max(0, left / 2);
  refreshTimer = setTimeout(refreshNow, wait);
}

/** Trade the tab's token for a fresh one of the same session (`POST /auth/refresh`).
 * A 401 (expired, revoked, deactivated, past the session's cap) signs the tab out. */
export async function refreshNow() {
  const before = session.token;
  if (!before) return;
  try {
    const { data } = await api("POST", "/api/v1/auth/refresh");
    // The browser's clock may have drifted or jumped (a tablet asleep): measure it again
    // before the next refresh is planned by it.
    await syncClock().catch(() => {});
    if (session.token === before) session.token = data.access_token; // not signed out meanwhile
  } catch (error) {
    if (error instanceof ApiError && error.status === 0 && session.token === before) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refreshNow, RETRY_MS);
    }
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") keepSignedIn();
});

/** Sign out: forget the token here and revoke it (and every other token of the account)
 * on the server. Forgotten even when the server cannot be reached. */
export async function signOut() {
  const token = session.token;
  session.token = null;
  if (!token) return;
  try {
    await fetch("/api/v1/auth/sign-out", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    });
  } catch {
    // Offline: the token is gone from this tab and expires on its own.
  }
}

/** The venue the console works on, kept for the browser tab (chosen in the header). */
export const venue = {
  get id() {
    return sessionStorage.getItem(VENUE_KEY);
  },
  set id(value) {
    if (value) sessionStorage.setItem(VENUE_KEY, value);
    else sessionStorage.removeItem(VENUE_KEY);
  },
  /** The chosen venue's IANA time zone, from the directory; the browser's until known. */
  zone: null,
};

const pad = (n) => String(n).padStart(2, "0");

/**
 * What the venue's wall clock says now (or at `when`): `{date: "YYYY-MM-DD", time: "HH:MM",
 * minutes}`, in the venue's time zone, whatever the browser's is; "now" is the server's.
 */
export function venueNow(when = serverNow()) {
  const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-GB", { ...options, timeZone: venue.zone || undefined }).formatToParts(when);
  } catch {
    parts = new Intl.DateTimeFormat("en-GB", options).formatToParts(when);
  }
  const part = (type) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const hour = part("hour") % 24;
  const minute = part("minute");
  return {
    date: `${part("year")}-${pad(part("month"))}-${pad(part("day"))}`,
    time: `${pad(hour)}:${pad(minute)}`,
    minutes: hour * 60 + minute,
  };
}

// Routes of the deployment, not of one venue: never scoped.
const UNSCOPED = ["/api/v1/auth/", "/api/v1/admin/users", "/api/v1/admin/venues", "/api/v1/venues"];

/** A venue route's path for the chosen venue: `/api/v1/X` becomes `/api/v1/venues/{id}/X`. */
export function scoped(path) {
  const id = venue.id;
  if (!id || !path.startsWith("/api/v1/") || UNSCOPED.some((prefix) => path.startsWith(prefix))) {
    return path;
  }
  return `/api/v1/venues/${encodeURIComponent(id)}/${path.slice("/api/v1/".length)}`;
}

function randomKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * One request. Options: `body` (JSON), `form` (urlencoded), `ifMatch` (a version),
 * `consistency` (a write's X-Consistency-Token to wait for), `write` (send an
 * Idempotency-Key, so a retried click cannot book twice).
 * Answers `{data, consistency}`; throws ApiError for anything but 2xx.
 */
export async function api(method, path, options = {}) {
  const headers = new Headers({ Accept: "application/json" });
  const token = session.token;
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let body;
  if (options.form) {
    body = new URLSearchParams(options.form);
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers.set("Content-Type", "application/json");
  }
  if (options.ifMatch !== undefined) headers.set("If-Match", `"${options.ifMatch}"`);
  if (options.consistency) headers.set("X-Consistency-Token", options.consistency);
  if (options.write) headers.set("Idempotency-Key", randomKey());

  let response;
  try {
    response = await fetch(scoped(path), { method, headers, body });
  } catch {
    throw new ApiError(0, { title: "Network error", detail: "The server could not be reached." });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && token) session.onExpired();
    throw new ApiError(response.status, data);
  }
  return { data, consistency: response.headers.get("X-Consistency-Token") };
}

/** Every item of a paginated list. */
export async function all(path, options = {}) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const { data } = await api("GET", page, options);
    items.push(...data.items);
    cursor = data.next_cursor;
  } while (cursor);
  return items;
}

/** Show an ApiError (or any error) in a problem box: its title and its detail sentence.
 * Field errors are for the form to show beside its inputs (`fieldErrors`). */
export function showProblem(box, error, lead = "") {
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  const strong = document.createElement("strong");
  strong.textContent = lead || (error instanceof ApiError ? error.title : "Error");
  const detail = document.createElement("span");
  detail.className = "detail";
  detail.textContent = ` ${sentence(error instanceof ApiError ? error.detail : error.message)}`;
  box.append(strong, detail);
  box.hidden = false;
}

/** A detail as a sentence: capitalised, ending in a full stop. */
export function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** True for the refusal staff may get past by giving a reason. */
export function needsOverride(error) {
  return error instanceof ApiError && error.status === 422 && error.overrideRequired;
}

/**
 * Send a staff write; when the API answers override-required, ask the host for a reason
 * (the page's reason dialog) and send it again with `override: {reason}`. `send(extra)`
 * makes the request with `extra` merged into its body; `confirm` names the dialog's button.
 * If the host declines, the refusal is thrown as it came.
 */
export async function withOverride(send, confirm = "Override and book") {
  try {
    return await send({});
  } catch (error) {
    if (!needsOverride(error)) throw error;
    const reason = await askReason({
      title: "Override needed",
      detail: sentence(error.detail),
      label: "Reason for the override",
      confirm,
    });
    if (reason === null) throw error; // the host declined: the refusal stands, as said
    return await send({ override: { reason } });
  }
}

/**
 * Ask for a short reason in the page's dialog (`#reason-dialog`), not window.prompt:
 * answers the trimmed text, or null when the host cancels.
 */
export function askReason({ title, detail = "", label = "Reason", confirm = "OK", value = "" }) {
  const dialog = document.getElementById("reason-dialog");
  const form = dialog.querySelector("form");
  const input = form.elements.namedItem("reason");
  dialog.querySelector("#reason-title").textContent = title;
  dialog.querySelector("#reason-detail").textContent = detail;
  dialog.querySelector("#reason-detail").hidden = !detail;
  dialog.querySelector("label[for=reason-input]").textContent = label;
  dialog.querySelector("#reason-confirm").textContent = confirm;
  const problem = dialog.querySelector("#reason-problem");
  problem.hidden = true;
  input.value = value;
  const before = document.activeElement; // focus goes back there when the dialog closes
  return new Promise((resolve) => {
    const finish = (answer) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("cancel", onCancel);
      cancel.removeEventListener("click", onCancel);
      if (dialog.open) dialog.close();
      if (before instanceof HTMLElement && before.isConnected) before.focus();
      resolve(answer);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const reason = input.value.trim();
      if (!reason) {
        problem.textContent = "Give a reason, in a few words.";
        problem.hidden = false;
        input.focus();
        return;
      }
      finish(reason);
    };
    const onCancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    const cancel = dialog.querySelector("#reason-cancel");
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("cancel", onCancel);
    cancel.addEventListener("click", onCancel);
    dialog.showModal();
    input.focus();
  });
}
