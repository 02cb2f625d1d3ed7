/** The file-level safetensors writer and reader (tensor by tensor) against the in-memory codec, and their errors. */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type Tensor,
  writeSafetensors,
  writeSafetensorsStream,
} from "../../stages/io/safetensors.ts";

const TENSORS: Record<string, Tensor> = {
  a: { dtype: "F32", shape: [2, 3], data: Float32Array.of(1.5, -2, 3, 4e-8, 5, -6) },
  b: { dtype: "U32", shape: [3], data: Uint32Array.of(7, 0xffffffff, 9) },
  c: { dtype: "U8", shape: [5], data: Uint8Array.of(1, 2, 3, 4, 5) }, // 5 bytes: the next offset is unaligned
  d: { dtype: "F64", shape: [1], data: Float64Array.of(Math.PI) },
};
const META = { step: "12", note: "é" };

async function* values(ts: Record<string, Tensor>) {
  for (const t of Object.values(ts)) yield t.data;
}
const specs = (ts: Record<string, Tensor>) =>
  Object.entries(ts).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));

Deno.test("safetensors: streamed and file writes are the in-memory encoding byte for byte; the reader decodes them", async () => {
  const dir = await Deno.makeTempDir();
  const want = encodeSafetensors(TENSORS, META);
  await writeSafetensorsStream(join(dir, "s.safetensors"), specs(TENSORS), values(TENSORS), META);
  await writeSafetensors(join(dir, "w.safetensors"), TENSORS, META);
  for (const f of ["s", "w"]) assertEquals(await Deno.readFile(join(dir, `${f}.safetensors`)), want, f);
  const got = await readSafetensors(join(dir, "s.safetensors"));
  const mem = decodeSafetensors(want);
  assertEquals(got.metadata, META);
  assertEquals(got.header, mem.header);
  for (const [n, t] of Object.entries(TENSORS)) {
    assertEquals(got.tensors[n].shape, t.shape);
    assertEquals(Array.from(got.tensors[n].data as ArrayLike<number>), Array.from(t.data as ArrayLike<number>), n);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: a wrong-sized, extra or missing tensor is a one-line error; a truncated file too", async () => {
  const dir = await Deno.makeTempDir();
  const p = join(dir, "x.safetensors");
  const bad = { ...TENSORS, b: { ...TENSORS.b, shape: [4] } };
  const e1 = await assertRejects(() => writeSafetensors(p, bad), Error);
  assertEquals(e1.message, 'safetensors: tensor "b" has 12 bytes, shape [4] U32 needs 16');
  assert(!(await Deno.stat(p).catch(() => null)), "nothing written for bad sizes");
  const e2 = await assertRejects(() => writeSafetensorsStream(p, specs(TENSORS).slice(0, 2), values(TENSORS)), Error);
  assertEquals(e2.message, "safetensors: more tensors than the 2 specified");
  const e3 = await assertRejects(
    () => writeSafetensorsStream(p, specs(TENSORS), values({ a: TENSORS.a, b: TENSORS.b })),
    Error,
  );
  assertEquals(e3.message, 'safetensors: 2 tensors missing, "c" first');
  const full = encodeSafetensors(TENSORS);
  await Deno.writeFile(p, full.subarray(0, full.length - 3));
  const e4 = await assertRejects(() => readSafetensors(p), Error);
  assertEquals(e4.message, 'safetensors: tensor "d" offsets [41, 49] do not fit its shape or the file');
  await Deno.remove(dir, { recursive: true });
});
