// The console's shell: sign in, pick a screen (#floor, #plan), sign out.

import { ApiError, api, session, showProblem } from "./api.js";
import { createEditor } from "./editor.js";
import { createFloor } from "./floor.js";

const $ = (id) => document.getElementById(id);
const SCREENS = ["signin", "floor", "plan"];

const screens = {};
let user = null;

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

async function whoAmI() {
  const { data } = await api("GET", "/api/v1/auth/me");
  if (data.role !== "admin") {
    session.token = null;
    throw new ApiError(403, {
      title: "Not staff",
      detail: `${data.email} is not an admin account; the console is for staff.`,
    });
  }
  user = data;
  $("who-name").textContent = `${data.full_name || data.email}`;
}

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
