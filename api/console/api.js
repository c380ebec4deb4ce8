// The public API as the console uses it: a Bearer token kept for the browser tab,
// JSON in and out, and refusals turned into ApiError with the problem details.

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
  },
  onExpired: () => {},
};

/** The venue the console works on, kept for the browser tab (chosen in the header). */
export const venue = {
  get id() {
    return sessionStorage.getItem(VENUE_KEY);
  },
  set id(value) {
    if (value) sessionStorage.setItem(VENUE_KEY, value);
    else sessionStorage.removeItem(VENUE_KEY);
  },
};

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

/** Show an ApiError (or any error) in a problem box: title, detail, and field errors. */
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
  detail.textContent = ` ${error instanceof ApiError ? error.detail : error.message}`;
  box.append(strong, detail);
  if (error instanceof ApiError && error.errors.length) {
    const list = document.createElement("ul");
    for (const field of error.errors) {
      const item = document.createElement("li");
      item.textContent = `${field.field}: ${field.message}`;
      list.append(item);
    }
    box.append(list);
  }
  box.hidden = false;
}
