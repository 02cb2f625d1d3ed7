import { assert, assertEquals } from "../assert.ts";
import { LatentHeaps, sampleHash } from "../../stages/evaluate/latent_heaps.ts";
import { mulberry32 } from "./fixtures.ts";

Deno.test("latent heaps keep the top entries per latent, ties to the earlier token", () => {
  const rnd = mulberry32(11);
  const heaps = new LatentHeaps(3, 5);
  const all: { l: number; key: number; token: number }[] = [];
  for (let token = 0; token < 400; token++) {
    const l = Math.floor(rnd() * 3);
    const key = Math.round(rnd() * 50); // many ties
    all.push({ l, key, token });
    heaps.push(l, key, token, key / 10);
  }
  for (let l = 0; l < 3; l++) {
    const want = all.filter((e) => e.l === l).sort((a, b) => b.key - a.key || a.token - b.token).slice(0, 5);
    const got = heaps.sorted(l);
    assertEquals(got.map((e) => [e.key, e.token]), want.map((e) => [e.key, e.token]));
    assertEquals(got.map((e) => e.value), want.map((e) => Math.fround(e.key / 10)));
  }
});

Deno.test("sample hash is deterministic and spread over [0, 1)", () => {
  assertEquals(sampleHash(12345, 7), sampleHash(12345, 7));
  const v = Array.from({ length: 2000 }, (_, i) => sampleHash(i, 3));
  const mean = v.reduce((a, b) => a + b) / v.length;
  assert(v.every((x) => x >= 0 && x < 1));
  assert(Math.abs(mean - 0.5) < 0.03, `mean ${mean}`);
  assert(new Set(v).size > 1990);
});
