/**
 * The kernel runtime's own rules: bindings by name (parsed from the shader, failing loudly on a missing
 * or unknown name), and the state / hyper slot tables defined once (slots.wgsl is their rendering, and no
 * shader or host file indexes those buffers with a bare number).
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { join } from "node:path";
import { bindEntries, parseBindings } from "../../kernels/runtime/bindings.ts";
import { compileKernel } from "../../kernels/runtime/kernel.ts";
import { createBuffer, getDevice } from "../../kernels/runtime/device.ts";
import { HYPER, slotsWgsl, STATE, STATE_WORDS } from "../../kernels/runtime/slots.ts";

const root = new URL("../..", import.meta.url).pathname;
const throwsMatching = (fn: () => unknown, re: RegExp) => assertMatch(assertThrows(fn).message, re);

const SHADER = `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var t: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // comment naming b
@group(0) @binding(3) var<storage, read> b: array<f32>;
fn helper(i: u32) -> f32 { return a[i] + textureLoad(t, vec2<u32>(i, 0u)).x; }
fn unused_helper() -> f32 { return b[0]; }
@compute @workgroup_size(1) fn first(@builtin(global_invocation_id) gid: vec3<u32>) { out[gid.x] = helper(gid.x); }
@compute @workgroup_size(1) fn second() { out[0] = 1.0; /* b */ }
`;

Deno.test("parseBindings: names, texture kinds and each entry point's static use through the functions it calls", () => {
  const t = parseBindings(SHADER, "test.wgsl");
  assertEquals([...t.declared.values()].map((b) => [b.name, b.index, b.texture]), [
    ["a", 0, false],
    ["t", 1, true],
    ["out", 2, false],
    ["b", 3, false],
  ]);
  assertEquals(t.usedBy("first").map((b) => b.name), ["a", "t", "out"]);
  assertEquals(t.usedBy("second").map((b) => b.name), ["out"]);
  throwsMatching(() => t.usedBy("third"), /no entry point 'third'/);
  const shadow = SHADER + "fn bad() { let b = 2.0; }";
  throwsMatching(() => parseBindings(shadow, "shadow.wgsl"), /shadows the binding/);
});

Deno.test("bind by name: an unknown name, a missing used binding or a wrong kind fails loudly", async () => {
  const device = await getDevice();
  const k = await compileKernel(device, new URL("../../kernels/dense/center.wgsl", import.meta.url), "main", {
    D: 4,
    N: 8,
  });
  const buf = () => createBuffer(device, 32, "t");
  const [x, b_dec, xc] = [buf(), buf(), buf()];
  k.bind({ x, b_dec, xc }, 1); // the happy path
  throwsMatching(() => k.bind({ x, b_dec, xc, extra: buf() }, 1), /center\.wgsl:main: no binding named 'extra'/);
  throwsMatching(() => k.bind({ x, b_dec }, 1), /binding 'xc' \(@binding\(2\)\) was not given/);
  const tex = device.createTexture({ size: [1, 1], format: "rgba32float", usage: GPUTextureUsage.STORAGE_BINDING });
  const t = parseBindings(SHADER, "test.wgsl");
  throwsMatching(() => bindEntries(device, t, "first", { a: x, t: x, out: xc }), /'t' needs a texture view/);
  assertEquals(bindEntries(device, t, "first", { a: x, t: tex.createView(), out: xc, b: undefined }).length, 3);
  tex.destroy();
});

Deno.test("slots: slots.wgsl is the rendering of slots.ts, slots are distinct and in range", async () => {
  assertEquals(await Deno.readTextFile(join(root, "kernels/runtime/slots.wgsl")), slotsWgsl());
  for (const [table, words] of [[STATE, STATE_WORDS], [HYPER, 8]] as const) {
    const slots = Object.values(table);
    assertEquals(new Set(slots).size, slots.length);
    assert(slots.every((s) => Number.isInteger(s) && s >= 0 && s < words));
  }
});

Deno.test("slots: no shader or host code indexes state / hyper with a bare number or defines its own slot", async () => {
  const bad: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (/\.(wgsl|ts)$/.test(e.name) && !p.endsWith("runtime/slots.wgsl")) {
        const text = await Deno.readTextFile(p);
        for (
          const m of text.matchAll(
            /\b(state|hyper)\s*\[\s*\d+\s*\]|const\s+(N_DEAD|BT_\w+|CLIP|GNORM|COEF|AUX_COEF|L1)\s*:/g,
          )
        ) {
          bad.push(`${p.slice(root.length)}: ${m[0]}`);
        }
      }
    }
  };
  for (const d of ["kernels", "stages"]) await walk(join(root, d));
  assertEquals(bad, []);
});
