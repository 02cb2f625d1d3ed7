/**
 * Opens the exported dashboard from disk (file://) in headless Chromium with 8192 latents: the summary
 * shows eval.json's numbers, the list is virtualised and searchable/sortable, clicking a latent shows its
 * histogram and examples. Saves a screenshot to .tmp/export/dashboard.png. Skipped without Chromium.
 */
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { type ExportParams, exportStage } from "../../stages/export/mod.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { Browser, CHROMIUM, chromiumAvailable } from "./cdp.ts";
import { makeCtx, makeFixture } from "./fixtures.ts";

const hasChromium = chromiumAvailable();
if (!hasChromium) console.warn(`dashboard_test: skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

Deno.test({
  name:
    "dashboard: opens from file:// with 8192 latents, summary matches eval.json, clicking a latent shows its examples",
  ignore: !hasChromium,
  async fn() {
    const root = await Deno.makeTempDir();
    let browser: Browser | null = null;
    try {
      const fx = await makeFixture(root, {
        arch: "topk",
        dIn: 8,
        dSae: 8192,
        k: 32,
        seed: 11,
        topExamples: 2,
        quantileExamples: 1,
      });
      const out = `${root}/out`;
      await Deno.mkdir(out);
      const t0 = performance.now();
      await exportStage.run(
        makeCtx(resolveParams("export", exportStage.params, {}) as unknown as ExportParams, fx.inputs, out),
      );
      const exportMs = performance.now() - t0;
      const dataBytes = (await Deno.stat(`${out}/dashboard/data.js`)).size;

      browser = await Browser.launch();
      const t1 = performance.now();
      await browser.navigate(`file://${out}/dashboard/index.html`);
      await browser.until("globalThis.SAE_READY");
      const loadMs = performance.now() - t1;

      // Summary numbers against eval.json.
      const metrics = await browser.eval<Record<string, [string, string, string]>>(`Object.fromEntries(
        [...document.querySelectorAll("[data-metric]")].map((e) => [e.dataset.metric,
          [e.dataset.path, e.dataset.value, e.querySelector(".v").textContent]]))`);
      const ev = fx.evalJson;
      for (const key of ["mse", "explained_variance", "l0", "dead_latents", "dense_latents"]) {
        assert(metrics[key], `summary lacks ${key}; has ${Object.keys(metrics)}`);
        assertEquals(metrics[key][0], key);
        assertEquals(Number(metrics[key][1]), ev[key]);
        assertAlmostEquals(Number(metrics[key][2]), ev[key] as number, Math.abs(ev[key] as number) * 1e-3);
      }
      const down = await browser.eval<Record<string, string>>(`Object.fromEntries(
        [...document.querySelectorAll("[data-downstream]")].map((e) => [e.dataset.downstream, e.dataset.value]))`);
      const evDown = ev.downstream as Record<string, number>;
      const evDownSpliced = evDown.spliced as unknown as Record<string, number>;
      assertEquals(Number(down["downstream.fraction_recovered_zero"]), evDown.fraction_recovered_zero);
      assertEquals(Number(down["downstream.fraction_recovered_mean"]), evDown.fraction_recovered_mean);
      assertEquals(Number(down["downstream.spliced.embedding_cosine"]), evDownSpliced.embedding_cosine);
      assert(!("downstream.zero_ablation.embedding_mse" in down), "raw ablation runs stay in the full table");
      const info = await browser.eval<Record<string, string>>(`Object.fromEntries(
        [...document.querySelectorAll("[data-info]")].map((e) => [e.dataset.info, e.querySelector(".v").textContent]))`);
      assertEquals([info.architecture, info.d_sae, info.k], ["topk", "8192", "32"]);
      assertEquals(await browser.eval(`document.querySelectorAll("#plots svg").length`), 5);

      // Virtualised list: all 8192 latents counted, only a screenful of rows in the DOM.
      assertEquals(await browser.eval(`document.getElementById("count").textContent`), "8192 of 8192 latents");
      const rowCount = await browser.eval<number>(`document.querySelectorAll("#list .row").length`);
      assert(rowCount > 10 && rowCount < 100, `${rowCount} rows rendered`);

      // Sort by frequency (descending on first click): first row is the most frequent latent.
      await browser.click(`#list-head [data-col="frequency"]`);
      const firstRow = await browser.eval<number>(`Number(document.querySelector("#list .row").dataset.latent)`);
      const best = fx.density.indexOf(Math.max(...fx.density));
      assertEquals(firstRow, best);
      await browser.click(`#list-head [data-col="latent"]`);

      // Search by id, then click the row: stats, histogram and examples appear.
      const target = 4100; // live latent (4100 % 7 != 3), in chunk 16
      const t2 = performance.now();
      await browser.eval(`(() => { const s = document.getElementById("search"); s.value = "${target}";
        s.dispatchEvent(new Event("input")); })()`);
      await browser.until(`document.getElementById("count").textContent.startsWith("1 of")`);
      await browser.click(`#list .row[data-latent="${target}"]`);
      await browser.until(`document.querySelectorAll("#detail .example").length > 0`);
      const clickMs = performance.now() - t2;
      const detail = await browser.eval<
        { title: string; top: number; quant: number; hist: number; text: string; assoc: string }
      >(`(() => ({
        title: document.querySelector("#detail h3").textContent,
        top: document.querySelectorAll('#detail .examples[data-group="top"] .example').length,
        quant: document.querySelectorAll('#detail .examples[data-group="quantile"] .example').length,
        hist: document.querySelectorAll("#detail svg.hist rect").length,
        text: document.querySelector('#detail .examples[data-group="top"] .example .ctx').textContent,
        assoc: document.querySelector("#detail table.assoc").textContent,
      }))()`);
      assertEquals(detail.title, `Latent ${target}`);
      assertEquals([detail.top, detail.quant, detail.hist], [2, 1, 12]);
      // The fixture's first top example of latent l has token i = WORDS[(3l + 7i) % 14].
      const expected = Array.from({ length: 9 }, (_, i) => fx.words[(target * 3 + i * 7) % fx.words.length])
        .join("").replaceAll("\n", "\u23ce");
      assertEquals(detail.text, expected);
      assert(detail.assoc.includes("top_tag_precision") && detail.assoc.includes("top_genre_recall"), detail.assoc);
      assertEquals(browser.errors, []);

      await browser.eval(`document.getElementById("latents").scrollIntoView()`);
      await Deno.mkdir(".tmp/export", { recursive: true });
      await browser.screenshot(".tmp/export/dashboard.png");
      await browser.eval(`window.scrollTo(0, 0)`);
      await browser.screenshot(".tmp/export/dashboard_top.png");
      console.log(
        `export ${exportMs.toFixed(0)} ms, data.js ${(dataBytes / 1024).toFixed(0)} KiB, page load ${
          loadMs.toFixed(0)
        } ms, ` +
          `search+click+examples ${clickMs.toFixed(0)} ms; screenshots in .tmp/export/`,
      );
    } finally {
      await browser?.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
