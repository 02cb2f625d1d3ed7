/**
 * A causal LM's unembedding W_U [d_model, vocab] read from its ONNX graph: the weight of the final projection
 * only, without the final layer norm before it (logit_lens.ts uses it the way Neuronpedia's feature pages
 * do). W_U is found as the weight of the op producing the `logits` output:
 * `MatMul(h, W)` with W a [d, V] initializer, `MatMul(h, Transpose(E))` with E a [V, d] initializer (tied
 * embeddings), or `Gemm(h, E, transB = 1)`.
 */
import { loadModelProto } from "./onnx_graph.ts";

export interface Unembedding {
  d: number;
  vocab: number;
  /** W_U [d, vocab] row-major. */
  W: Float32Array;
}

type Model = ReturnType<typeof loadModelProto>;
type Initializer = NonNullable<NonNullable<Model["graph"]>["initializer"]>[number];
type Node = NonNullable<NonNullable<Model["graph"]>["node"]>[number];

function floats(t: Initializer): Float32Array | null {
  if (t.dataType !== 1) return null; // FLOAT only
  if (t.rawData && t.rawData.length) {
    const raw = t.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return t.floatData && t.floatData.length ? Float32Array.from(t.floatData) : null;
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** The unembedding, or a one-line reason why the model has none. */
export function findUnembedding(modelBytes: Uint8Array): Unembedding | string {
  const graph = loadModelProto(modelBytes).graph!;
  if (!(graph.output ?? []).some((o) => o.name === "logits")) {
    return "the model has no `logits` output (an encoder without an unembedding)";
  }
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const producer = new Map<string, Node>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const node = producer.get("logits");
  const dims = (t: Initializer) => (t.dims ?? []).map(Number);
  const weight = node?.input?.[1];
  if (node && weight && (node.opType === "MatMul" || node.opType === "Gemm")) {
    const transB = node.opType === "Gemm" &&
      (node.attribute ?? []).some((a) => a.name === "transB" && Number(a.i) === 1);
    const direct = inits.get(weight);
    if (direct && dims(direct).length === 2) {
      const data = floats(direct);
      const [a, b] = dims(direct);
      if (data) return transB ? { d: b, vocab: a, W: transpose(data, a, b) } : { d: a, vocab: b, W: data };
    }
    const t = producer.get(weight);
    const tied = t?.opType === "Transpose" ? inits.get(t.input?.[0] ?? "") : undefined;
    if (tied && dims(tied).length === 2) {
      const data = floats(tied);
      const [V, d] = dims(tied);
      if (data) return { d, vocab: V, W: transpose(data, V, d) };
    }
  }
  return `the op producing \`logits\` (${node?.opType ?? "none"}) has no float [d, vocab] weight stored in the graph`;
}
