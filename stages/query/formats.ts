/**
 * Output formats of `deno task query`: table, CSV and JSON, all three printed from the same cell values so
 * they agree on every value.
 *
 * A cell value (`cellValue`) is what the JSON format prints:
 * - integers (BIGINT, HUGEINT, UBIGINT, … which DuckDB hands over as JS bigint) become JSON numbers when
 *   |n| ≤ 2^53 − 1 (`Number.MAX_SAFE_INTEGER`, every such integer is exact as a double) and decimal strings
 *   beyond, so no digit is ever lost;
 * - floating-point and DECIMAL values are JSON numbers; NaN and ±Infinity, which JSON cannot hold, are the
 *   strings "NaN", "Infinity", "-Infinity";
 * - lists and structs keep their shape (arrays and objects, the same rules inside); dates, timestamps,
 *   blobs, UUIDs and intervals-as-text are DuckDB's own text form (`2026-01-02 03:04:05.123456`).
 * CSV prints the same values (strings unquoted unless needed, nested values as JSON); the table prints
 * them too, with floats shortened to 6 significant digits for reading.
 */
import type { DuckDBResultReader } from "@duckdb/node-api";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** One value as JSON holds it: `js` from DuckDB's JS conversion, `json` from its JSON conversion. */
export function cellValue(js: unknown, json: unknown): unknown {
  if (typeof js === "bigint") return js <= MAX_SAFE && js >= -MAX_SAFE ? Number(js) : js.toString();
  if (typeof js === "number") return Number.isFinite(js) ? js : String(js);
  if (Array.isArray(js)) return js.map((v, i) => cellValue(v, Array.isArray(json) ? json[i] : undefined));
  if (js !== null && typeof js === "object" && Object.getPrototypeOf(js) === Object.prototype) {
    const j = (json ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(js).map(([k, v]) => [k, cellValue(v, j[k])]));
  }
  if (js === null || js === undefined) return null;
  if (typeof js === "boolean" || typeof js === "string") return js;
  return json ?? String(js); // Date, Buffer, DuckDB value objects: DuckDB's own text
}

/** Every row of a result as cell values. */
export function cellRows(reader: DuckDBResultReader): unknown[][] {
  const js = reader.getRowsJS(), json = reader.getRowsJson();
  return js.map((row, r) => row.map((v, c) => cellValue(v, json[r][c])));
}

export function formatJson(columns: string[], rows: unknown[][]): string {
  return JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))), null, 1);
}

export function formatCsv(columns: string[], rows: unknown[][]): string {
  const q = (v: unknown) => {
    const s = v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns.map(q).join(","), ...rows.map((r) => r.map(q).join(","))].join("\n");
}

const short = (x: number) => Number.isInteger(x) ? x : Number(x.toPrecision(6));

/** A cell for the table format: floats to 6 significant digits, JSON for lists and structs. */
function tableCell(v: unknown): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return String(short(v));
  if (typeof v === "object") return JSON.stringify(v, (_k, x) => typeof x === "number" ? short(x) : x);
  return String(v);
}

export function formatTable(columns: string[], rows: unknown[][], maxRows: number, maxWidth = 80): string {
  const shown = rows.slice(0, maxRows).map((r) =>
    r.map((v) => {
      const s = tableCell(v).replaceAll("\n", "⏎");
      return s.length > maxWidth ? s.slice(0, maxWidth - 1) + "…" : s;
    })
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...shown.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(" │ ").trimEnd();
  const out = [line(columns), widths.map((w) => "─".repeat(w)).join("─┼─"), ...shown.map(line)];
  out.push(
    rows.length > maxRows
      ? `(${rows.length} rows, ${maxRows} shown: --max-rows or --format csv for all)`
      : `(${rows.length} row${rows.length === 1 ? "" : "s"})`,
  );
  return out.join("\n");
}
