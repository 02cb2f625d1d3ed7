/**
 * Token-major sparse entries → per-latent lists (kernels/csc.wgsl), deterministic and atomic-free.
 * `start[i]..start[i+1]` indexes `list`, which holds entry ids e (main: t·cap + s; aux after B·cap).
 */
import { createBuffer } from "./device.ts";
import { compileKernel, groupsFor, INVALID } from "./kernel.ts";

const URL_ = new URL("./csc.wgsl", import.meta.url);

export interface CscDims {
  B: number;
  S: number;
  cap: number;
  auxCap: number;
  /** Tokens per chunk (one invocation each); default 32. */
  chunk?: number;
  /** Visit only AuxK slots < min(auxCap, state.n_dead) (needs the state buffer). */
  auxBound?: boolean;
}

export async function createCsc(device: GPUDevice, d: CscDims) {
  const chunk = d.chunk ?? 32;
  const nChunks = Math.ceil(d.B / chunk);
  const c = { B: d.B, S: d.S, CAP: d.cap, AUXCAP: d.auxCap, CHUNK: chunk, AUX_BOUND: !!d.auxBound };
  const [count, scanChunks, scanTotal, place] = await Promise.all(
    ["count", "scan_chunks", "scan_total", "place"].map((e) => compileKernel(device, URL_, e, c)),
  );
  const cnt = createBuffer(device, nChunks * d.S * 4, "csc counts");
  const dummy = createBuffer(device, 16, "csc dummy");
  return (b: { idx: GPUBuffer; start: GPUBuffer; list: GPUBuffer; state?: GPUBuffer }) => {
    const bufs = [b.idx, cnt, b.start, b.list, b.state ?? dummy];
    const parts = [
      count.bind(bufs, groupsFor(nChunks, 64)),
      scanChunks.bind([, cnt, b.start], groupsFor(d.S, 64)),
      scanTotal.bind([, , b.start], [1, 1]),
      place.bind(bufs, groupsFor(nChunks, 64)),
    ];
    return {
      encode(enc: GPUCommandEncoder) {
        enc.clearBuffer(cnt);
        parts.forEach((p) => p.encode(enc));
      },
    };
  };
}

/** Float64-free reference: per-latent lists of valid entry ids in the kernel's order. */
export function cscReference(idx: ArrayLike<number>, d: CscDims): { start: Uint32Array; list: Uint32Array } {
  const chunk = d.chunk ?? 32;
  const lists: number[][] = Array.from({ length: d.S }, () => []);
  for (let t0 = 0; t0 < d.B; t0 += chunk) {
    const t1 = Math.min(t0 + chunk, d.B);
    for (let t = t0; t < t1; t++) {
      for (let s = 0; s < d.cap; s++) if (idx[t * d.cap + s] !== INVALID) lists[idx[t * d.cap + s]].push(t * d.cap + s);
    }
    for (let t = t0; t < t1; t++) {
      for (let s = 0; s < d.auxCap; s++) {
        const e = d.B * d.cap + t * d.auxCap + s;
        if (idx[e] !== INVALID) lists[idx[e]].push(e);
      }
    }
  }
  const start = new Uint32Array(d.S + 1);
  for (let i = 0; i < d.S; i++) start[i + 1] = start[i] + lists[i].length;
  return { start, list: Uint32Array.from(lists.flat()) };
}
