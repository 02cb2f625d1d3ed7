/**
 * Token-major sparse entries → per-latent lists (./csc.wgsl), deterministic and atomic-free.
 * `start[i]..start[i+1]` indexes `list`, which holds entry ids e (main: t·cap + s; aux after B·cap).
 */
import { createBuffer } from "../runtime/device.ts";
import { compileKernel, groupsFor } from "../runtime/kernel.ts";

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
    const bufs = { idx: b.idx, cnt, start: b.start, list: b.list, state: b.state ?? dummy };
    const parts = [
      count.bind(bufs, groupsFor(nChunks, 64)),
      scanChunks.bind(bufs, groupsFor(d.S, 64)),
      scanTotal.bind(bufs, [1, 1]),
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
