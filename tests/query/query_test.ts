import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { queryCli } from "../../stages/query/cli.ts";
import { openResults } from "../../stages/query/open_results.ts";
import { makeStore } from "./store_fixture.ts";

async function rows(con: Awaited<ReturnType<typeof openResults>>["connection"], sql: string) {
  return (await con.runAndReadAll(sql)).getRowObjectsJson();
}

/** Run the CLI, capturing what it prints. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await queryCli(args), out: out.join("\n"), err: err.join("\n") };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

Deno.test("query views over the latest run and an older one", async () => {
  const { fx, store } = await makeStore();
  try {
    const r = await openResults({ store });
    try {
      assertEquals(r.run_id, "run-2");
      assertEquals([...r.views].sort(), [
        "absorption",
        "eval",
        "examples",
        "latents",
        "probes",
        "runs",
        "saes",
        "stages",
        "tokens",
        "train_log",
      ]);
      const con = r.connection;
      const ev = JSON.parse(await Deno.readTextFile(join(store, "objects", "k-evaluate", "eval.json")));
      // a run without a sweep is one SAE, its point NULL
      assertEquals(await rows(con, "SELECT point, l0::DOUBLE AS l0, evaluate_dir FROM saes"), [
        { point: null, l0: ev.l0, evaluate_dir: join(store, "objects", "k-evaluate") },
      ]);
      assertEquals(
        await rows(con, "SELECT count(*)::INT AS n, count(*) FILTER (WHERE dead)::INT AS dead FROM latents"),
        [{ n: fx.dSae, dead: ev.dead_latents }],
      );
      assertEquals(await rows(con, "SELECT n_tokens::INT AS n, d_sae::INT AS d, downstream.kind AS kind FROM eval"), [{
        n: fx.heldoutRows.length,
        d: fx.dSae,
        kind: "encoder",
      }]);
      assertEquals(await rows(con, "SELECT count(*)::INT AS n, max(step)::INT AS last FROM train_log"), [{
        n: 5,
        last: 40,
      }]);
      // tokens: every position, with names and the split of each row.
      const t = await rows(
        con,
        "SELECT count(*)::INT AS n, count(*) FILTER (WHERE split = 'heldout')::INT AS held, count(*) FILTER (WHERE pad)::INT AS pad FROM tokens",
      );
      assertEquals(t, [{ n: fx.nSeq * fx.S, held: fx.heldoutRows.length, pad: 7 }]);
      const some = await rows(
        con,
        "SELECT i::INT AS i, seq::INT AS seq, pos::INT AS pos, token::INT AS token, text, tag FROM tokens WHERE i IN (13, 40) ORDER BY i",
      );
      assertEquals(
        some,
        [13, 40].map((i) => ({
          i,
          seq: Math.floor(i / fx.S),
          pos: i % fx.S,
          token: fx.tokens[i],
          text: fx.vocab[fx.tokens[i]].replaceAll("▁", " "),
          tag: fx.tag[i] === 0xffff ? null : ["nn", "vb", "jj", "at"][fx.tag[i]],
        })),
      );
      // Examples join tokens on the activating token.
      const j = await rows(
        con,
        "SELECT count(*)::INT AS n, count(*) FILTER (WHERE e.token = t.text)::INT AS same FROM examples e JOIN tokens t ON t.i = e.token_index",
      );
      assert(j[0].n as number > 0);
      assertEquals(j[0].same, j[0].n);
      assertEquals(await rows(con, "SELECT stage FROM runs WHERE run_id = 'run-2' AND status = 'ran' ORDER BY stage"), [
        { stage: "evaluate" },
        { stage: "train" },
      ]);
      assertEquals(await rows(con, "SELECT params->>'seed' AS seed FROM runs LIMIT 1"), [{ seed: "1" }]);
    } finally {
      r.close();
    }
    const old = await openResults({ store, run: "run-1", tokens: false });
    try {
      assertEquals(await rows(old.connection, "SELECT count(*)::INT AS n FROM train_log"), [{ n: 3 }]);
      assertEquals(old.missing.tokens, undefined);
      assert(!old.views.includes("tokens"));
    } finally {
      old.close();
    }
  } finally {
    await Deno.remove(fx.root, { recursive: true });
  }
});

Deno.test("query CLI: formats, --run, --schema, errors", async () => {
  const { fx, store } = await makeStore();
  try {
    const json = await cli([
      "--store",
      store,
      "--format",
      "json",
      "SELECT latent, fires FROM latents ORDER BY latent LIMIT 2",
    ]);
    assertEquals(json.code, 0);
    assertEquals(JSON.parse(json.out).map((r: { latent: number }) => r.latent), [0, 1]);
    // count(*) is a BIGINT: a JSON number, as the new user expected.
    const count = await cli(["--store", store, "--format", "json", "SELECT count(*) AS n FROM latents"]);
    assertEquals(JSON.parse(count.out), [{ n: fx.dSae }]);
    const csv = await cli([
      "--store",
      store,
      "--run",
      "run-1",
      "--format",
      "csv",
      "SELECT step, loss FROM train_log ORDER BY step",
    ]);
    assertEquals(csv.out.split("\n"), ["step,loss", "0,2", "10,1", "20,0.6666666666666666"]);
    const table = await cli(["--store", store, "SELECT 'a,b' AS s, [1, 2] AS l, NULL AS n"]);
    assertEquals(table.out.split("\n"), ["s   │ l     │ n", "────┼───────┼─────", "a,b │ [1,2] │ NULL", "(1 row)"]);
    const schema = await cli(["--store", store, "--schema"]);
    assertEquals(schema.code, 0);
    for (const v of ["latents", "examples", "eval", "train_log", "runs", "tokens"]) {
      assertMatch(schema.out, new RegExp(`^${v}$`, "m"));
    }
    assertMatch(schema.out, /^ {2}top_tag VARCHAR$/m);
    const bad = await cli(["--store", store, "SELECT nope FROM latents"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.err, /query error: .*nope/);
    const badRun = await cli(["--store", store, "--run", "run-9", "SELECT 1"]);
    assertEquals(badRun.code, 1);
    assertMatch(badRun.err, /run "run-9" is not in .*runs\.ndjson \(latest runs: run-1, run-2\)/);
    const noStore = await cli(["--store", join(fx.root, "nowhere"), "SELECT 1"]);
    assertEquals(noStore.code, 1);
    assertMatch(noStore.err, /no pipeline run found/);
  } finally {
    await Deno.remove(fx.root, { recursive: true });
  }
});

Deno.test("saes view: sparse probing and absorption scalars of eval.json are columns", async () => {
  const { fx, store } = await makeStore();
  try {
    const evalPath = join(store, "objects", "k-evaluate", "eval.json");
    const ev = JSON.parse(await Deno.readTextFile(evalPath));
    const score = (accuracy: number, f1: number) => ({ accuracy, f1, tasks: 3 });
    ev.sparse_probing = {
      pos: { sae_top_1: score(0.75, 0.5), raw: score(0.875, 0.625) },
      genre: { sae_top_1: score(0.25, 0.125) },
      pos_tasks: 3,
      genre_tasks: 3,
      sample_tokens: 100,
      sample_sequences: 10,
    };
    ev.absorption = {
      letters: 2,
      mean_absorption_fraction: 0.375,
      mean_full_absorption_rate: 0.25,
      mean_main_latents: 1.5,
      sample_tokens: 64,
      per_letter: [{ letter: "a" }],
    };
    await Deno.writeTextFile(evalPath, JSON.stringify(ev));
    const r = await openResults({ store });
    try {
      const got = await rows(
        r.connection,
        `SELECT probe_pos_sae_top_1_accuracy::DOUBLE AS a, probe_pos_raw_f1::DOUBLE AS b,
                probe_genre_sae_top_1_accuracy::DOUBLE AS c, absorption_mean_absorption_fraction::DOUBLE AS d,
                absorption_letters::INT AS e FROM saes`,
      );
      assertEquals(got, [{ a: 0.75, b: 0.625, c: 0.25, d: 0.375, e: 2 }]);
    } finally {
      r.close();
    }
  } finally {
    await Deno.remove(fx.root, { recursive: true });
  }
});

Deno.test("saes view: train_seconds and train_tokens_per_second come from train's train_summary.json", async () => {
  const { fx, store } = await makeStore();
  try {
    const open = async () => {
      const r = await openResults({ store });
      try {
        return await rows(
          r.connection,
          "SELECT train_seconds::DOUBLE AS s, train_tokens_per_second::DOUBLE AS tps FROM saes",
        );
      } finally {
        r.close();
      }
    };
    // a train object without a summary (an older layout) gives NULLs, not an error
    assertEquals(await open(), [{ s: null, tps: null }]);
    await Deno.writeTextFile(
      join(store, "objects", "k-train", "train_summary.json"),
      JSON.stringify({ seconds: 12.5, tokens_per_second: 3276.8, tokens: 40960 }),
    );
    assertEquals(await open(), [{ s: 12.5, tps: 3276.8 }]);
  } finally {
    await Deno.remove(fx.root, { recursive: true });
  }
});
