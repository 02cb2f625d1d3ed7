/**
 * `deno task query "SELECT ..."`: SQL over a run's results in in-process DuckDB (views: latents,
 * examples, eval, train_log, runs, stages, tokens; see views.ts). Prints a table, CSV or JSON.
 *
 *   deno task query "SELECT count(*) FROM latents WHERE dead"
 *   deno task query --format csv --run RUN_ID "SELECT * FROM train_log"
 *   deno task query --schema
 */
import { parseArgs } from "node:util";
import { openResults } from "./open_results.ts";
import { VIEW_NAMES } from "./views.ts";

const HELP = `usage: deno task query [options] "SQL"
  --format table|csv|json   output format (default table)
  --run RUN_ID              query another run (default: the latest, from pipeline.lock.json)
  --store DIR               the store (default data/store)
  --max-rows N              rows shown by the table format (default 100; csv/json print all)
  --schema                  list the views and their columns
views: ${VIEW_NAMES.join(", ")}`;

/** A cell for the table format: short numbers, JSON for lists and structs. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString();
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(
    v,
    (
      _k,
      x,
    ) => (typeof x === "bigint"
      ? Number(x)
      : typeof x === "number" && !Number.isInteger(x)
      ? Number(x.toPrecision(6))
      : x),
  );
}

export function formatTable(columns: string[], rows: unknown[][], maxRows: number, maxWidth = 80): string {
  const shown = rows.slice(0, maxRows).map((r) =>
    r.map((v) => {
      const s = cell(v).replaceAll("\n", "⏎");
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

export function formatCsv(columns: string[], rows: unknown[][]): string {
  const q = (v: unknown) => {
    const s = v === null || v === undefined
      ? ""
      : typeof v === "object"
      ? JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x))
      : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns.map(q).join(","), ...rows.map((r) => r.map(q).join(","))].join("\n");
}

export async function queryCli(args: string[]): Promise<number> {
  let opts;
  try {
    opts = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: "string", default: "table" },
        run: { type: "string" },
        store: { type: "string", default: "data/store" },
        "max-rows": { type: "string", default: "100" },
        schema: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    console.error(`query: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  const { values: o, positionals } = opts;
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  const format = o.format!;
  if (!["table", "csv", "json"].includes(format)) {
    console.error(`query: --format must be table, csv or json, got "${format}"`);
    return 2;
  }
  const maxRows = Number(o["max-rows"]);
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    console.error(`query: --max-rows must be a positive integer, got "${o["max-rows"]}"`);
    return 2;
  }
  const sql = positionals.join(" ").trim();
  if (!o.schema && !sql) {
    console.error(`query: no SQL given\n${HELP}`);
    return 2;
  }
  let results;
  try {
    results = await openResults({ store: o.store, run: o.run ?? null, tokens: o.schema || /\btokens\b/i.test(sql) });
  } catch (e) {
    console.error(`query: ${(e as Error).message}`);
    return 1;
  }
  try {
    if (o.schema) {
      console.log(`run ${results.run_id}`);
      for (const view of results.views) {
        const r = await results.connection.runAndReadAll(`DESCRIBE ${view}`);
        const cols = r.getRowObjectsJS().map((c) => `${c.column_name} ${c.column_type}`);
        console.log(`\n${view}\n  ${cols.join("\n  ")}`);
      }
      for (const [view, why] of Object.entries(results.missing)) console.log(`\n${view}: not available (${why})`);
      return 0;
    }
    const reader = await results.connection.runAndReadAll(sql);
    const columns = reader.columnNames();
    if (format === "json") console.log(JSON.stringify(reader.getRowObjectsJson(), null, 1));
    else if (format === "csv") console.log(formatCsv(columns, reader.getRowsJS()));
    else console.log(formatTable(columns, reader.getRowsJS(), maxRows));
    return 0;
  } catch (e) {
    const missing = Object.entries(results.missing).filter(([v]) => new RegExp(`\\b${v}\\b`, "i").test(sql));
    console.error(`query error: ${(e as Error).message}`);
    for (const [v, why] of missing) console.error(`  (view ${v} is not available: ${why})`);
    return 1;
  } finally {
    results.close();
  }
}

if (import.meta.main) Deno.exit(await queryCli(Deno.args));
