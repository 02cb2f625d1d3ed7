/**
 * Write and read Parquet through in-process DuckDB. Rows go through a temporary NDJSON file and
 * `COPY ... TO ... (FORMAT parquet)` with an explicit column schema, so types never depend on
 * inference and the bytes are deterministic (one thread, fixed row order).
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { ignoreMissing } from "../../pipeline/missing.ts";

/** DuckDB column types by name, e.g. `{ step: "BIGINT", loss: "DOUBLE", acts: "FLOAT[]" }`. */
export type ParquetSchema = Record<string, string>;

function quoteIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

function quoteLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function jsonValue(v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return null; // NaN/Inf are not JSON
  if (typeof v === "bigint") return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as Float32Array, (x) => jsonValue(x));
  if (Array.isArray(v)) return v.map(jsonValue);
  return v;
}

/** Write `rows` (objects keyed by the schema's columns) to a Parquet file at `path`. */
export async function writeParquet(
  path: string,
  schema: ParquetSchema,
  rows: Iterable<Record<string, unknown>>,
): Promise<void> {
  const cols = Object.keys(schema);
  const tmp = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    const file = await Deno.open(tmp, { write: true, truncate: true });
    const enc = new TextEncoder();
    let buf = "";
    for (const row of rows) {
      const o: Record<string, unknown> = {};
      for (const c of cols) o[c] = jsonValue(row[c] ?? null);
      buf += JSON.stringify(o) + "\n";
      if (buf.length > 1 << 20) {
        await file.write(enc.encode(buf));
        buf = "";
      }
    }
    if (buf) await file.write(enc.encode(buf));
    file.close();
    const colSpec = cols.map((c) => `${quoteLiteral(c)}: ${quoteLiteral(schema[c])}`).join(", ");
    const select = cols.map(quoteIdent).join(", ");
    await withDuckDB(async (con) => {
      await con.run(
        `COPY (SELECT ${select} FROM read_json(${
          quoteLiteral(tmp)
        }, format='newline_delimited', columns={${colSpec}})) ` +
          `TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    });
  } finally {
    await Deno.remove(tmp).catch(ignoreMissing);
  }
}

/** Read every row of a Parquet file as plain JS objects (BIGINT columns become numbers). */
export async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  return await withDuckDB(async (con) => {
    const r = await con.runAndReadAll(`SELECT * FROM read_parquet(${quoteLiteral(path)})`);
    return r.getRowObjectsJS().map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]))
    );
  });
}

type Connection = Awaited<ReturnType<Awaited<ReturnType<typeof DuckDBInstance.create>>["connect"]>>;

/** Run `fn` with a fresh in-memory single-threaded DuckDB connection, closed afterwards. */
export async function withDuckDB<T>(fn: (con: Connection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(":memory:", { threads: "1" });
  const con = await db.connect();
  try {
    return await fn(con);
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
