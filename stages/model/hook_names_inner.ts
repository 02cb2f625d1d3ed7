/**
 * TransformerLens names inside a block of a torch.onnx export (the rules after hook_names.ts's 1-6):
 *   7. `blocks.L.ln1|ln2.hook_normalized`: the output of the last node of the block's first / second norm
 *      sub-module (`ln_1`/`ln_2` in GPT-2, `input_layernorm`/`post_attention_layernorm` in Llama and
 *      GPT-NeoX), i.e. after the norm's weight and bias, as TransformerLens hooks it.
 *   8. `blocks.L.attn.hook_attn_scores`: the input of the block's Softmax (scaled, masked scores).
 *   9. `blocks.L.attn.hook_q|k|v`: [batch, seq, heads, d_head]. From the scores walk back (through the
 *      mask Where/Add and the scaling Div/Mul) to the MatMul q·kᵀ; from its inputs, and from the value
 *      input of the MatMul that reads the pattern, walk back through Transposes, scalings and rotary
 *      embeddings to the Reshape that split heads. Needs q, k and v split separately (GPT-2's Split of
 *      c_attn, Llama's q_proj/k_proj/v_proj); GPT-NeoX's fused [.., heads, 3·d_head] view has no
 *      per-tensor [batch, seq, heads, d_head] value, so its q/k/v stay under their tensor names.
 *  10. `blocks.L.mlp.hook_pre`: the output of the MLP's first projection (GPT-2 `c_fc`, NeoX
 *      `dense_h_to_4h`, Llama `gate_proj`, as TransformerLens' gated MLP has it), after its bias add and
 *      the Reshape back to [batch, seq, d_mlp].
 */
import type onnxProto from "onnx-proto";
import type { Dim } from "./shape_inference.ts";

type N = onnxProto.onnx.INodeProto;

export interface GraphView {
  producer: Map<string, N>;
  consumers: Map<string, N[]>;
  inits: Set<string>;
  shape(tensor: string): Dim[] | null;
}

const NORM_MODULE = /^(ln_?\d|ln|.*norm.*)$/i;
const THROUGH = new Set(["Transpose", "Mul", "Div", "Add", "Sub", "Where", "Cast", "Identity", "Dropout", "Concat"]);

const sameShape = (a: Dim[] | null, b: Dim[] | null) =>
  !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);

/** The data input of an elementwise node: the non-initializer input shaped like the output. */
function dataInput(g: GraphView, n: N): string | null {
  if (n.opType === "Where") return n.input![1];
  const out = g.shape(n.output![0]);
  const ins = (n.input ?? []).filter((i) => i && !g.inits.has(i) && g.producer.has(i));
  return ins.find((i) => sameShape(g.shape(i), out)) ?? ins[0] ?? null;
}

/** Walks back from `t` to the MatMul with two computed inputs (the q·kᵀ product). */
function scoresMatMul(g: GraphView, t: string): N | null {
  for (let hops = 0; hops < 8; hops++) {
    const p = g.producer.get(t);
    if (!p) return null;
    if (p.opType === "MatMul" && p.input!.every((i) => !g.inits.has(i))) return p;
    if (!THROUGH.has(p.opType!)) return null;
    const next = dataInput(g, p);
    if (!next) return null;
    t = next;
  }
  return null;
}

/** Walks back from a [batch, heads, seq, d_head] operand to the [batch, seq, heads, d_head] head split. */
function headSplit(g: GraphView, t: string, dHead: Dim): string | null {
  for (let hops = 0; hops < 12; hops++) {
    const p = g.producer.get(t);
    if (!p) return null;
    const s = g.shape(t);
    if (p.opType === "Reshape") {
      return s?.length === 4 && typeof s[1] !== "number" && s[3] === dHead ? t : null;
    }
    if (!THROUGH.has(p.opType!)) return null;
    const next = dataInput(g, p);
    if (!next) return null;
    t = next;
  }
  return null;
}

/** Follows `t` forward through a bias Add and rank-restoring Reshapes to its [batch, seq, d] form. */
function projectionOutput(g: GraphView, t: string): string {
  for (let hops = 0; hops < 4; hops++) {
    const cs = g.consumers.get(t) ?? [];
    if (cs.length !== 1) break;
    const c = cs[0];
    const isBias = c.opType === "Add" && c.input!.some((i) => g.inits.has(i));
    const isRestore = c.opType === "Reshape" && (g.shape(t)?.length ?? 0) < 3;
    if (!isBias && !isRestore) break;
    t = c.output![0];
  }
  return t;
}

/**
 * Rules 7-10 for the nodes of block L (`members`: node and its path below the block), given the MLP's
 * output projection node found by rule 4 (or null).
 */
export function innerHookNames(
  L: number,
  members: { node: N; rest: string }[],
  g: GraphView,
  mlpProjection: N | null,
  set: (name: string, tensor: string | null | undefined) => void,
): void {
  const p = `blocks.${L}`;
  // 7. Norm sub-modules in export order; the last node of each is its output.
  const normLast = new Map<string, N>();
  for (const m of members) {
    const mod = m.rest.split("/")[0];
    if (m.rest.includes("/") && NORM_MODULE.test(mod)) normLast.set(mod, m.node);
  }
  const norms = [...normLast.values()].map((n) => n.output![0]).filter((t) => (g.shape(t)?.length ?? 0) >= 3);
  if (norms.length === 2) {
    set(`${p}.ln1.hook_normalized`, norms[0]);
    set(`${p}.ln2.hook_normalized`, norms[1]);
  }

  // 8-9. Attention internals around the first Softmax.
  const softmax = members.find((m) => m.node.opType === "Softmax")?.node;
  if (softmax) {
    const scores = softmax.input![0];
    set(`${p}.attn.hook_attn_scores`, scores);
    const qk = scoresMatMul(g, scores);
    const dHead = qk ? g.shape(qk.input![0])?.at(-1) : undefined;
    if (qk && dHead !== undefined) {
      set(`${p}.attn.hook_q`, headSplit(g, qk.input![0], dHead));
      set(`${p}.attn.hook_k`, headSplit(g, qk.input![1], dHead));
      let pat = softmax.output![0];
      for (let hops = 0; hops < 3; hops++) {
        const c = (g.consumers.get(pat) ?? []).find((n) => n.opType === "MatMul" && n.input![0] === pat);
        if (c) {
          set(`${p}.attn.hook_v`, headSplit(g, c.input![1], dHead));
          break;
        }
        const pass = (g.consumers.get(pat) ?? []).find((n) => ["Dropout", "Cast", "Identity"].includes(n.opType!));
        if (!pass) break;
        pat = pass.output![0];
      }
    }
  }

  // 10. The MLP's first projection.
  if (mlpProjection) {
    const scope = members.find((m) => m.node === mlpProjection)?.rest.split("/")[0];
    const first = members.find((m) =>
      m.node !== mlpProjection && m.rest.startsWith(`${scope}/`) && ["MatMul", "Gemm"].includes(m.node.opType!)
    );
    if (first) set(`${p}.mlp.hook_pre`, projectionOutput(g, first.node.output![0]));
  }
}
