/**
 * `extract.hooks`: one forward pass writes every listed hook as its own object, byte-identical to a run for
 * that hook as the main one; a sweep over extract.hook then runs the pass once, and each point trains on its
 * own hook's object. A hook outside the list is a one-line error.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { readLockFile, readRunRecords } from "../../pipeline/records.ts";

const HOOKS = ["blocks.0.hook_resid_post", "blocks.1.mlp.hook_post", "blocks.1.hook_resid_post"];
const list = `extract.hooks=${JSON.stringify(HOOKS)}`;

Deno.test("extract.hooks: a sweep over the listed hooks runs one forward pass, one object per hook", async () => {
  const s = await tinySetup();
  const res = await pipeline(["run", "--until", "extract", "--set", list, "--sweep", `extract.hook=${HOOKS}`], s);
  assertEquals(res.code, 0, res.text);
  assertMatch(res.text, /extract: also stored 2 sibling output\(s\) of the same run/);
  const lock = await readLockFile(s.store);
  const recs = (await readRunRecords(s.store)).filter((r) => r.run_id === lock!.run_id && r.stage === "extract");
  assertEquals(recs.map((r) => r.status), ["ran", "fresh", "fresh"]);
  const metas = await Promise.all(
    HOOKS.map(async (h) =>
      JSON.parse(await Deno.readTextFile(join(s.store, lock!.branches![`extract.hook=${h}`].extract.path, "meta.json")))
    ),
  );
  assertEquals(metas.map((m) => [m.hook_name, m.d_in]), [[HOOKS[0], 16], [HOOKS[1], 32], [HOOKS[2], 16]]);

  // the object of a sibling hook is exactly what a run with it as the main hook writes
  const other = { ...s, store: join(s.dir, "store2") };
  const single = await pipeline(
    ["run", "--until", "extract", "--set", list, "--set", `extract.hook=${HOOKS[1]}`],
    other,
  );
  assertEquals(single.code, 0, single.text);
  const solo = await readLockFile(other.store);
  assertEquals(solo!.stages.extract.key, lock!.branches![`extract.hook=${HOOKS[1]}`].extract.key);
  assertEquals(solo!.stages.extract.output_hash, lock!.branches![`extract.hook=${HOOKS[1]}`].extract.output_hash);

  const bad = await pipeline(["run", "--until", "extract", "--set", list, "--set", "extract.hook=hook_embed"], s);
  assertEquals(bad.code, 2);
  assertMatch(bad.text, /^error: extract\.hook "hook_embed" is not in extract\.hooks \(blocks\.0\.hook_resid_post, /m);
});
