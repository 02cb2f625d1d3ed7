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
import { cellRows, formatCsv, formatJson, formatTable } from "./formats.ts";

const HELP = `usage: deno task query [options] "SQL"
  --format table|csv|json   output format (default table); JSON keeps numbers as numbers, except
                            integers beyond 2^53-1 and NaN/Infinity, which are strings
  --run RUN_ID              query another run (default: the latest, from pipeline.lock.json)
  --store DIR               the store (default data/store)
  --max-rows N              rows shown by the table format (default 100; csv/json print all)
  --schema                  list the views and their columns
views: ${VIEW_NAMES.join(", ")}`;

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
    const rows = cellRows(reader);
    if (format === "json") console.log(formatJson(columns, rows));
    else if (format === "csv") console.log(formatCsv(columns, rows));
    else console.log(formatTable(columns, rows, maxRows));
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
