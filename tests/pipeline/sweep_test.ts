/**
 * Sweeps: expansion and one-line errors (in process), then through the CLI on the fixture graph: one cached
 * branch per point sharing upstream objects, a new value runs only its point, status shows every point,
 * and `--jobs 2` computes a key that two points share exactly once.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { join } from "node:path";
import { expandSweep } from "../../pipeline/sweep.ts";
import { ParamError } from "../../pipeline/params.ts";
import { readLockFile, readRunRecords } from "../../pipeline/records.ts";
import { executions, loadFixtureGraph, resetExecutions, writeFixtureGraph } from "./fixture_graph.ts";

const cliModule = new URL("./fixture_cli.ts", import.meta.url).pathname;

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "sweep_test_" });
  await writeFixtureGraph(dir, 3);
  await Deno.writeTextFile(join(dir, "pipeline.json"), JSON.stringify({ s0: { n: 1 } }));
  return { dir, store: join(dir, "store"), stages: await loadFixtureGraph(dir) };
}

async function cli(dir: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cliModule, ...args],
    env: { FIXTURE_GRAPH: dir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
}

Deno.test("sweep: a grid expands to every combination (last axis fastest), then the explicit points", async () => {
  const { stages } = await setup();
  const points = expandSweep(stages, {
    s0: { n: 1 },
    sweep: {
      grid: { "s0.n": [1, 2], "s2.suffix": ["a", "b"] },
      points: [{ "s2.suffix": "z" }, { "s0.n": 1, "s2.suffix": "a" }],
    },
  });
  assertEquals(points.map((p) => p.label), [
    "s0.n=1,s2.suffix=a",
    "s0.n=1,s2.suffix=b",
    "s0.n=2,s2.suffix=a",
    "s0.n=2,s2.suffix=b",
    "s2.suffix=z",
  ]);
  assertEquals(points[2].config, { s0: { n: 2 }, s2: { suffix: "a" } });
  assertEquals(points[4].config, { s0: { n: 1 }, s2: { suffix: "z" } });
  // --sweep replaces the config's axis of the same key
  const cliPoints = expandSweep(stages, { sweep: { grid: { "s0.n": [1, 2] } } }, ["s0.n=5,6,7"]);
  assertEquals(cliPoints.map((p) => p.overrides), [{ "s0.n": 5 }, { "s0.n": 6 }, { "s0.n": 7 }]);
  assertEquals(expandSweep(stages, { s0: { n: 4 } }).map((p) => [p.label, p.config]), [["", { s0: { n: 4 } }]]);
});

Deno.test("sweep: bad specs fail with one line naming the key", async () => {
  const { stages } = await setup();
  const bad = (config: Record<string, unknown>, cliAxes: string[] = []) =>
    assertThrows(() => expandSweep(stages, config, cliAxes), ParamError).message;
  assertEquals(
    bad({ sweep: { grid: { "s0.nn": [1] } } }),
    `sweep key "s0.nn": unknown config key (did you mean "s0.n"?)`,
  );
  assertEquals(bad({ sweep: { grid: { "s0.n": [] } } }), `sweep key "s0.n": empty list of values`);
  assertEquals(
    bad({ sweep: { grid: { "s0.n": [1, "two"] } } }),
    `sweep key "s0.n": expected an integer, got string "two"`,
  );
  assertEquals(bad({ sweep: { grid: { "s0.n": 3 } } }), `sweep key "s0.n": expected a list of values`);
  assertMatch(bad({ sweep: { grid: { "train.k": [1] } } }), /^sweep key "train\.k": not a section\.key of the config/);
  assertMatch(bad({ sweep: { grids: {} } }), /^unknown config key "sweep\.grids"/);
  assertEquals(
    bad({ sweep: { points: [{ "s2.suffix": 1 }] } }),
    `sweep.points[0] key "s2.suffix": expected a string, got number 1`,
  );
  assertEquals(bad({}, ["s0.n=1,x"]), `--sweep "s0.n": expected an integer (got "x")`);
  assertEquals(bad({}, ["s0.n="]), `--sweep "s0.n": empty list of values`);
  for (const m of [bad({}, ["s0.n=1,x"]), bad({ sweep: { grid: { "s0.nn": [1] } } })]) assert(!m.includes("\n"));
});

Deno.test("sweep CLI: one branch per point sharing upstreams; a new value runs only its point; status shows every point", async () => {
  const { dir, store } = await setup();
  const first = await cli(dir, ["run", "--sweep", "s2.suffix=a,b"]);
  assertEquals(first.code, 0, first.err);
  assertEquals(await executions(dir), ["s0", "s1", "s2", "s2"]);
  const lock = await readLockFile(store);
  assertEquals(Object.keys(lock!.branches!), ["s2.suffix=a", "s2.suffix=b"]);
  assertEquals(lock!.branches!["s2.suffix=a"].s1.key, lock!.branches!["s2.suffix=b"].s1.key);
  const a = await Deno.readTextFile(join(store, lock!.branches!["s2.suffix=a"].s2.path, "out.txt"));
  assertEquals(a, "parity=1|s2a");

  await resetExecutions(dir);
  assertEquals((await cli(dir, ["run", "--sweep", "s2.suffix=a,b"])).code, 0);
  assertEquals(await executions(dir), []);

  const status = await cli(dir, ["status", "--sweep", "s2.suffix=a,b,c"]);
  assertEquals(status.code, 0, status.err);
  assertMatch(status.out, /point 1\/3: s2\.suffix=a\nfresh {2}s0\nfresh {2}s1\nfresh {2}s2\n/);
  assertMatch(
    status.out,
    /point 2\/3: s2\.suffix=b\nfresh {2}s0 {2}\(same run as point 1\)\nfresh {2}s1 {2}\(same run as point 1\)\nfresh {2}s2\n/,
  );
  assertMatch(status.out, /point 3\/3: s2\.suffix=c\n.*\n.*\nSTALE {2}s2\n\s+param s2\.suffix: "b" → "c"/);

  await resetExecutions(dir);
  const third = await cli(dir, ["run", "--sweep", "s2.suffix=a,b,c"]);
  assertEquals(third.code, 0, third.err);
  assertEquals(await executions(dir), ["s2"]);
  const runId = (await readLockFile(store))!.run_id;
  const recs = (await readRunRecords(store)).filter((r) => r.run_id === runId);
  assertEquals(recs.map((r) => `${r.branch}:${r.stage}:${r.status}`).slice(-3), [
    "s2.suffix=c:s0:fresh",
    "s2.suffix=c:s1:fresh",
    "s2.suffix=c:s2:ran",
  ]);

  const bad = await cli(dir, ["run", "--sweep", "s2.sufix=a,b"]);
  assertEquals(bad.code, 2);
  assertEquals(bad.err.trim(), `error: --sweep "s2.sufix": unknown config key (did you mean "s2.suffix"?)`);
});

Deno.test("sweep CLI --jobs 2: stage runs as processes; a key two points share is computed once", async () => {
  const { dir, store } = await setup();
  // s0.n = 1 and 3 give the same s1 output (parity), so both points' s2 runs have one key: the two s2 jobs
  // start together (sleeping mid-output) and the claim lets one compute it while the other waits; the sleep is long
  // enough that the second job usually starts while the first still sleeps (800 ms was not enough at load 12)
  const res = await cli(dir, ["run", "--jobs", "2", "--sweep", "s0.n=1,3", "--set", "s2.sleep_ms=3000"]);
  assertEquals(res.code, 0, res.err + res.out);
  assertEquals((await executions(dir)).sort(), ["s0", "s0", "s1", "s1", "s2"]);
  assertMatch(res.out, /▶ job s2 \[s0\.n=3\]: started/);
  // the other s2 job waited on the claim, or (its process started after the first finished: 3 s of deno startup
  // at load 10 happened) found the output cached; either way s2 ran once (above). engine_test covers the wait itself.
  const waited = /\[s2 \[s0\.n=\d\]\] ! another pipeline run \(pid \d+ on .*\) is computing s2 .*; waiting/.test(
    res.out,
  );
  const cached = /\[s2 \[s0\.n=\d\]\] ✓ s2: cached/.test(res.out);
  assert(waited || cached, res.out);
  const lock = await readLockFile(store);
  assertEquals(lock!.branches!["s0.n=1"].s2.key, lock!.branches!["s0.n=3"].s2.key);
  // the final pass records both points completely, as a sequential run does
  const recs = (await readRunRecords(store)).filter((r) => r.run_id === lock!.run_id && r.stage === "s2");
  assert(recs.some((r) => r.branch === "s0.n=1") && recs.some((r) => r.branch === "s0.n=3"));
});
