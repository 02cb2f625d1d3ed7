/**
 * `--executor slurm` on a real single-node cluster: a 2-shard extraction as two part jobs and a merge job has the
 * content hash of the unsharded one.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { slurmUnavailable } from "../fixtures/slurm.ts";
import { readLockFile } from "../../pipeline/records.ts";

const ignore = slurmUnavailable !== null;

Deno.test({
  name: "slurm: a 2-shard extraction runs as two part jobs and a merge, with the unsharded content hash",
  ignore,
  async fn() {
    const local = await tinySetup();
    const one = await pipeline(["run", "--until", "extract"], local);
    assertEquals(one.code, 0, one.text);
    const slurm = { ...local, store: join(local.dir, "slurm_store") };
    const two = await pipeline(
      ["run", "--executor", "slurm", "--until", "extract", "--set", "extract.shards=2"],
      slurm,
    );
    assertEquals(two.code, 0, two.text);
    assertMatch(two.text, /▶ job (\d+) extract part 1\/2: submitted.*\n▶ job (\d+) extract part 2\/2: submitted/);
    assertMatch(two.text, /▶ job \d+ extract: submitted \(after \d+, \d+, \d+, \d+\)/);
    const a = await readLockFile(local.store), b = await readLockFile(slurm.store);
    assert(a!.stages.extract.key !== b!.stages.extract.key);
    assertEquals(b!.stages.extract.output_hash, a!.stages.extract.output_hash);
  },
});
