import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { planPipeline, runPipeline } from "../../pipeline/run.ts";
import { clearFingerprintCache } from "../../pipeline/fingerprint.ts";
import { Store } from "../../pipeline/store.ts";
import { readLockFile, readRunRecords } from "../../pipeline/records.ts";
import { ParamError } from "../../pipeline/params.ts";
import { defineStage } from "../../pipeline/stage.ts";
import { executions, loadFixtureGraph, resetExecutions, writeFixtureGraph } from "./fixture_graph.ts";

async function setup(n = 3) {
  const dir = await Deno.makeTempDir({ prefix: "engine_test_" });
  const graph = join(dir, "graph");
  await writeFixtureGraph(graph, n);
  const stages = await loadFixtureGraph(graph);
  const store = join(dir, "store");
  const run = async (config: Record<string, unknown> = {}, extra: { force?: string[]; until?: string } = {}) => {
    clearFingerprintCache();
    await resetExecutions(graph);
    const res = await runPipeline({ stages, config, storeDir: store, root: graph, ...extra });
    return { res, ran: await executions(graph) };
  };
  return { dir, graph, stages, store, run };
}

Deno.test("engine: first run executes all, a no-op rerun executes nothing", async () => {
  const { run, store } = await setup();
  assertEquals((await run()).ran, ["s0", "s1", "s2"]);
  const second = await run();
  assertEquals(second.ran, []);
  assertEquals(second.res.records.map((r) => r.status), ["fresh", "fresh", "fresh"]);
  const out = await Deno.readTextFile(join(store, "objects", second.res.outputs.s2, "out.txt"));
  assertEquals(out, "parity=1|s2");
});

Deno.test("engine: a param change reruns that stage and its downstream only", async () => {
  const { run } = await setup(4);
  await run();
  assertEquals((await run({ s2: { suffix: "!" } })).ran, ["s2", "s3"]);
  assertEquals((await run({ s2: { suffix: "!" } })).ran, []);
});

Deno.test("engine: identical upstream output stops invalidation (early cutoff)", async () => {
  const { run } = await setup();
  await run({ s0: { n: 1 } });
  // n 1 -> 3: s0's output changes, s1 reruns but writes the same bytes (parity=1), so s2 stays cached
  assertEquals((await run({ s0: { n: 3 } })).ran, ["s0", "s1"]);
  assertEquals((await run({ s0: { n: 2 } })).ran, ["s0", "s1", "s2"]);
});

Deno.test("engine: editing a code file reruns the stages that import it, and status names it", async () => {
  const { run, graph, stages, store } = await setup();
  await run();
  await Deno.writeTextFile(join(graph, "parity_helper.ts"), "export const parity = (n: number) => `odd=${n % 2}`;\n");
  clearFingerprintCache();
  const plan = await planPipeline({ stages, config: {}, storeDir: store, root: graph });
  assertEquals(plan.map((p) => p.status), ["fresh", "stale", "stale"]);
  assert(plan[1].reasons.includes("code changed: parity_helper.ts"), plan[1].reasons.join("; "));
  assertMatch(plan[2].reasons.join(";"), /upstream s1 will rerun/);
  // A fresh process (as the CLI is) runs the edited code: the helper is reachable only from s1, so s0 is
  // untouched, and s2 reruns because s1's output changed.
  await resetExecutions(graph);
  const out = await spawnRun(graph, store, {}).output();
  assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), [["s0", "fresh"], ["s1", "ran"], ["s2", "ran"]]);
  assertEquals(await executions(graph), ["s1", "s2"]);
});

Deno.test("engine: status reports a param diff and --force", async () => {
  const { run, stages, store, graph } = await setup();
  await run({ s2: { suffix: "a" } });
  clearFingerprintCache();
  const plan = await planPipeline({ stages, config: { s2: { suffix: "b" } }, storeDir: store, root: graph });
  assertEquals(plan[2].reasons, ['param s2.suffix: "a" → "b"']);
  const forced = await planPipeline({
    stages,
    config: { s2: { suffix: "a" } },
    storeDir: store,
    root: graph,
    force: ["s1"],
  });
  assertEquals(forced[1].reasons, ["forced (--force)"]);
  assertEquals((await run({ s2: { suffix: "a" } }, { force: ["s1"] })).ran, ["s1"]);
});

Deno.test("engine: --until runs a stage and its upstreams only", async () => {
  const { run } = await setup(4);
  assertEquals((await run({}, { until: "s1" })).ran, ["s0", "s1"]);
  assertEquals((await run()).ran, ["s2", "s3"]);
});

Deno.test("engine: unknown param key or wrong type is a one-line error naming the key", async () => {
  const { run } = await setup();
  const e1 = await assertRejects(() => run({ s1: { nn: 3 } }), ParamError);
  assertEquals(e1.message, 'unknown config key "s1.nn" (did you mean "s1.n"?)');
  const e2 = await assertRejects(() => run({ s0: { n: "three" } }), ParamError);
  assertEquals(e2.message, 'config key "s0.n": expected an integer, got string "three"');
  const e3 = await assertRejects(() => run({ train: {} }), ParamError);
  assertMatch(e3.message, /unknown config section "train"/);
});

Deno.test("engine: a truncated or edited object file is detected, reported and rebuilt", async () => {
  const { run, store, stages, graph } = await setup();
  const first = await run();
  const obj = join(store, "objects", first.res.outputs.s1, "sub", "out.bin");
  await Deno.truncate(obj, 10);
  const warnings: string[] = [];
  clearFingerprintCache();
  await resetExecutions(graph);
  await runPipeline({
    stages,
    config: {},
    storeDir: store,
    root: graph,
    reporter: { stageStart() {}, progress() {}, log() {}, stageEnd() {}, warn: (m) => warnings.push(m) },
  });
  assertEquals(await executions(graph), ["s1"]);
  assertMatch(warnings.join("\n"), /sub\/out.bin at 10 bytes, its manifest says 1000/);
  // same size, different content: caught by the hash once the stat cache sees a new mtime
  await new Promise((r) => setTimeout(r, 20));
  const obj2 = join(store, "objects", first.res.outputs.s2, "out.txt");
  const text = await Deno.readTextFile(obj2);
  await Deno.writeTextFile(obj2, text.replace("s2", "S2"));
  assertEquals((await run()).ran, ["s2"]);
  assertEquals(await Deno.readTextFile(obj2), text);
});

Deno.test("engine: runs.ndjson records each stage and pipeline.lock.json the resolved graph", async () => {
  const { run, store } = await setup();
  await run({ s2: { suffix: "x" } });
  await run({ s2: { suffix: "y" } });
  const recs = await readRunRecords(store);
  assertEquals(recs.length, 6);
  const last = recs.slice(3);
  assertEquals(last.map((r) => [r.stage, r.status]), [["s0", "fresh"], ["s1", "fresh"], ["s2", "ran"]]);
  assertEquals(last[2].reason, 'param s2.suffix: "x" → "y"');
  assertEquals(last[2].params, { n: 1, suffix: "y", sleep_ms: 0 });
  assertEquals(last[2].inputs.s1, last[1].output_hash);
  assert(last[2].duration_s >= 0 && last[2].started.length > 10);
  const lock = await readLockFile(store);
  assertEquals(lock!.run_id, last[0].run_id);
  assertEquals(lock!.stages.s2.output_hash, last[2].output_hash);
  assertEquals(Object.keys(lock!.stages.s1.code.files), ["s1.ts", "parity_helper.ts"]);
});

Deno.test("engine: gc deletes objects no recorded run references", async () => {
  const { run, store } = await setup();
  await run();
  const extra = join(store, "objects", "deadbeef");
  await Deno.mkdir(extra);
  await Deno.writeTextFile(
    join(extra, "manifest.json"),
    JSON.stringify({ files: [{ path: "a", size: 5, sha256: "" }] }),
  );
  const keep = new Set((await readRunRecords(store)).map((r) => r.key));
  const [n, bytes] = await new Store(store).gc(keep);
  assertEquals([n, bytes], [1, 5]);
  assertEquals((await run()).ran, []);
});

function spawnRun(graph: string, store: string, config: unknown, flag = "") {
  const args = [
    "run",
    "-A",
    new URL("./run_fixture.ts", import.meta.url).pathname,
    graph,
    store,
    JSON.stringify(config),
  ];
  if (flag) args.push(flag);
  return new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" }).spawn();
}

async function waitFor(path: string, ms = 20000) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`timed out waiting for ${path}`);
}

Deno.test("engine: SIGKILL mid-stage leaves no partial object; the rerun completes", async () => {
  const { graph, store, run } = await setup();
  const child = spawnRun(graph, store, { s1: { sleep_ms: 60000 } });
  await waitFor(join(graph, "started.flag"));
  child.kill("SIGKILL");
  await child.status;
  // s0 committed, s1 was mid-write: its half-written dir must be only under tmp/, never in objects/
  const objects = [...Deno.readDirSync(join(store, "objects"))].map((e) => e.name);
  assertEquals(objects.length, 1);
  const s = new Store(store);
  assert((await s.verify(objects[0])) !== null);
  assert([...Deno.readDirSync(join(store, "tmp"))].length === 1, "the dead run's temp dir is still there");
  const res = await run({ s1: { sleep_ms: 0 } });
  assertEquals(res.ran, ["s1", "s2"]);
  assertEquals([...Deno.readDirSync(join(store, "tmp"))].length, 0);
  for (const k of Object.values(res.res.outputs)) assert((await s.verify(k)) !== null);
});

Deno.test("engine: two concurrent runs never corrupt the store nor compute a key twice (second waits, or exits clearly)", async () => {
  const { graph, store } = await setup();
  const cfg = { s1: { sleep_ms: 1500 } };
  const a = spawnRun(graph, store, cfg);
  await waitFor(join(graph, "started.flag"));
  const b = spawnRun(graph, store, cfg);
  const c = spawnRun(graph, store, cfg, "--no-wait");
  const [ra, rb, rc] = await Promise.all([a.output(), b.output(), c.output()]);
  const dec = (u: Uint8Array) => new TextDecoder().decode(u);
  assertEquals(ra.code, 0, dec(ra.stderr));
  assertEquals(rb.code, 0, dec(rb.stderr));
  assertEquals(JSON.parse(dec(ra.stdout)), [["s0", "ran"], ["s1", "ran"], ["s2", "ran"]]);
  assertEquals(JSON.parse(dec(rb.stdout)), [["s0", "fresh"], ["s1", "fresh"], ["s2", "fresh"]]);
  assertEquals(rc.code, 3);
  assertMatch(
    dec(rc.stderr),
    /another pipeline run \(pid \d+ on .*\) is computing s1 \(key [0-9a-f]{12}\) in the store/,
  );
  assertEquals((await executions(graph)).sort(), ["s0", "s1", "s2"]);
});

Deno.test("engine: a stage's external data files are part of its key (editing one reruns it)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "engine_data_" });
  const corpus = join(dir, "corpus");
  await Deno.mkdir(corpus);
  await Deno.writeTextFile(join(corpus, "a.txt"), "hello");
  let runs = 0;
  const stage = defineStage({
    name: "read",
    upstream: [],
    description: "reads a user's directory",
    module: import.meta.url,
    params: { path: { type: "string", default: corpus, doc: "data" } },
    dataFiles: (p) => [p.path as string],
    async run(ctx) {
      runs++;
      await Deno.writeTextFile(
        join(ctx.outDir, "n.txt"),
        await Deno.readTextFile(join(ctx.params.path as string, "a.txt")),
      );
    },
  });
  const opts = { stages: [stage], config: {}, storeDir: join(dir, "store"), root: dir };
  await runPipeline(opts);
  await runPipeline(opts);
  assertEquals(runs, 1);
  await Deno.writeTextFile(join(corpus, "a.txt"), "hello, world");
  const plan = await planPipeline(opts);
  assertEquals(plan[0].reasons, [`input data changed: ${join(corpus, "a.txt")}`]);
  await runPipeline(opts);
  assertEquals(runs, 2);
});
