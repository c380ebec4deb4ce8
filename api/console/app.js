// The console's shell: sign in, pick a venue and a screen (`#floor`, `#timeline`, ...),
// sign out. Each screen is a module with `show()` and `hide()`; the registry below says
// which roles see it in the navigation. The API decides what anyone may do; the
// navigation only leaves out what a role could not use.

import { ApiError, api, keepSignedIn, session, showProblem, signOut, syncClock, venue } from "./api.js";
import { initBookingDetail } from "./booking.js";
import { createEditor } from "./editor.js";
import { createFloor } from "./floor.js";
import { checkedHere, clearFieldErrors, refused } from "./forms.js";
import { createMenu } from "./menu.js";
import { createClosures } from "./screens/closures.js";
import { createDashboard } from "./screens/dashboard.js";
import { createHours } from "./screens/hours.js";
import { createNotifications } from "./screens/notifications.js";
import { createPeople } from "./screens/people.js";
import { createReports } from "./screens/reports.js";
import { createSearch, initSearchBox } from "./screens/search.js";
import { createTables } from "./screens/tables.js";
import { createTimeline } from "./screens/timeline.js";

const $ = (id) => document.getElementById(id);

const EVERYONE = ["admin", "manager", "host"];
const MANAGERS = ["admin", "manager"];
/** Every screen, in the navigation's order. `nav: false` screens are reached otherwise
 * (the search box). */
const REGISTRY = [
  { name: "floor", title: "Evening floor", roles: EVERYONE, create: createFloor },
  { name: "timeline", title: "Timeline", roles: EVERYONE, create: createTimeline },
  { name: "dashboard", title: "Dashboard", roles: MANAGERS, create: createDashboard },
  { name: "plan", title: "Floor plan", roles: MANAGERS, create: createEditor },
  { name: "tables", title: "Tables", roles: MANAGERS, create: createTables },
  { name: "closures", title: "Blocks & closures", roles: MANAGERS, create: createClosures },
  { name: "hours", title: "Hours & slots", roles: MANAGERS, create: createHours },
  { name: "reports", title: "Reports", roles: MANAGERS, create: createReports },
  { name: "notifications", title: "Notifications", roles: MANAGERS, create: createNotifications },
  { name: "people", title: "Staff & users", roles: MANAGERS, create: createPeople },
  { name: "search", title: "Search", roles: EVERYONE, create: createSearch, nav: false },
];
const byName = new Map(REGISTRY.map((s) => [s.name, s]));

const screens = {}; // name -> {show, hide}, made on first use
let user = null;
let zones = new Map(); // venue id -> its time zone, from the directory
let current = null; // the screen shown
const menu = createMenu();

function screen(name) {
  screens[name] ??= byName.get(name).create({ user: () => user, role: () => roleIn(venue.id) });
  return screens[name];
}

/** The screens the signed-in user's role at the chosen venue may use. */
function allowed(name) {
  const entry = byName.get(name);
  return Boolean(entry && entry.roles.includes(roleIn(venue.id)));
}

function showScreen(name) {
  for (const id of ["signin", ...byName.keys()]) $(id).hidden = id !== name;
  for (const button of document.querySelectorAll("#nav button")) {
    button.setAttribute("aria-current", button.dataset.screen === name ? "page" : "false");
  }
  const title = byName.get(name)?.title ?? "Sign in";
  document.title = `tablebook · ${title.toLowerCase()}`;
}

function hideCurrent(next = null) {
  if (current && current !== next) screens[current]?.hide();
  current = next;
}

/** Show the screen the address names. `moved`: the address changed (a navigation), so
 * focus goes to the screen's heading even when the screen stays the same. */
async function route(moved = false) {
  if (!session.token || !user) {
    hideCurrent();
    showScreen("signin");
    $("nav").hidden = true;
    menu.hidden = true;
    $("who").hidden = true;
    $("search-form").hidden = true;
    $("signin-email").focus();
    return;
  }
  $("nav").hidden = false;
  menu.hidden = false;
  $("who").hidden = false;
  $("search-form").hidden = false;
  const wanted = location.hash.slice(1).split("?")[0];
  const name = allowed(wanted) ? wanted : "floor";
  // A screen the role may not use here (a host's venue after a manager's) is not kept in
  // the address either; replaceState, so this does not route a second time.
  if (wanted && wanted !== name) history.replaceState(null, "", `#${name}`);
  const changed = moved || name !== current;
  hideCurrent(name);
  showScreen(name);
  if (!changed) {
    await screen(name).show();
    return;
  }
  // A new screen: focus goes to its heading, so a screen reader says where we are and
  // Tab goes on from the top of it. A screen that builds (or rebuilds) its heading as it
  // shows gets focus once it has, unless the user has put focus somewhere meanwhile.
  focusHeading(name);
  const before = document.activeElement; // the heading, or still what led here
  await screen(name).show();
  const now = document.activeElement;
  if (!now || now === before || now === document.body || now === $("main")) focusHeading(name);
}

function focusHeading(name) {
  if (document.activeElement === $("venue")) return; // a venue switch stays on the switcher
  const heading = document.getElementById(`${name}-title`);
  if (!heading || heading.closest("[hidden]") || heading === document.activeElement) return;
  if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: false });
}

/** The navigation for the role at the chosen venue. */
function renderNav() {
  const nav = $("nav");
  nav.replaceChildren(
    ...REGISTRY.filter((s) => s.nav !== false && allowed(s.name)).map((s) => {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.screen = s.name;
      button.textContent = s.title;
      button.addEventListener("click", () => {
        if (location.hash === `#${s.name}`) focusHeading(s.name);
        else location.hash = s.name;
      });
      return button;
    }),
  );
}

function roleIn(venueId) {
  if (user?.role === "admin") return "admin";
  return (user?.venues || []).find((grant) => grant.venue_id === venueId)?.role || null;
}

/** Fill the venue switcher with the venues the user may see: every venue for an admin,
 * the venues they work at for anyone else; keep the tab's choice if it is one of them. */
async function loadVenues() {
  const { data } = await api("GET", "/api/v1/venues?limit=500");
  const listed = Array.isArray(data) ? data : data?.items || [];
  const visible = listed.filter((v) => roleIn(v.id) !== null);
  const picker = $("venue");
  picker.replaceChildren(
    ...visible.map((v) => {
      const option = document.createElement("option");
      option.value = v.id;
      option.textContent = v.name;
      return option;
    }),
  );
  if (!visible.some((v) => v.id === venue.id)) venue.id = visible[0]?.id || null;
  picker.value = venue.id || "";
  picker.disabled = visible.length < 2;
  zones = new Map(visible.map((v) => [v.id, v.time_zone]));
  venue.zone = zones.get(venue.id) || null;
  renderNav();
}

async function whoAmI() {
  const { data } = await api("GET", "/api/v1/auth/me");
  const grants = Array.isArray(data.venues) ? data.venues : [];
  if (data.role !== "admin" && grants.length === 0) {
    session.token = null;
    throw new ApiError(403, {
      title: "Not staff",
      detail: `${data.email} works at no venue; the console is for staff.`,
    });
  }
  user = data;
  $("who-name").textContent = `${data.full_name || data.email}`;
  await loadVenues();
  try {
    await syncClock();
  } catch {
    // The directory's zone and the browser's clock stand in until the next sync.
  }
}

// Another venue: its zone and clock, the navigation its role allows, and the open screen
// drawn again for it (hidden first, so it lets go of the old venue's live feed).
$("venue").addEventListener("change", async (event) => {
  venue.id = event.target.value;
  venue.zone = zones.get(venue.id) || null;
  renderNav();
  hideCurrent();
  try {
    await syncClock();
  } catch {
    // The directory's zone and the browser's clock stand in until the next sync.
  }
  await route();
});

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = $("signin-problem");
  const form = event.target;
  const email = form.elements.namedItem("username").value.trim();
  const password = form.elements.namedItem("password").value;
  const mistakes = {
    username: email ? "" : "Enter the email you sign in with.",
    password: password ? "" : "Enter your password.",
  };
  if (checkedHere(form, box, mistakes, "Not signed in:")) {
    form.querySelector("[aria-invalid=true]")?.focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { data } = await api("POST", "/api/v1/auth/token", {
      form: { username: email, password },
    });
    session.token = data.access_token;
    await whoAmI();
    showProblem(box, null);
    clearFieldErrors(form);
    form.reset();
    await route();
  } catch (error) {
    const lead = error instanceof ApiError && error.status === 401 ? "Not signed in:" : "";
    refused(form, box, error, lead);
  } finally {
    button.disabled = false;
  }
});

$("sign-out").addEventListener("click", async () => {
  const done = signOut(); // revokes the account's tokens on the server
  venue.id = null;
  user = null;
  await route();
  await done;
});

window.addEventListener("hashchange", () => route(true));

session.onExpired = () => {
  session.token = null;
  user = null;
  route().then(() =>
    showProblem($("signin-problem"), new Error("Your session has ended; sign in again."), "Signed out:"),
  );
};

initBookingDetail({ user: () => user, role: () => roleIn(venue.id) });
initSearchBox();

async function start() {
  keepSignedIn(); // a token kept from before a reload is refreshed in time too
  if (session.token) {
    try {
      await whoAmI();
    } catch (error) {
      session.token = null;
      showProblem($("signin-problem"), error);
    }
  }
  await route();
}

start();
