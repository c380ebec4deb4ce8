// Some refusals name tables and combinations by their ids ("tables 'tbl_…', 'tbl_…' are
// already combined (combination 'cmb_…')"); a host knows them by name ("T3 + T4").

import { ApiError } from "../api.js";

/**
 * `error` with every table id in its detail replaced by the table's name, and every
 * combination id by its name (or its tables joined with "+"). Other errors pass as they are.
 */
export function withNames(error, tables, combinations = []) {
  if (!(error instanceof ApiError)) return error;
  const tableName = new Map(tables.map((t) => [t.id, t.name]));
  const comboName = new Map(
    combinations.map((c) => [c.id, c.name || c.table_ids.map((id) => tableName.get(id) ?? id).join(" + ")]),
  );
  const detail = error.detail
    .replace(/'?\b(tbl_[A-Za-z0-9_-]+)'?/g, (whole, id) => tableName.get(id) ?? whole)
    .replace(/combination '?\b(cmb_[A-Za-z0-9_-]+)'?/g, (whole, id) => (comboName.has(id) ? comboName.get(id) : "another combination"));
  const named = new ApiError(error.status, { title: error.title, type: error.type, detail, errors: error.errors });
  return named;
}
