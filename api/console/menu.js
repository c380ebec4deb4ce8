// The navigation on a narrow screen: a "Menu" button in the header opens the screens as a
// list below it and closes it again on a choice, on Escape, or on a tap elsewhere. On a
// wide screen the button is not shown (style.css) and the navigation is always open.

const $ = (id) => document.getElementById(id);

export function createMenu() {
  const toggle = $("nav-toggle");
  const nav = $("nav");

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", String(open));
    nav.dataset.open = String(open);
  }

  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    setOpen(open);
    if (open) (nav.querySelector("[aria-current=page]") ?? nav.querySelector("button"))?.focus();
  });
  nav.addEventListener("click", (event) => {
    if (event.target.closest("button")) setOpen(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || toggle.getAttribute("aria-expanded") !== "true") return;
    setOpen(false);
    toggle.focus();
  });
  document.addEventListener("pointerdown", (event) => {
    if (!nav.contains(event.target) && !toggle.contains(event.target)) setOpen(false);
  });
  setOpen(false);

  return {
    /** Shown only to someone signed in, like the navigation itself. */
    set hidden(value) {
      toggle.hidden = value;
      if (value) setOpen(false);
    },
  };
}
