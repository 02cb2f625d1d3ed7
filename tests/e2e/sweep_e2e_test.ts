/**
 * A sweep through the real CLI on the tiny pipeline: two points share model/pretokenize/extract, the `saes`
 * view compares them, a third value trains only its point, and `status` shows why per point.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { readLockFile, readRunRecords } from "../../pipeline/records.ts";
import { openResults } from "../../stages/query/open_results.ts";

Deno.test("e2e sweep: --sweep train.k trains one SAE per point over one extraction; saes compares them", async () => {
  const s = await tinySetup();
  const first = await pipeline(["run", "--sweep", "train.k=4,8"], s);
  assertEquals(first.code, 0, first.text);
  assertMatch(first.text, /run \S+: 2\/2 point\(s\), 9 stage\(s\) ran, 3 cached/);
  let lock = await readLockFile(s.store);
  const [a, b] = ["train.k=4", "train.k=8"].map((l) => lock!.branches![l]);
  assertEquals(a.extract.key, b.extract.key);
  assert(a.train.key !== b.train.key);

  const res = await openResults({ store: s.store, tokens: false });
  try {
    const rows = (await res.connection.runAndReadAll(
      "SELECT point, k, l0, explained_variance, hook, dashboard FROM saes ORDER BY l0",
    )).getRowObjectsJS();
    assertEquals(rows.map((r) => [r.point, Number(r.k), Number(r.l0)]), [["train.k=4", 4, 4], ["train.k=8", 8, 8]]);
    for (const r of rows) {
      assert(typeof r.explained_variance === "number" && r.explained_variance <= 1, String(r.explained_variance));
      assertEquals(r.hook, "blocks.0.hook_resid_post");
      assert((await Deno.stat(String(r.dashboard))).isFile);
    }
  } finally {
    res.close();
  }

  const status = await pipeline(["status", "--sweep", "train.k=4,8,16"], s);
  assertEquals(status.code, 0, status.text);
  assertMatch(status.text, /point 3\/3: train\.k=16\n(fresh .*\n){3}STALE {2}train\n\s+param train\.k: 8 → 16/);
  const third = await pipeline(["run", "--sweep", "train.k=4,8,16"], s);
  assertEquals(third.code, 0, third.text);
  lock = await readLockFile(s.store);
  const ran = (await readRunRecords(s.store)).filter((r) => r.run_id === lock!.run_id && r.status === "ran");
  assertEquals(ran.map((r) => `${r.branch}:${r.stage}`), [
    "train.k=16:train",
    "train.k=16:evaluate",
    "train.k=16:export",
  ]);
});
