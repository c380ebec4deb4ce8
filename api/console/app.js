// The console's shell: sign in, pick a venue and a screen (#floor, #plan), sign out.

import { ApiError, api, session, showProblem, venue } from "./api.js";
import { createEditor } from "./editor.js";
import { createFloor } from "./floor.js";

const $ = (id) => document.getElementById(id);
const SCREENS = ["signin", "floor", "plan"];

const screens = {};
let user = null;
let zones = new Map(); // venue id -> its time zone, from the directory

function showScreen(name) {
  for (const id of SCREENS) $(id).hidden = id !== name;
  for (const button of document.querySelectorAll("#nav button")) {
    button.setAttribute("aria-current", button.dataset.screen === name ? "page" : "false");
  }
  document.title = `tablebook · ${name === "plan" ? "floor plan" : name === "floor" ? "evening floor" : "sign in"}`;
}

async function route() {
  if (!session.token || !user) {
    screens.floor?.hide();
    showScreen("signin");
    $("nav").hidden = true;
    $("who").hidden = true;
    $("signin-email").focus();
    return;
  }
  $("nav").hidden = false;
  $("who").hidden = false;
  const name = location.hash === "#plan" ? "plan" : "floor";
  showScreen(name);
  if (name === "plan") {
    screens.floor.hide();
    await screens.plan.show();
  } else {
    await screens.floor.show();
  }
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
  showPlanFor(venue.id);
}

/** Hosts run the evening's floor; the floor plan is for the venue's managers. */
function showPlanFor(venueId) {
  const manages = ["admin", "manager"].includes(roleIn(venueId));
  document.querySelector('#nav button[data-screen="plan"]').hidden = !manages;
  if (!manages && location.hash === "#plan") location.hash = "floor";
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
}

$("venue").addEventListener("change", async (event) => {
  venue.id = event.target.value;
  venue.zone = zones.get(venue.id) || null;
  showPlanFor(venue.id);
  screens.floor.hide();
  await route();
});

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = $("signin-problem");
  const form = event.target;
  const email = form.elements.namedItem("username").value.trim();
  const password = form.elements.namedItem("password").value;
  if (!email || !password) {
    showProblem(box, new Error("Enter your email and password."), "Sign-in:");
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
    form.reset();
    await route();
  } catch (error) {
    const lead = error instanceof ApiError && error.status === 401 ? "Not signed in:" : "";
    showProblem(box, error, lead);
  } finally {
    button.disabled = false;
  }
});

$("sign-out").addEventListener("click", () => {
  session.token = null;
  venue.id = null;
  user = null;
  route();
});

for (const button of document.querySelectorAll("#nav button")) {
  button.addEventListener("click", () => {
    location.hash = button.dataset.screen;
  });
}
window.addEventListener("hashchange", () => route());

session.onExpired = () => {
  session.token = null;
  user = null;
  route().then(() =>
    showProblem($("signin-problem"), new Error("Your session has ended; sign in again."), "Signed out:"),
  );
};

async function start() {
  screens.floor = createFloor();
  screens.plan = createEditor();
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
