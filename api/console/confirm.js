// Asking before an irreversible action, in the page's own modal <dialog> (focus stays
// inside it, Escape cancels, focus goes back to where it was): never window.confirm,
// which a tablet may block and a screen reader announces poorly.

import { htmlEl } from "./svg.js";

let dialog = null;
let pending = null; // the answer of the question open now

function build() {
  dialog = htmlEl(
    "dialog",
    { id: "confirm-dialog", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-detail" },
    htmlEl(
      "form",
      { method: "dialog" },
      htmlEl("h3", { id: "confirm-title" }),
      htmlEl("p", { id: "confirm-detail", class: "detail" }),
      htmlEl("ul", { id: "confirm-list", class: "confirm-list" }),
      htmlEl(
        "div",
        { class: "actions" },
        htmlEl("button", { type: "submit", id: "confirm-yes", class: "danger" }),
        htmlEl("button", { type: "button", id: "confirm-no", text: "Keep it" }),
      ),
    ),
  );
  document.body.append(dialog);
}

/**
 * Ask `title` / `detail` (and a list of `items`, each a line of text) with a `confirm`
 * button and a `keep` button; answers true only when the confirm button is pressed.
 */
export function confirmAction({ title, detail = "", items = [], confirm, keep = "Keep it" }) {
  if (!dialog) build();
  dialog.querySelector("#confirm-title").textContent = title;
  dialog.querySelector("#confirm-detail").textContent = detail;
  const list = dialog.querySelector("#confirm-list");
  list.replaceChildren(...items.map((text) => htmlEl("li", { text })));
  list.hidden = items.length === 0;
  const yes = dialog.querySelector("#confirm-yes");
  const no = dialog.querySelector("#confirm-no");
  yes.textContent = confirm;
  no.textContent = keep;
  const form = dialog.querySelector("form");
  const before = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer) => {
      pending = null;
      form.removeEventListener("submit", onYes);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("cancel", onNo);
      if (dialog.open) dialog.close();
      if (before instanceof HTMLElement && before.isConnected) before.focus();
      resolve(answer);
    };
    const onYes = (event) => {
      event.preventDefault();
      finish(true);
    };
    const onNo = (event) => {
      event.preventDefault();
      finish(false);
    };
    pending = finish;
    form.addEventListener("submit", onYes);
    no.addEventListener("click", onNo);
    dialog.addEventListener("cancel", onNo);
    dialog.showModal();
    no.focus(); // the safe answer is the one Enter gives by default
  });
}

/** Take back the question open now, if any, as if it was answered "keep". */
export function dismissConfirm() {
  pending?.(false);
}
