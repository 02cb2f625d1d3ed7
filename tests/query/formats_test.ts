import { DuckDBInstance } from "@duckdb/node-api";
import { assertEquals } from "../assert.ts";
import { cellRows, formatCsv, formatJson, formatTable } from "../../stages/query/formats.ts";

/** DuckDB's own CSV reader parses our CSV back, so quoting is checked by a real reader. */
const SQL = `SELECT 4096::BIGINT AS n, 9007199254740991::BIGINT AS max_safe, 9007199254740993::BIGINT AS big,
  -9007199254740993::BIGINT AS neg_big, 170141183460469231731687303715884105727::HUGEINT AS huge,
  sum(x)::HUGEINT AS s, 0.5 AS dec, 0.1::DOUBLE AS f, 'nan'::DOUBLE AS nan, '-inf'::DOUBLE AS ninf,
  DATE '2026-01-02' AS dt, TIMESTAMP '2026-01-02 03:04:05.123456' AS ts, [1::BIGINT, 9007199254740993] AS l,
  {'a': 7::BIGINT, 'b': 'x,"y"'} AS st, NULL::INT AS nul, true AS b
  FROM (VALUES (1::BIGINT), (2::BIGINT)) t(x)`;

const EXPECTED = {
  n: 4096,
  max_safe: 9007199254740991,
  big: "9007199254740993",
  neg_big: "-9007199254740993",
  huge: "170141183460469231731687303715884105727",
  s: 3,
  dec: 0.5,
  f: 0.1,
  nan: "NaN",
  ninf: "-Infinity",
  dt: "2026-01-02",
  ts: "2026-01-02 03:04:05.123456",
  l: [1, "9007199254740993"],
  st: { a: 7, b: 'x,"y"' },
  nul: null,
  b: true,
};

Deno.test("query formats: JSON numbers stay numbers within 2^53, strings beyond; CSV and table agree", async () => {
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const reader = await con.runAndReadAll(SQL);
    const columns = reader.columnNames();
    const rows = cellRows(reader);
    assertEquals(JSON.parse(formatJson(columns, rows)), [EXPECTED]);

    // CSV, read back by DuckDB as text: every field is the JSON value's text.
    const file = await Deno.makeTempFile({ suffix: ".csv" });
    try {
      await Deno.writeTextFile(file, formatCsv(columns, rows) + "\n");
      const back = (await con.runAndReadAll(`SELECT * FROM read_csv('${file}', all_varchar = true, header = true)`))
        .getRowObjectsJS()[0];
      assertEquals(back, Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, text(v)])));
    } finally {
      await Deno.remove(file);
    }

    // Table: the same values (floats would be shortened to 6 digits; these are exact already).
    const cells = formatTable(columns, rows, 10, 200).split("\n")[2].split(" │ ").map((c) => c.trim());
    assertEquals(cells, Object.values(EXPECTED).map((v) => text(v) ?? "NULL"));
  } finally {
    con.closeSync();
    instance.closeSync();
  }
});

/** A value as CSV and the table print it (null: empty / NULL). */
function text(v: unknown): string | null {
  return v === null ? null : typeof v === "object" ? JSON.stringify(v) : String(v);
}

Deno.test("query formats: the table shortens floats to 6 significant digits, nested ones too", () => {
  const out = formatTable(["x", "l"], [[2 / 3, [1 / 3, 12]]], 10).split("\n")[2];
  assertEquals(out, "0.666667 │ [0.333333,12]");
});
