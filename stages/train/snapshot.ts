/**
 * The trainer's resume state read from the device as a stream: every parameter, its Adam moments
 * (`m_`, `v_` prefixes; whole tensors joined from the slab parts, flat shapes, independent of the slab
 * plan), the dead-latent clocks `since` and the GPU `state` slots. Consecutive tensors up to 256 MiB
 * share one staging copy and one map (each map costs ≥ 10 ms of polling); a larger tensor comes
 * alone, so the host holds one group's parts and joined tensors at a time, never the whole snapshot
 * twice (a checkpoint of a wide SAE is written tensor by tensor: ./checkpoint.ts).
 */
import { readBuffers, STATE_WORDS } from "../../kernels/runtime/mod.ts";
import type { TensorSpec } from "../io/safetensors.ts";
import type { ParamStore } from "./param_store.ts";
import { PARAM_NAMES, type ParamName } from "./trainer_types.ts";

export interface SnapshotStream {
  specs: TensorSpec[];
  /** The tensors' data in `specs` order. */
  data: AsyncGenerator<Float32Array | Uint32Array>;
}

/** Bytes of consecutive tensors read in one map. */
const GROUP_BYTES = 256 * 2 ** 20;

interface Entry {
  spec: TensorSpec;
  parts: { buf: GPUBuffer; bytes: number }[];
  join(parts: ArrayBuffer[]): Float32Array | Uint32Array;
}

export function snapshotStream(
  device: GPUDevice,
  store: ParamStore,
  slots: { since: GPUBuffer; state: GPUBuffer },
  groupBytes = GROUP_BYTES,
): SnapshotStream {
  const entries: Entry[] = [];
  const f32 = (n: ParamName) => (parts: ArrayBuffer[]) => store.join(n, parts.map((d) => new Float32Array(d)));
  for (const n of PARAM_NAMES) {
    const sizes = store.sizes(n);
    const length = sizes.reduce((a, b) => a + b, 0);
    for (const [pfx, bufs] of [["", store.params], ["m_", store.m], ["v_", store.v]] as const) {
      const parts = bufs[n].map((buf, j) => ({ buf, bytes: sizes[j] * 4 }));
      entries.push({ spec: { name: `${pfx}${n}`, dtype: "F32", shape: [length] }, parts, join: f32(n) });
    }
  }
  for (const [name, buf, length] of [["since", slots.since, store.S], ["state", slots.state, STATE_WORDS]] as const) {
    const join = (parts: ArrayBuffer[]) => new Uint32Array(parts[0]);
    entries.push({ spec: { name, dtype: "U32", shape: [length] }, parts: [{ buf, bytes: length * 4 }], join });
  }
  return { specs: entries.map((e) => e.spec), data: readGroups(device, entries, groupBytes) };
}

async function* readGroups(device: GPUDevice, entries: Entry[], groupBytes: number) {
  const bytes = (e: Entry) => e.spec.shape[0] * 4;
  for (let first = 0; first < entries.length;) {
    let last = first;
    let total = bytes(entries[first]);
    while (last + 1 < entries.length && total + bytes(entries[last + 1]) <= groupBytes) {
      total += bytes(entries[++last]);
    }
    const group = entries.slice(first, last + 1);
    const read = await readBuffers(device, group.flatMap((e) => e.parts));
    let at = 0;
    for (const e of group) {
      const parts = read.slice(at, at + e.parts.length);
      read.fill(new ArrayBuffer(0), at, at + e.parts.length); // the joined tensor replaces its parts
      at += e.parts.length;
      const tensor = e.join(parts);
      parts.length = 0; // only the joined tensor stays alive while the consumer writes it
      yield tensor;
    }
    first = last + 1;
  }
}
