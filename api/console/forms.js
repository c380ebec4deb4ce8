// Refusals beside the form that caused them: each field error next to its input, in the
// words of the input's label, every invalid field at once; the rest in the form's box.

import { ApiError, sentence, showProblem } from "./api.js";
import { htmlEl } from "./svg.js";

/** Take away the field errors a form shows. */
export function clearFieldErrors(form) {
  for (const node of form.querySelectorAll(".field-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    node.removeAttribute("aria-describedby");
  }
}

/**
 * Each field error of `error` beside its input. `names` maps an API field (its whole
 * path, or its last part, e.g. `table_ids`) to the form's input name where they differ. Answers how many
 * were shown.
 */
export function showFieldErrors(form, error, names = {}) {
  if (!(error instanceof ApiError)) return 0;
  let shown = 0;
  for (const { field, message } of error.errors) {
    // An input named by the field's whole path (`monday[1].close`) is that field's own;
    // otherwise the field's last part names it (`booking.table_ids` -> `table_ids`).
    const name = field.split(".").pop().replace(/\[\d+\]$/, "");
    const input = form.elements.namedItem(names[field] ?? field) ?? form.elements.namedItem(names[name] ?? name);
    const target = input instanceof RadioNodeList ? input[0] : input;
    if (!target || !target.id) continue;
    const id = `${target.id}-error`;
    if (document.getElementById(id)) continue;
    target.setAttribute("aria-invalid", "true");
    target.setAttribute("aria-describedby", id);
    target.after(htmlEl("p", { class: "field-error", id, text: sentence(message) }));
    shown += 1;
  }
  return shown;
}

/** A refusal beside a form: each field error beside its field and "Check the marked
 * fields." in the box, or the refusal's own sentence when it names no field we show. */
export function refused(form, box, error, lead = "", names = {}) {
  clearFieldErrors(form);
  const marked = showFieldErrors(form, error, names);
  if (marked && error instanceof ApiError && marked === error.errors.length) {
    showProblem(box, new Error("Check the marked fields."), lead);
  } else {
    showProblem(box, error, error instanceof ApiError && error.status !== 0 ? lead : "");
  }
}

/** Mistakes the console sees before asking the API (an empty required field), shown
 * the same way as the API's: `problems` maps an input's name to what is wrong (or ""
 * when nothing is). Answers whether anything was. */
export function checkedHere(form, box, problems, lead = "") {
  const errors = Object.entries(problems)
    .filter(([, message]) => message)
    .map(([field, message]) => ({ field, message }));
  if (!errors.length) {
    clearFieldErrors(form);
    return false;
  }
  refused(form, box, new ApiError(400, { title: "Check the form", detail: "Check the marked fields.", errors }), lead);
  return true;
}

/** A <select> of `choices` (an object or [value, text] pairs, in order), `value` chosen. */
export function select(attrs, choices, value) {
  const pairs = Array.isArray(choices) ? choices : Object.entries(choices);
  return htmlEl("select", attrs, ...pairs.map(([key, text]) => htmlEl("option", { value: key, selected: key === value, text })));
}
