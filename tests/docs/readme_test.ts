import { assert, assertEquals } from "../assert.ts";
import { configReference } from "../../pipeline/cli.ts";
import { defaultStages } from "../../stages/graph.ts";

const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
/** Table rows and headings of the reference, whitespace folded (deno fmt pads Markdown tables). */
const rows = (s: string) =>
  s.split("\n").filter((l) => l.startsWith("| `") || l.startsWith("#### ")).map((l) => l.replace(/\s+/g, " ").trim());

Deno.test("README's config reference is the stages' schemas (deno task docs), which --help prints too", () => {
  const want = rows(configReference(defaultStages, true));
  const have = new Set(rows(readme));
  assertEquals(want.filter((r) => !have.has(r)), [], "README.md is out of date: run `deno task docs`");
  const help = configReference(defaultStages, false);
  for (const s of defaultStages) {
    for (const key of Object.keys(s.params)) {
      assert(help.includes(`${s.name}.${key} (`), `${s.name}.${key} missing from --help`);
    }
  }
});

Deno.test("README's default config keys exist in the schemas", async () => {
  const { loadConfig } = await import("../../pipeline/cli.ts");
  const cfg = await loadConfig(new URL("../../data/pipeline.json", import.meta.url).pathname);
  for (const [section, keys] of Object.entries(cfg)) {
    const stage = defaultStages.find((s) => s.name === section);
    assert(stage, `unknown section ${section}`);
    for (const k of Object.keys(keys as object)) assert(k in stage.params, `${section}.${k}`);
  }
});
