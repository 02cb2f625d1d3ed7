/**
 * A sweep through the real CLI on the tiny pipeline: two points share model/pretokenize/extract, the `saes`
 * view compares them, a third value trains only its point, and `status` shows why per point.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { resolve } from "node:path";
import { pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { readLockFile, readRunRecords } from "../../pipeline/records.ts";
import { openResults } from "../../stages/query/open_results.ts";
import { Browser, CHROMIUM, chromiumAvailable } from "../export/cdp.ts";

const hasChromium = chromiumAvailable();
if (!hasChromium) console.warn(`sweep index check skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

/** Open the sweep index in headless Chromium: its rows, its markers, and a marker's link to a dashboard. */
async function checkIndex(path: string, expected: { point: string; l0: number; ev: number }[]) {
  const browser = await Browser.launch();
  try {
    await browser.navigate(`file://${path}`);
    const rows = await browser.eval<[string, string, string][]>(`[...document.querySelectorAll("#saes tbody tr")]
      .map((tr) => [tr.dataset.point, tr.querySelector('[data-col="l0"]').textContent,
        tr.querySelector('[data-col="explained_variance"]').textContent])`);
    assertEquals(rows.map((r) => [r[0], Number(r[1])]), expected.map((e) => [e.point, e.l0]));
    for (const [i, r] of rows.entries()) assertEquals(Number(r[2]), Number(expected[i].ev.toPrecision(4)));
    for (const fig of ["frontier-ev", "frontier-downstream"]) {
      const marks = await browser.eval<[string, number][]>(`[...document.querySelectorAll("#${fig} circle.sae")]
        .map((c) => [c.dataset.label, Number(c.dataset.x)])`);
      assertEquals(marks, expected.map((e) => [e.point, e.l0]));
    }
    const link = await browser.eval<string>(`document.querySelector("#frontier-ev a").href.baseVal`);
    await browser.navigate(new URL(link, `file://${path}`).href);
    await browser.until("globalThis.SAE_READY");
    assertEquals(browser.errors, []);
  } finally {
    await browser.close();
  }
}

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
    const index = /sweep index: +(\S+)/.exec(first.text)?.[1];
    assert(index, first.text);
    if (hasChromium) {
      const expected = rows.map((r) => ({
        point: String(r.point),
        l0: Number(r.l0),
        ev: Number(r.explained_variance),
      }));
      await checkIndex(resolve(index), expected);
    }
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

Deno.test("e2e sweep: every point is checked before anything runs; a failing job is named, the others complete", async () => {
  const s = await tinySetup();
  // the second point's hook is not in extract.hooks: extract's own check fails for it, before any stage ran
  const hooks = `extract.hooks=["blocks.0.hook_resid_post","blocks.1.hook_resid_post"]`;
  const bad = await pipeline(["run", "--set", hooks, "--sweep", "extract.hook=blocks.0.hook_resid_post,hook_embed"], s);
  assertEquals(bad.code, 2, bad.text);
  assertMatch(bad.text, /^error: point extract\.hook=hook_embed: extract\.hook "hook_embed" is not in extract\.hooks/m);
  await Deno.stat(s.store).then(() => assert(false, "a store was created"), () => {});

  // a hook the model does not have fails at run time, in its own job; the other point completes
  const sweep = ["--until", "extract", "--jobs", "2", "--sweep", "extract.hook=blocks.0.hook_resid_post,blocks.7.nope"];
  const res = await pipeline(["run", ...sweep], s);
  assertEquals(res.code, 1, res.text);
  assertMatch(res.text, /\[extract \[extract\.hook=blocks\.7\.nope\]\] ✗ extract: failed after .*blocks\.7\.nope/);
  assertMatch(res.text, /✗ point extract\.hook=blocks\.7\.nope: a job of this point did not complete/);
  const lock = await readLockFile(s.store);
  assert(lock!.branches!["extract.hook=blocks.0.hook_resid_post"].extract);
  // the failed point resolved its upstream stages only
  assertEquals(Object.keys(lock!.branches!["extract.hook=blocks.7.nope"]), ["model", "pretokenize"]);
});
