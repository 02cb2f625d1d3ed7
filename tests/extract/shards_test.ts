/**
 * `extract.shards N`: the parts' sequence ranges, and through the CLI: a sharded extraction is byte-identical
 * to one pass (so train is a cache hit after switching), and a part computed by its own job (`--part`) is not
 * computed again by the merge.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { partRange } from "../../stages/extract/parts.ts";
import { lastRun, pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";

Deno.test("partRange: contiguous ranges covering every sequence, cut at multiples of the batch", () => {
  for (const [nSeq, batch, count] of [[192, 16, 2], [100, 7, 3], [5, 16, 3], [64, 1, 64], [33, 4, 5]]) {
    const ranges = Array.from({ length: count }, (_, i) => partRange(nSeq, batch, i, count));
    assertEquals(ranges[0][0], 0);
    assertEquals(ranges.at(-1)![1], nSeq);
    for (let i = 1; i < count; i++) assertEquals(ranges[i][0], ranges[i - 1][1]);
    for (const [lo, hi] of ranges) {
      assert(
        lo <= hi && lo % batch === 0 && (hi % batch === 0 || hi === nSeq),
        `${nSeq} ${batch} ${count}: ${lo}-${hi}`,
      );
    }
  }
  assertEquals(partRange(100, 7, 1, 3), [35, 70]); // 15 batches: 0-4, 5-9, 10-14
  assertEquals(partRange(5, 16, 0, 3), [0, 0]); // one batch, three parts: the last part holds it
  assertEquals(partRange(5, 16, 2, 3), [0, 5]);
});

Deno.test("extract.shards: N parts merge into the single pass's bytes; downstream cannot tell", async () => {
  const s = await tinySetup();
  // shard files (1000 rows) and batches (5 sequences) that part boundaries do not line up with
  const odd = ["--set", "extract.shard_tokens=1000", "--set", "extract.batch_size=5"];
  const one = await pipeline(["run", "--until", "train", ...odd], s);
  assertEquals(one.code, 0, one.text);
  const single = await lastRun(s.store);

  const three = await pipeline(["run", "--until", "train", ...odd, "--set", "extract.shards=3"], s);
  assertEquals(three.code, 0, three.text);
  assertMatch(three.text, /extract: part 1\/3\n(.*\n)*.*extract: part 3\/3/);
  const sharded = await lastRun(s.store);
  assert(sharded.extract.key !== single.extract.key);
  assertEquals(sharded.extract.status, "ran");
  assertEquals(sharded.extract.output_hash, single.extract.output_hash);
  assertEquals(sharded.train.status, "fresh");

  // a part computed on its own (a part job) is not computed again; its scratch is gone after the merge
  const other = { ...s, store: join(s.dir, "store2") };
  const two = [...odd, "--set", "extract.shards=2"];
  const p1 = await pipeline(["run", "--until", "extract", ...two, "--part", "1"], other);
  assertEquals(p1.code, 0, p1.text);
  assertMatch(p1.text, /extract: part 2\/2/);
  const merged = await pipeline(["run", "--until", "extract", ...two], other);
  assertEquals(merged.code, 0, merged.text);
  assertMatch(merged.text, /extract: part 1\/2/);
  assert(!/extract: part 2\/2/.test(merged.text), merged.text);
  assertEquals((await lastRun(other.store)).extract.output_hash, single.extract.output_hash);
  assertEquals([...Deno.readDirSync(join(other.store, "scratch"))], []);
});
