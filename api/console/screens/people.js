// Staff & users: who works at the chosen venue and as what (grant a role by email, change
// it, revoke it), and for admins every account of the deployment (search, make or unmake
// an admin, deactivate or reactivate). Everything a person loses asks first; the API's
// refusals (the venue's last manager, an unknown email) are shown beside what caused them.

import { ApiError, api, sentence, showProblem, venue } from "../api.js";
import { clearFieldErrors, refused, select } from "../forms.js";
import { htmlEl } from "../svg.js";
import { confirmAction, dismissConfirm } from "../confirm.js";

const STAFF_ROLES = { manager: "Manager", host: "Host" };
const ACCOUNT_ROLES = { admin: "Admin", system_user: "Not an admin" };
const PAGE = 50;
/** Refusals of a grant that are about the email typed: shown beside that field. */
const ABOUT_THE_EMAIL = ["/user-not-found", "/user-inactive", "/invalid-email"];

const staffPath = () => `/api/v1/admin/venues/${encodeURIComponent(venue.id)}/staff`;

/** A date of the API as the venue's calendar shows it ("6 Dec 2026"). */
function venueDay(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  try {
    return new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: venue.zone || undefined }).format(when);
  } catch {
    return new Intl.DateTimeFormat("en-GB", { dateStyle: "medium" }).format(when);
  }
}

function chosenVenueName() {
  const picker = document.getElementById("venue");
  return picker?.selectedOptions?.[0]?.textContent || "this venue";
}

/** A person's line in a list: who they are (`hint` below), then `controls`, then the
 * line's own `problem`. */
function personRow({ id, name, you, email, hint }, controls, problem) {
  return htmlEl(
    "li",
    { class: "person", "data-user-id": id },
    htmlEl(
      "div",
      { class: "who" },
      htmlEl("strong", { text: `${name}${you ? " (you)" : ""}` }),
      htmlEl("span", { class: "email", text: email }),
      htmlEl("span", { class: "hint", text: hint }),
    ),
    htmlEl("div", { class: "controls" }, ...controls),
    problem,
  );
}

export function createPeople(ctx) {
  const section = document.getElementById("people");
  let ui = null;
  let venueNames = new Map(); // venue id -> name, for the accounts' grants
  let cursor = null; // the accounts list's next page

  /** Ask before something a person loses: answers true when confirmed. */
  const confirmThat = ({ title, detail, confirm }) => confirmAction({ title, detail, confirm, keep: "Cancel" });

  const say = (text) => {
    ui.status.textContent = text;
  };

  function build() {
    const heading = htmlEl("h2", { id: "people-title", text: "Staff & users" });
    const status = htmlEl("p", { class: "status", role: "status", id: "people-status" });

    // --- the venue's staff ---
    const staffTitle = htmlEl("h3", { id: "people-staff-title" });
    const staffProblem = htmlEl("div", { class: "problem", role: "alert", id: "people-staff-problem", hidden: true });
    const staffList = htmlEl("ul", { class: "people-list", id: "people-staff", "aria-labelledby": "people-staff-title" });
    const grantProblem = htmlEl("div", { class: "problem", role: "alert", id: "people-grant-problem", hidden: true });
    const grantForm = htmlEl(
      "form",
      { id: "people-grant", class: "people-grant", novalidate: true, "aria-labelledby": "people-grant-title" },
      htmlEl("h3", { id: "people-grant-title", text: "Give someone a role here" }),
      htmlEl("p", {
        class: "hint",
        text: "They need an account first (they register with their email). The role holds from their next click.",
      }),
      grantProblem,
      htmlEl(
        "div",
        { class: "people-fields" },
        htmlEl(
          "div",
          {},
          htmlEl("label", { for: "people-grant-email", text: "Email" }),
          htmlEl("input", { id: "people-grant-email", name: "email", type: "email", autocomplete: "off", required: true, maxlength: "320" }),
        ),
        htmlEl(
          "div",
          {},
          htmlEl("label", { for: "people-grant-role", text: "Role" }),
          select({ id: "people-grant-role", name: "role" }, STAFF_ROLES, "host"),
        ),
        htmlEl("button", { type: "submit", class: "primary", text: "Grant role" }),
      ),
    );
    const staffCard = htmlEl("div", { class: "card people-card" }, staffTitle, staffProblem, staffList, grantForm);

    // --- every account (admins) ---
    const accountsProblem = htmlEl("div", { class: "problem", role: "alert", id: "people-accounts-problem", hidden: true });
    const accountsList = htmlEl("ul", { class: "people-list", id: "people-accounts", "aria-labelledby": "people-accounts-title" });
    const more = htmlEl("button", { type: "button", id: "people-more", hidden: true, text: "Show more accounts" });
    const searchForm = htmlEl(
      "form",
      { id: "people-search", class: "people-fields", role: "search", novalidate: true },
      htmlEl(
        "div",
        {},
        htmlEl("label", { for: "people-q", text: "Search name or email" }),
        htmlEl("input", { id: "people-q", name: "q", type: "search", autocomplete: "off", maxlength: "200" }),
      ),
      htmlEl(
        "div",
        {},
        htmlEl("label", { for: "people-active", text: "Status" }),
        select({ id: "people-active", name: "is_active" }, { "": "Any", true: "Active", false: "Deactivated" }, ""),
      ),
      htmlEl(
        "div",
        {},
        htmlEl("label", { for: "people-role", text: "Account role" }),
        select({ id: "people-role", name: "role" }, { "": "Any", admin: "Admins", system_user: "Not admins" }, ""),
      ),
      htmlEl("button", { type: "submit", text: "Search" }),
    );
    const accountsCard = htmlEl(
      "div",
      { class: "card people-card", id: "people-accounts-card", hidden: true },
      htmlEl("h3", { id: "people-accounts-title", text: "All accounts" }),
      htmlEl("p", {
        class: "hint",
        text: "Deactivating signs the person out at once, everywhere, and stops them signing in until reactivated.",
      }),
      searchForm,
      accountsProblem,
      accountsList,
      more,
    );

    section.replaceChildren(heading, status, htmlEl("div", { class: "people-grid" }, staffCard, accountsCard));
    grantForm.addEventListener("submit", (event) => {
      event.preventDefault();
      grant();
    });
    searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      loadAccounts(false);
    });
    more.addEventListener("click", () => loadAccounts(true));
    return {
      status,
      staffTitle,
      staffProblem,
      staffList,
      grantForm,
      grantProblem,
      accountsCard,
      accountsProblem,
      accountsList,
      searchForm,
      more,
    };
  }

  // --- the venue's staff -----------------------------------------------------------

  async function loadStaff() {
    ui.staffTitle.textContent = `Staff at ${chosenVenueName()}`;
    try {
      const { data } = await api("GET", staffPath());
      ui.staffList.replaceChildren(...data.map(staffRow));
      if (!data.length) ui.staffList.append(htmlEl("li", { class: "hint", text: "Nobody has a role here yet." }));
      showProblem(ui.staffProblem, null);
    } catch (error) {
      showProblem(ui.staffProblem, error, "Could not load the staff:");
    }
  }

  function staffRow(member) {
    const you = member.user_id === ctx.user()?.id;
    const name = member.full_name || member.email;
    const roleId = `people-staff-role-${member.user_id}`;
    const problem = htmlEl("p", { class: "field-error", role: "alert", id: `${roleId}-error`, hidden: true });
    const role = select({ id: roleId, "aria-describedby": `${roleId}-error` }, STAFF_ROLES, member.role);
    const revoke = htmlEl("button", { type: "button", class: "danger", text: "Revoke" });
    revoke.setAttribute("aria-label", `Revoke ${name}'s role`);
    const row = personRow(
      { id: member.user_id, name, you, email: member.email, hint: `since ${venueDay(member.granted_at)}` },
      [htmlEl("label", { for: roleId, class: "visually-hidden", text: `Role of ${name}` }), role, revoke],
      problem,
    );
    const refuse = (error) => {
      problem.textContent = sentence(error instanceof ApiError ? error.detail : error.message);
      problem.hidden = false;
    };
    role.addEventListener("change", async () => {
      problem.hidden = true;
      const wanted = role.value;
      role.disabled = true;
      try {
        await api("PUT", `${staffPath()}/${encodeURIComponent(member.user_id)}`, { body: { role: wanted } });
        member.role = wanted;
        say(`${name} is now ${wanted === "manager" ? "a manager" : "a host"} at ${chosenVenueName()}.`);
      } catch (error) {
        role.value = member.role; // the refusal leaves the role as it was
        refuse(error);
      } finally {
        role.disabled = false;
      }
    });
    revoke.addEventListener("click", async () => {
      problem.hidden = true;
      const sure = await confirmThat({
        title: `Revoke ${name}'s role?`,
        detail: `${name} will no longer work at ${chosenVenueName()} as ${STAFF_ROLES[member.role].toLowerCase()}; from their next click the console shows them nothing of it.`,
        confirm: "Revoke role",
      });
      if (!sure) return;
      try {
        await api("DELETE", `${staffPath()}/${encodeURIComponent(member.user_id)}`);
        say(`${name} no longer has a role at ${chosenVenueName()}.`);
        await loadStaff();
      } catch (error) {
        refuse(error);
      }
    });
    return row;
  }

  async function grant() {
    const form = ui.grantForm;
    const email = form.elements.namedItem("email").value.trim();
    const role = form.elements.namedItem("role").value;
    clearFieldErrors(form);
    showProblem(ui.grantProblem, null);
    if (!email) {
      refused(form, ui.grantProblem, new ApiError(422, { title: "Check the email", detail: "Enter their email.", errors: [{ field: "email", message: "enter the email they signed up with" }] }));
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const { data } = await api("POST", staffPath(), { body: { email, role } });
      form.reset();
      say(`${data.full_name || data.email} is now ${role === "manager" ? "a manager" : "a host"} at ${chosenVenueName()}.`);
      await loadStaff();
    } catch (error) {
      if (error instanceof ApiError && ABOUT_THE_EMAIL.some((kind) => error.type.endsWith(kind)) && !error.errors.length) {
        const message = error.type.endsWith("/invalid-email") ? "not a valid email address" : error.detail;
        error.errors = [{ field: "email", message }];
      }
      refused(form, ui.grantProblem, error, "Not granted:");
    } finally {
      button.disabled = false;
    }
  }

  // --- every account (admins) --------------------------------------------------------

  function accountsQuery() {
    const form = ui.searchForm;
    const params = new URLSearchParams({ limit: String(PAGE) });
    const q = form.elements.namedItem("q").value.trim();
    if (q) params.set("q", q);
    for (const name of ["is_active", "role"]) {
      const value = form.elements.namedItem(name).value;
      if (value) params.set(name, value);
    }
    return params;
  }

  async function loadAccounts(more) {
    const params = accountsQuery();
    if (more && cursor) params.set("cursor", cursor);
    try {
      const { data } = await api("GET", `/api/v1/admin/users?${params}`);
      const rows = data.items.map(accountRow);
      if (more) ui.accountsList.append(...rows);
      else ui.accountsList.replaceChildren(...rows);
      if (!more && !rows.length) ui.accountsList.append(htmlEl("li", { class: "hint", text: "No account matches." }));
      cursor = data.next_cursor || null;
      ui.more.hidden = !cursor;
      showProblem(ui.accountsProblem, null);
    } catch (error) {
      showProblem(ui.accountsProblem, error, "Could not load the accounts:");
    }
  }

  function worksAt(account) {
    if (account.role === "admin") return "Works at every venue";
    if (!account.venues.length) return "Works at no venue";
    return `${account.venues.map((g) => `${STAFF_ROLES[g.role]} at ${venueNames.get(g.venue_id) || g.venue_id}`).join(", ")}`;
  }

  function accountRow(account) {
    const you = account.id === ctx.user()?.id;
    const name = account.full_name || account.email;
    const roleId = `people-account-role-${account.id}`;
    const problem = htmlEl("p", { class: "field-error", role: "alert", id: `${roleId}-error`, hidden: true });
    const role = select({ id: roleId, "aria-describedby": `${roleId}-error`, disabled: you }, ACCOUNT_ROLES, account.role);
    const toggle = htmlEl("button", {
      type: "button",
      class: account.is_active ? "danger" : "",
      disabled: you,
      text: account.is_active ? "Deactivate" : "Reactivate",
    });
    toggle.setAttribute("aria-label", `${account.is_active ? "Deactivate" : "Reactivate"} ${name}`);
    const state = htmlEl("span", {
      class: `account-state ${account.is_active ? "on" : "off"}`,
      text: account.is_active ? "✓ Active" : "✕ Deactivated",
    });
    const row = personRow(
      { id: account.id, name, you, email: account.email, hint: worksAt(account) },
      [state, htmlEl("label", { for: roleId, class: "visually-hidden", text: `Account role of ${name}` }), role, toggle],
      problem,
    );

    const change = async (body, done) => {
      problem.hidden = true;
      try {
        const { data } = await api("PATCH", `/api/v1/admin/users/${encodeURIComponent(account.id)}`, { body });
        say(done);
        row.replaceWith(accountRow(data));
        return true;
      } catch (error) {
        problem.textContent = sentence(error instanceof ApiError ? error.detail : error.message);
        problem.hidden = false;
        return false;
      }
    };
    role.addEventListener("change", async () => {
      const wanted = role.value;
      const making = wanted === "admin";
      const sure = await confirmThat({
        title: making ? `Make ${name} an admin?` : `Take ${name}'s admin role away?`,
        detail: making
          ? `${name} will run every venue and every account. They are signed out once and sign in again.`
          : `${name} keeps only the roles granted at venues. They are signed out at once.`,
        confirm: making ? "Make admin" : "Remove admin",
      });
      if (!sure || !(await change({ role: wanted }, `${name} is ${making ? "now an admin" : "no longer an admin"}.`))) {
        role.value = account.role;
      }
    });
    toggle.addEventListener("click", async () => {
      if (account.is_active) {
        const sure = await confirmThat({
          title: `Deactivate ${name}?`,
          detail: `${name} is signed out at once, everywhere, and cannot sign in until an admin reactivates the account. Their bookings and roles stay.`,
          confirm: "Deactivate",
        });
        if (sure) await change({ is_active: false }, `${name} is deactivated and signed out.`);
      } else {
        const sure = await confirmThat({
          title: `Reactivate ${name}?`,
          detail: `${name} can sign in again, with the roles they had.`,
          confirm: "Reactivate",
        });
        if (sure) await change({ is_active: true }, `${name} can sign in again.`);
      }
    });
    return row;
  }

  async function loadVenueNames() {
    try {
      const { data } = await api("GET", "/api/v1/venues");
      const listed = Array.isArray(data) ? data : data?.items || [];
      venueNames = new Map(listed.map((v) => [v.id, v.name]));
    } catch {
      // Grants then name the venue by its id.
    }
  }

  return {
    async show() {
      ui ??= build();
      say("");
      const isAdmin = ctx.role() === "admin";
      ui.accountsCard.hidden = !isAdmin;
      const loads = [loadStaff()];
      if (isAdmin) loads.push(loadVenueNames().then(() => loadAccounts(false)));
      await Promise.all(loads);
    },
    hide() {
      if (ui) dismissConfirm();
    },
  };
}
