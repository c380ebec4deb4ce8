// The public booking page: date and party size -> free times -> details -> booked;
// with ?booking=<id>#token=<token>, the guest's own booking to change or cancel.
// Every date and time is the venue's local one; the page never uses the browser's zone.

const $ = (id) => document.getElementById(id);
const slug = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/api/v1/venues/${encodeURIComponent(slug)}`;
const params = new URLSearchParams(location.search);
const embedded = document.documentElement.classList.contains("embed");
let bearer = sessionStorage.getItem("tablebook.token");
const state = { venue: null, slot: null, booking: null, token: null, managing: false };

async function call(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  return { ok: response.ok, status: response.status, data, headers: response.headers };
}

const manageHeaders = () => ({ Authorization: `Booking ${state.token}` });

function show(step) {
  for (const id of ["step-search", "step-details", "step-done", "step-manage"]) {
    $(id).hidden = id !== step;
  }
  const title = $(step).querySelector("h2");
  if (title) title.focus();
}

function notice(text, ok = false) {
  const box = $("notice");
  box.textContent = text || "";
  box.className = ok ? "ok" : "";
  box.hidden = !text;
}

function longDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

function addDays(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function guests(n) { return n === 1 ? "1 guest" : `${n} guests`; }

function describe(list, booking) {
  list.replaceChildren();
  const rows = [
    ["Reference", booking.id],
    ["Status", booking.status],
    ["Date", longDate(booking.date)],
    ["Time", `${booking.time}–${booking.end_time} (${state.venue.time_zone})`],
    ["Party", guests(booking.party_size)],
    ["Name", booking.guest_name],
  ];
  if (booking.guest_email) rows.push(["Email", booking.guest_email]);
  if (booking.guest_phone) rows.push(["Phone", booking.guest_phone]);
  if (booking.special_requests) rows.push(["Requests", booking.special_requests]);
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
}

function problemText(result) {
  const problem = result.data || {};
  if (result.status === 429) {
    const wait = result.headers.get("Retry-After");
    return `Too many attempts from here. Try again in ${wait || "a few"} seconds.`;
  }
  return problem.detail || "Something went wrong. Please try again.";
}

// --- choosing a time ----------------------------------------------------------------

async function findSlots(event) {
  event?.preventDefault();
  const date = $("date").value;
  const party = Number($("party").value);
  const status = $("slots-status");
  const list = $("slots");
  list.replaceChildren();
  if (!date) {
    status.textContent = "Choose a date first.";
    return;
  }
  status.textContent = "Looking for free times…";
  const result = await call("GET", `/availability?date=${date}&party_size=${party}`);
  if (!result.ok) {
    status.textContent = problemText(result);
    return;
  }
  const slots = result.data.slots;
  status.textContent = slots.length
    ? `${slots.length} free ${slots.length === 1 ? "time" : "times"} on ${longDate(date)} for ${guests(party)}.`
    : `No free times on ${longDate(date)} for ${guests(party)}. Try another date.`;
  for (const slot of slots) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = slot.time;
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", `${slot.time} on ${longDate(slot.date)}`);
    button.addEventListener("click", () => choose({ ...slot, party_size: party }, button));
    item.append(button);
    list.append(item);
  }
}

function choose(slot, button) {
  for (const other of $("slots").querySelectorAll("button")) {
    other.setAttribute("aria-pressed", String(other === button));
  }
  state.slot = slot;
  if (state.managing) {
    changeBooking(slot);
    return;
  }
  $("chosen").textContent =
    `${longDate(slot.date)} at ${slot.time} (${state.venue.time_zone}), ${guests(slot.party_size)}`;
  show("step-details");
}

// --- booking --------------------------------------------------------------------------

function clearFieldErrors() {
  for (const box of document.querySelectorAll(".field-error")) box.textContent = "";
  for (const input of $("details").querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
  }
}

function fieldErrors(result) {
  const errors = (result.data && result.data.errors) || [];
  let first = null;
  for (const { field, message } of errors) {
    const box = $(`err-${field}`);
    const input = $(field);
    if (!box || !input) continue;
    box.textContent = message;
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  return first;
}

async function book(event) {
  event.preventDefault();
  clearFieldErrors();
  notice("");
  const form = new FormData($("details"));
  const body = {
    date: state.slot.date,
    time: state.slot.time,
    party_size: state.slot.party_size,
    guest_name: String(form.get("guest_name") || "").trim(),
  };
  for (const name of ["guest_email", "guest_phone", "special_requests"]) {
    const value = String(form.get(name) || "").trim();
    if (value) body[name] = value;
  }
  const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  $("book").disabled = true;
  const result = await call("POST", "/public/bookings", { body, headers });
  $("book").disabled = false;
  if (result.status === 401 && bearer) {
    // The tab's sign-in has ended: book as a guest, with an email, from here on.
    bearer = null;
    $("guest_email").required = true;
    $("email-label").textContent = "Email";
    notice("Your sign-in has expired. Give your email to book without an account.");
    $("guest_email").focus();
    return;
  }
  if (!result.ok) {
    const first = fieldErrors(result);
    if (first) {
      first.focus();
    } else {
      notice(problemText(result));
      if (result.status === 409 || result.status === 422) {
        show("step-search");
        findSlots();
      }
    }
    return;
  }
  const booking = result.data;
  state.booking = booking;
  state.token = booking.manage_token;
  describe($("summary"), booking);
  if (state.token) {
    const link = `${location.origin}/book/${encodeURIComponent(slug)}?booking=${booking.id}#token=${state.token}`;
    $("manage-link").href = link;
    $("manage-note").hidden = false;
  }
  await calendarLink($("ics"));
  show("step-done");
}

async function calendarLink(anchor) {
  // Without a token the booking is the signed-in guest's own: their sign-in opens it.
  const headers = state.token ? manageHeaders() : { Authorization: `Bearer ${bearer}` };
  const response = await fetch(`${base}/public/bookings/${state.booking.id}/calendar.ics`, {
    headers,
  });
  if (!response.ok) return;
  const blob = await response.blob();
  if (anchor.href.startsWith("blob:")) URL.revokeObjectURL(anchor.href);
  anchor.href = URL.createObjectURL(blob);
  anchor.download = `booking-${state.booking.id}.ics`;
  anchor.hidden = false;
}

// --- managing a booking with its token ------------------------------------------------

function takeToken(bookingId) {
  const key = `tablebook.manage.${bookingId}`;
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    sessionStorage.setItem(key, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(key);
}

async function openBooking(bookingId) {
  state.managing = true;
  state.token = takeToken(bookingId);
  const result = state.token
    ? await call("GET", `/public/bookings/${encodeURIComponent(bookingId)}`, { headers: manageHeaders() })
    : { ok: false, status: 404 };
  if (!result.ok) {
    notice(result.status === 404
      ? "This link no longer works: the booking has ended, or the link is not complete."
      : problemText(result));
    state.managing = false;
    show("step-search");
    return;
  }
  showBooking(result.data);
}

function showBooking(booking) {
  state.booking = booking;
  describe($("current"), booking);
  const open = booking.status === "confirmed";
  $("manage-actions").hidden = !open;
  $("confirm-cancel").hidden = true;
  $("manage-ics").hidden = true;
  if (open) calendarLink($("manage-ics"));
  show("step-manage");
}

function startChange() {
  notice("");
  $("date").value = state.booking.date;
  $("party").value = String(state.booking.party_size);
  $("search-title").textContent = "Choose a new date, time or party size";
  show("step-search");
  findSlots();
}

async function changeBooking(slot) {
  const result = await call("PUT", `/public/bookings/${state.booking.id}`, {
    body: { date: slot.date, time: slot.time, party_size: slot.party_size },
    headers: { ...manageHeaders(), "If-Match": `"${state.booking.version}"` },
  });
  if (!result.ok) {
    notice(problemText(result));
    findSlots();
    return;
  }
  notice("Your booking has been changed.", true);
  showBooking(result.data);
}

async function cancelBooking() {
  const result = await call("DELETE", `/public/bookings/${state.booking.id}`, {
    headers: manageHeaders(),
  });
  if (!result.ok) {
    notice(problemText(result));
    return;
  }
  notice("Your booking has been cancelled.", true);
  showBooking(result.data);
}

// --- the page -------------------------------------------------------------------------

function reportHeight() {
  if (!embedded || window.parent === window) return;
  const post = () => window.parent.postMessage(
    { type: "tablebook:height", height: document.documentElement.scrollHeight }, "*");
  new ResizeObserver(post).observe(document.body);
  post();
}

function snippet() {
  const src = `${location.origin}/book/${encodeURIComponent(slug)}?embed=1`;
  $("snippet").textContent =
    `<iframe id="tablebook" src="${src}" title="Book a table"\n` +
    `        style="width:100%;border:0;min-height:420px"></iframe>\n` +
    `<script>\n` +
    `  addEventListener("message", (e) => {\n` +
    `    if (e.origin === "${location.origin}" && e.data && e.data.type === "tablebook:height")\n` +
    `      document.getElementById("tablebook").style.height = e.data.height + "px";\n` +
    `  });\n` +
    `</` + `script>`;
}

async function start() {
  reportHeight();
  snippet();
  const result = await call("GET", "/public/venue");
  if (!result.ok) {
    notice(problemText(result));
    return;
  }
  const venue = (state.venue = result.data);
  document.title = `Book a table at ${venue.name}`;
  $("venue-name").textContent = venue.name;
  $("venue-zone").textContent = `Dates and times are local to the restaurant (${venue.time_zone}).`;
  $("date").min = venue.today;
  $("date").max = addDays(venue.today, venue.max_days_ahead);
  $("date").value = venue.today;
  for (let n = venue.min_party_size; n <= venue.max_party_size; n++) {
    const option = new Option(guests(n), String(n));
    $("party").append(option);
  }
  $("party").value = String(Math.min(Math.max(2, venue.min_party_size), venue.max_party_size));
  if (bearer) {
    $("guest_email").required = false;
    $("email-label").textContent = "Email (optional)";
  }
  $("search").addEventListener("submit", findSlots);
  $("details").addEventListener("submit", book);
  $("back").addEventListener("click", () => show("step-search"));
  $("change").addEventListener("click", startChange);
  $("cancel").addEventListener("click", () => {
    $("manage-actions").hidden = true;
    $("confirm-cancel").hidden = false;
    $("cancel-no").focus();
  });
  $("cancel-no").addEventListener("click", () => {
    $("confirm-cancel").hidden = true;
    $("manage-actions").hidden = false;
    $("cancel").focus();
  });
  $("cancel-yes").addEventListener("click", cancelBooking);
  const bookingId = params.get("booking");
  if (bookingId) {
    await openBooking(bookingId);
  } else {
    show("step-search");
  }
}

start();
