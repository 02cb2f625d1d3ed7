import { assertEquals } from "../assert.ts";
import { join, toFileUrl } from "../pipeline/path_util.ts";
import { readWgsl } from "../../kernels/runtime/wgsl_source.ts";
import { clearFingerprintCache, fingerprint } from "../../pipeline/fingerprint.ts";

Deno.test("WGSL @include: expanded once, relative to the including file, and part of the fingerprint", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "lib"));
  await Deno.writeTextFile(join(dir, "lib", "util.wgsl"), "fn one() -> f32 { return 1.0; }");
  await Deno.writeTextFile(join(dir, "lib", "both.wgsl"), '// @include "util.wgsl"\nfn two() -> f32 { return 2.0; }');
  await Deno.writeTextFile(
    join(dir, "main.wgsl"),
    '// @include "lib/util.wgsl"\n  // @include "lib/both.wgsl"\n@compute @workgroup_size(1) fn main() {}',
  );
  await Deno.writeTextFile(join(dir, "stage.ts"), 'export const k = new URL("./main.wgsl", import.meta.url);');
  const text = readWgsl(toFileUrl(join(dir, "main.wgsl")));
  assertEquals(text.split("fn one").length - 1, 1);
  assertEquals(text.includes("fn two()"), true);
  clearFingerprintCache();
  const files = Object.keys(fingerprint(toFileUrl(join(dir, "stage.ts")).href, dir).files).sort();
  assertEquals(files, ["lib/both.wgsl", "lib/util.wgsl", "main.wgsl", "stage.ts"]);
});
