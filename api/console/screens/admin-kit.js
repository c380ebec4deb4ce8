// The pieces the managers' list-and-form screens (tables, blocks & closures) are built
// from: a labelled field, a form card with its problem box, a list card with its table
// beside the form that adds to it, and field errors of our own in the API's shape.

import { ApiError } from "../api.js";
import { htmlEl } from "../svg.js";

/** A labelled input, with a hint below it when one is given. */
export const field = (id, label, input, hint = "") =>
  htmlEl(
    "div",
    { class: "field" },
    htmlEl("label", { for: id, text: label }),
    input,
    hint ? htmlEl("p", { class: "hint", id: `${id}-hint`, text: hint }) : "",
  );

/** A field error of our own, the way the API reports one, for `refused()` to place. */
export const invalid = (errors) =>
  new ApiError(422, { title: "Check the form", detail: errors.map((e) => e.message).join("; "), errors });

/** A form card `${prefix}-form` titled `title`, its problem box `${prefix}-problem` first. */
export const formCard = (prefix, title, ...children) =>
  htmlEl(
    "form",
    { id: `${prefix}-form`, class: "card", novalidate: true, "aria-labelledby": `${prefix}-form-title` },
    htmlEl("h3", { id: `${prefix}-form-title`, text: title }),
    htmlEl("div", { class: "problem", role: "alert", id: `${prefix}-problem`, hidden: true }),
    ...children,
  );

/** A screen's heading, problem box and status line, for `section.replaceChildren`. */
export function screenTop(name, title) {
  return {
    problem: htmlEl("div", { class: "problem", role: "alert", id: `${name}-problem`, hidden: true }),
    status: htmlEl("p", { class: "status", role: "status", id: `${name}-status` }),
    toolbar: htmlEl("div", { class: "toolbar" }, htmlEl("h2", { id: `${name}-title`, text: title })),
  };
}

/**
 * A list card beside its form: the card `${prefix}-list-title` holds `intro` (the title
 * first) and a data table `${prefix}-grid` with the column `headings` over `rows`.
 */
export const listBeside = (form, prefix, headings, rows, ...intro) =>
  htmlEl(
    "div",
    { class: "admin-split" },
    htmlEl(
      "section",
      { class: "card", "aria-labelledby": `${prefix}-list-title` },
      ...intro,
      htmlEl(
        "div",
        { class: "table-scroll" },
        htmlEl(
          "table",
          { class: "data", id: `${prefix}-grid` },
          htmlEl("thead", {}, htmlEl("tr", {}, ...headings.map((n) => htmlEl("th", { scope: "col", text: n })))),
          rows,
        ),
      ),
    ),
    form,
  );
