/**
 * onnxruntime-node sessions over a model's graph, fed batches of packed sequences straight from
 * `tokens.bin`: int64 `input_ids` and `attention_mask` [batch, context_size], fetching only the
 * named outputs (onnxruntime then runs just the nodes those outputs need).
 */
import * as ort from "onnxruntime-node";
import type { ExternalDataFile } from "../model/external_data.ts";
import { idsFeeds, type ModelIo } from "../model/model_io.ts";

export interface SessionOptions {
  /** Threads for one op (default: all cores, as onnxruntime does). */
  threads?: number;
  /** The graph's external-data files (stages/model/external_data.ts). */
  externalData?: ExternalDataFile[];
}

/** A session over `modelBytes` with full graph optimisation and sequential execution. */
export function createSession(modelBytes: Uint8Array, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelBytes, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: opts.threads ?? navigator.hardwareConcurrency,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    ...(opts.externalData?.length ? { externalData: opts.externalData } : {}),
  });
}

/**
 * Reusable int64 inputs for batches of `batch` sequences of `context` tokens. `fill` copies
 * sequences [first, first + n) of `tokens`, masking flat indices >= `nReal` (the padding tail); the
 * feeds are named as the model's io says (only the inputs the graph has).
 */
export class BatchFeeds {
  readonly ids: BigInt64Array;
  readonly mask: BigInt64Array;

  constructor(
    readonly batch: number,
    readonly context: number,
    readonly io: ModelIo = {
      kind: "encoder",
      input_ids: "input_ids",
      attention_mask: "attention_mask",
      token_type_ids: null,
      output: "last_hidden_state",
    },
  ) {
    this.ids = new BigInt64Array(batch * context);
    this.mask = new BigInt64Array(batch * context);
  }

  fill(tokens: Uint32Array, first: number, n: number, nReal: number): Record<string, ort.Tensor> {
    const C = this.context;
    const len = n * C;
    const base = first * C;
    for (let i = 0; i < len; i++) {
      this.ids[i] = BigInt(tokens[base + i]);
      this.mask[i] = base + i < nReal ? 1n : 0n;
    }
    return idsFeeds(
      this.io,
      (data) => new ort.Tensor("int64", data, [n, C]),
      this.ids.subarray(0, len),
      this.mask.subarray(0, len),
      C,
    );
  }
}

/** Run one batch and return the float32 data of `output` (flat, [n, C, ...]). */
export async function runForOutput(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  output: string,
): Promise<Float32Array> {
  const result = await session.run(feeds, [output]);
  const t = result[output];
  if (!t || t.type !== "float32") {
    throw new Error(`model output "${output}" is ${t ? t.type : "missing"}, expected float32`);
  }
  return t.data as Float32Array;
}
