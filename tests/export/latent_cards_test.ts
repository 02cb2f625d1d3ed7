import { assert, assertEquals } from "../assert.ts";
import { latentCards, supervisedHtml } from "../../stages/export/latent_cards.ts";
import { buildDashboard } from "../../stages/export/dashboard.ts";
import { type ExportParams, exportStage } from "../../stages/export/mod.ts";
import { ABSORPTION_SCHEMA, PROBES_SCHEMA } from "../../stages/evaluate/supervised.ts";
import { writeParquet } from "../../stages/io/parquet.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { Browser, chromiumAvailable } from "./cdp.ts";
import { makeCtx, makeFixture } from "./fixtures.ts";

const probes = {
  task: ["pos", "pos", "pos", "genre"],
  label: ["nn", "nn", "nn", "news"],
  method: ["sae", "sae", "raw", "sae"],
  k: [1, 2, null, 1],
  n_train: [80, 80, 80, 20],
  n_test: [20, 20, 20, 6],
  accuracy: [0.9, 0.95, 0.99, 0.7],
  f1: [0.88, 0.94, 0.99, 0.6],
  latents: [[1234], [1234, 9], null, [9]],
  mean_diff: [[2.5], [2.5, 1.25], null, [0.5]],
};
const absorption = {
  letter: ["a"],
  n_train: [40],
  n_test: [10],
  probe_f1: [0.8],
  true_positives: [9],
  main_latents: [[3]],
  main_f1: [[0.7, 0.71]],
  mean_absorption_fraction: [0.2],
  full_absorption_rate: [1 / 9],
  full_absorptions: [1],
  absorbers: [[9]],
  absorber_counts: [[1]],
};

Deno.test("latent cards: probe ranks (from the widest probe) and absorption roles", () => {
  const cards = latentCards(probes, absorption);
  assertEquals(cards[1234], [["probe", "pos nn: #1 by |mean difference| (2.5); 1-latent probe accuracy 0.9"]]);
  assertEquals(cards[9], [
    ["probe", "genre news: #1 by |mean difference| (0.5); 1-latent probe accuracy 0.7"],
    ["probe", "pos nn: #2 by |mean difference| (1.25)"],
    ["absorption", "absorbs first letter 'a' on 1 test token(s)"],
  ]);
  assertEquals(cards[3], [["absorption", "main latent of first letter 'a'"]]);
  assertEquals(latentCards(null, null), {});
});

Deno.test("dashboard: sparse probing and absorption sections, cards in data.js", async () => {
  const evalJson = {
    sparse_probing: {
      pos: { sae_top_1: { accuracy: 0.9, f1: 0.88 }, sae_top_2: { accuracy: 0.95, f1: 0.94 }, raw: { accuracy: 0.99 } },
    },
    absorption: { mean_absorption_fraction: 0.2, mean_full_absorption_rate: 0.111, mean_main_latents: 1, letters: 1 },
  };
  const files = await buildDashboard({
    title: "t",
    info: [],
    evalJson,
    plots: [],
    latents: null,
    dSae: 16,
    examples: [],
    latentCap: 10,
    cards: latentCards(probes, absorption),
    supervisedHtml: supervisedHtml(evalJson, probes, absorption),
  });
  const html = files.get("index.html")!;
  assert(html.includes(`<section id="supervised">`));
  assert(html.includes("<td>pos</td><td>sae</td><td>0.9</td><td>0.95</td>"), "probing table row");
  assert(html.includes(`data-absorption="mean absorption fraction"`));
  assert(html.includes("<td>0.9</td><td>0.88</td><td>0.99</td><td>1234</td>"), "per-class row with its top latent");
  const data = JSON.parse(files.get("data.js")!.replace(/^globalThis\.SAE = /, "").replace(/;\n$/, ""));
  assertEquals(Object.keys(data.cards).sort(), ["3", "9"]); // latent 1234 is beyond the 10 shown
  // Without the files the dashboard has no such section.
  assertEquals(supervisedHtml(null, null, null), "");
});

const hasChromium = chromiumAvailable();

Deno.test({
  name: "dashboard in Chromium: a latent's card shows its probe association and absorption role",
  ignore: !hasChromium,
  async fn() {
    const root = await Deno.makeTempDir();
    let browser: Browser | null = null;
    try {
      const fx = await makeFixture(root, { arch: "topk", dIn: 8, dSae: 64, k: 4, seed: 3, topExamples: 2 });
      const ev = fx.inputs.evaluate;
      const rows = (cols: Record<string, unknown[]>) =>
        cols[Object.keys(cols)[0]].map((_, i) => Object.fromEntries(Object.keys(cols).map((c) => [c, cols[c][i]])));
      const p = { ...probes, latents: [[12], [12, 9], null, [9]] };
      await writeParquet(`${ev}/probes.parquet`, PROBES_SCHEMA, rows(p));
      await writeParquet(`${ev}/absorption.parquet`, ABSORPTION_SCHEMA, rows(absorption));
      const out = `${root}/out`;
      await Deno.mkdir(out);
      await exportStage.run(
        makeCtx(resolveParams("export", exportStage.params, {}) as unknown as ExportParams, fx.inputs, out),
      );
      browser = await Browser.launch();
      await browser.navigate(`file://${out}/dashboard/index.html#9`);
      await browser.until("globalThis.SAE_READY");
      const card = await browser.eval<string[]>(
        `[...document.querySelectorAll("#detail ul.card li")].map((li) => li.textContent)`,
      );
      assertEquals(card, [
        "genre news: #1 by |mean difference| (0.5); 1-latent probe accuracy 0.7",
        "pos nn: #2 by |mean difference| (1.25)",
        "absorbs first letter 'a' on 1 test token(s)",
      ]);
      // no model input here: the card says in one line why it has no boosted / suppressed tokens
      assertEquals(
        await browser.eval(`document.querySelector('#detail [data-card="logits"]').textContent`),
        "no top boosted / suppressed tokens: the export has no model input",
      );
      assertEquals(browser.errors, []);
    } finally {
      await browser?.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
