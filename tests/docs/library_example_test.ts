/** Runs README.md's "Library use" example on a tiny config, so the README cannot drift from the API. */
import { assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

Deno.test("README's library example runs: custom stage, SQL over results, load + encode/decode", async () => {
  const readme = await Deno.readTextFile(join(root, "README.md"));
  const section = readme.slice(readme.indexOf("## Library use"));
  const code = section.slice(section.indexOf("```ts\n") + 6, section.indexOf("\n```", section.indexOf("```ts\n")));
  const dir = await Deno.makeTempDir({ prefix: "library_example_" });
  const config = {
    model: { source: join(root, "data/fixtures/tiny_model") },
    pretokenize: { corpus: "brown", context_size: 32, max_tokens: 4096 },
    train: { d_sae: 64, k: 4, batch_size: 256, training_tokens: 2048 },
    evaluate: { downstream_sequences: 2, top_n: 2, quantile_examples: 1 },
  };
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  // the example imports "./mod.ts": run it from a file in the repo root
  const file = join(root, `.readme_example_${crypto.randomUUID().slice(0, 8)}.ts`);
  await Deno.writeTextFile(file, code);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file, join(dir, "config.json"), join(dir, "store")],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertMatch(text, /run .*: 7 stage\(s\) ran/);
    assertMatch(text, /latent/);
    assertMatch(text, /active latents: 4, reconstruction\[0\]: -?\d+\.\d{4}/);
  } finally {
    await Deno.remove(file).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
