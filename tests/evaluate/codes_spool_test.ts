import { assertEquals } from "../assert.ts";
import { CodesSpool } from "../../stages/evaluate/codes_spool.ts";
import { codesFromDense } from "../../stages/evaluate/sparse_codes.ts";
import { mulberry32 } from "./fixtures.ts";

Deno.test("codes spool answers (row, latent) lookups across chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rnd = mulberry32(5);
    const dSae = 9, n = 1000;
    const dense = new Float32Array(n * dSae).map(() => (rnd() < 0.3 ? 1 + rnd() : 0));
    const spool = await CodesSpool.create(dir);
    for (let s = 0; s < n; s += 128) {
      const c = Math.min(128, n - s);
      await spool.append(codesFromDense(dense.subarray(s * dSae, (s + c) * dSae), c, dSae));
    }
    assertEquals(spool.rows, n);
    const rows = new Uint32Array(3000).map(() => Math.floor(rnd() * n));
    const latents = new Uint32Array(3000).map(() => Math.floor(rnd() * dSae));
    const got = await spool.lookup(rows, latents, 100);
    assertEquals(Array.from(got), Array.from(rows, (r, i) => dense[r * dSae + latents[i]]));
    await spool.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
