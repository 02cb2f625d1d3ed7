/**
 * TransformerLens-style names for the tensors of a Hugging Face ONNX export (torch.onnx / optimum).
 *
 * torch.onnx names every node after the module that produced it, so a node is
 * `/<root>/<container>.<L>/<sub/module/path>/<Op>[_n]` and its first output `<node name>_output_0`:
 *   GPT-2  `/transformer/h.0/attn/c_proj/Gemm`, `/transformer/h.0/Add_1`
 *   Llama  `/model/layers.0/self_attn/o_proj/MatMul`, `/model/layers.0/Add_1`
 *   BERT   `/bert/encoder/layer.0/attention/output/Add`, `/bert/encoder/layer.0/output/LayerNorm/...`
 * A block is the prefix up to `<container>.<L>` where the container is one of h, layer, layers, block,
 * blocks. The rules, per block L, are structural (they follow the residual stream, not op counters):
 *   1. Residual adds: the block-level `Add` nodes (no sub-module in the path), in export order; when
 *      there are none (post-LN BERT), `…/attention/output/Add` and `…/output/Add`.
 *      First = `blocks.L.hook_resid_mid`, last = `blocks.L.hook_resid_post`. When the first add has no
 *      input from outside the block (GPT-NeoX/Pythia's parallel residual, x + attn + mlp), there is no
 *      resid_mid: the outside input is resid_pre and the summands are attn_out / mlp_out by the scope
 *      (`attention|attn` / `mlp`) of the projection producing them.
 *      e.g. GPT-2 `/transformer/h.0/Add_output_0` -> `blocks.0.hook_resid_mid`,
 *           `/transformer/h.0/Add_1_output_0` -> `blocks.0.hook_resid_post`.
 *   2. `blocks.L.hook_resid_pre`: the input of the resid_mid add produced outside block L (block 0:
 *      the embedding sum; BERT: the previous LayerNorm output, as TransformerLens's BERT has it).
 *   3. `blocks.L.hook_attn_out`: the other input of the resid_mid add.
 *      `blocks.L.hook_mlp_out`: the input of the resid_post add that is neither resid_mid nor a
 *      norm of it (post-LN: the input not produced by a `…norm…`/`LayerNorm` module).
 *   4. `blocks.L.mlp.hook_post` / `blocks.L.attn.hook_z`: the data input of the projection
 *      (MatMul/Gemm) that produces mlp_out / attn_out, walked back through bias adds and the rank-2
 *      flattening Reshapes of Conv1D/Gemm exports, so it is [batch, seq, d_mlp] / [batch, seq,
 *      n_heads*d_head]. Note: hook_z is the heads-merged tensor (SAELens flattens hook_z the same way).
 *   5. `blocks.L.attn.hook_pattern`: the first Softmax in the block.
 *   7-10. ln1/ln2.hook_normalized, attn.hook_attn_scores, attn.hook_q|k|v, mlp.hook_pre: see
 *      hook_names_inner.ts.
 *   6. Outside blocks: `…/(wte|embed_tokens|word_embeddings|embed_in)/Gather` -> `hook_embed`,
 *      `…/(wpe|position_embeddings|embed_positions)/Gather` -> `hook_pos_embed`, the last node of
 *      `…/(ln_f|norm|final_layer_norm|final_layernorm)/` -> `ln_final.hook_normalized`.
 * Tensors already named the TransformerLens way (`blocks.0.hook_resid_post`, as our own converter and
 * fixture write them) keep their name. Everything else is listed under its tensor name.
 */
import type onnxProto from "onnx-proto";
import type { TensorType } from "./shape_inference.ts";
import { type GraphView, innerHookNames } from "./hook_names_inner.ts";

type N = onnxProto.onnx.INodeProto;

/** Tensor names that already are TransformerLens hook names. */
export const TL_NAME = /^(blocks\.\d+\.|hook_|ln_final\.|embed\.|pos_embed\.|unembed\.|head\.)/;

const BLOCK = /^(.*\/(?:h|layer|layers|block|blocks)\.(\d+))\/(.+)$/;
const PASS_BACK = new Set(["Reshape", "Identity", "Cast", "Dropout"]);

/** The TransformerLens hook name -> tensor name map for a graph (see the rules above). */
export function transformerLensNames(
  graph: onnxProto.onnx.IGraphProto,
  types: Map<string, TensorType>,
): Map<string, string> {
  const names = new Map<string, string>();
  const nodes = graph.node ?? [];
  const producer = new Map<string, N>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const inits = new Set((graph.initializer ?? []).map((t) => t.name!));
  const consumers = new Map<string, N[]>();
  for (const n of nodes) for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const view: GraphView = { producer, consumers, inits, shape: (t) => types.get(t)?.shape ?? null };
  const blockOf = (tensor: string) => {
    const m = BLOCK.exec(producer.get(tensor)?.name ?? "");
    return m ? m[1] : null;
  };
  const rank = (tensor: string) => types.get(tensor)?.shape?.length ?? 0;
  const isNorm = (tensor: string) => /norm|ln_?\d/i.test(producer.get(tensor)?.name ?? "");

  for (const n of nodes) {
    for (const o of n.output ?? []) if (TL_NAME.test(o)) names.set(o, o);
  }

  // Group nodes by block.
  const blocks = new Map<number, { prefix: string; nodes: { node: N; rest: string }[] }>();
  for (const node of nodes) {
    const m = BLOCK.exec(node.name ?? "");
    if (!m) continue;
    const L = Number(m[2]);
    if (!blocks.has(L)) blocks.set(L, { prefix: m[1], nodes: [] });
    blocks.get(L)!.nodes.push({ node, rest: m[3] });
  }

  /** From a tensor, walk back to the projection (MatMul/Gemm) producing it; its data input and the node. */
  const projection = (tensor: string): { input: string; node: N } | null => {
    let t = tensor;
    for (let hops = 0; hops < 6; hops++) {
      const p = producer.get(t);
      if (!p) return null;
      if (p.opType === "MatMul" || p.opType === "Gemm") {
        let x = p.input![0];
        // Undo the [batch*seq, d] flattening of Gemm/Conv1D exports.
        while (rank(x) < 3 && PASS_BACK.has(producer.get(x)?.opType ?? "")) x = producer.get(x)!.input![0];
        return { input: x, node: p };
      }
      if (p.opType === "Add") t = p.input!.find((i) => !inits.has(i)) ?? p.input![0];
      else if (PASS_BACK.has(p.opType!)) t = p.input![0];
      else return null;
    }
    return null;
  };

  const set = (name: string, tensor: string | null | undefined) => {
    if (tensor && !names.has(name)) names.set(name, tensor);
  };

  for (const [L, { prefix, nodes: members }] of [...blocks].sort((a, b) => a[0] - b[0])) {
    let mlpProjection: { input: string; node: N } | null = null;
    let adds = members.filter((m) => m.node.opType === "Add" && !m.rest.includes("/"));
    if (adds.length < 2) {
      adds = members.filter((m) => m.node.opType === "Add" && /^(attention\/output|output)\/Add(_\d+)?$/.test(m.rest));
    }
    const parallel = adds.length >= 2 && adds[0].node.input!.every((i) => blockOf(i) === prefix);
    if (parallel) {
      // GPT-NeoX / GPT-J parallel residual: resid_post = x + attn(ln1(x)) + mlp(ln2(x)), no resid_mid.
      const post = adds[adds.length - 1].node;
      const sums = new Set(adds.map((a) => a.node.output![0]));
      set(`blocks.${L}.hook_resid_post`, post.output![0]);
      for (const leaf of adds.flatMap((a) => a.node.input!).filter((i) => !sums.has(i))) {
        if (blockOf(leaf) !== prefix) {
          set(`blocks.${L}.hook_resid_pre`, leaf);
          continue;
        }
        const proj = projection(leaf);
        const scope = BLOCK.exec(proj?.node.name ?? "")?.[3].split("/")[0] ?? "";
        if (/attn|attention/.test(scope)) {
          set(`blocks.${L}.hook_attn_out`, leaf);
          set(`blocks.${L}.attn.hook_z`, proj?.input);
        } else if (/mlp/.test(scope)) {
          set(`blocks.${L}.hook_mlp_out`, leaf);
          mlpProjection = proj;
          set(`blocks.${L}.mlp.hook_post`, proj?.input);
        }
      }
    } else if (adds.length >= 2) {
      const mid = adds[0].node, post = adds[adds.length - 1].node;
      const midOut = mid.output![0], postOut = post.output![0];
      set(`blocks.${L}.hook_resid_mid`, midOut);
      set(`blocks.${L}.hook_resid_post`, postOut);
      const outside = mid.input!.filter((i) => blockOf(i) !== prefix);
      const inside = mid.input!.filter((i) => blockOf(i) === prefix);
      if (outside.length === 1) set(`blocks.${L}.hook_resid_pre`, outside[0]);
      if (inside.length === 1) {
        set(`blocks.${L}.hook_attn_out`, inside[0]);
        set(`blocks.${L}.attn.hook_z`, projection(inside[0])?.input);
      }
      const mlp = post.input!.filter((i) => i !== midOut && !isNorm(i));
      if (mlp.length === 1) {
        set(`blocks.${L}.hook_mlp_out`, mlp[0]);
        mlpProjection = projection(mlp[0]);
        set(`blocks.${L}.mlp.hook_post`, mlpProjection?.input);
      }
    }
    const softmax = members.find((m) => m.node.opType === "Softmax");
    if (softmax) set(`blocks.${L}.attn.hook_pattern`, softmax.node.output![0]);
    innerHookNames(L, members, view, mlpProjection?.node ?? null, set);
  }

  const outsideBlocks = nodes.filter((n) => !BLOCK.test(n.name ?? ""));
  const embed = outsideBlocks.find((n) =>
    n.opType === "Gather" && /\/(wte|embed_tokens|word_embeddings|embed_in)\//.test(n.name ?? "")
  );
  set("hook_embed", embed?.output?.[0]);
  const pos = outsideBlocks.find((n) =>
    n.opType === "Gather" && /\/(wpe|position_embeddings|embed_positions)\//.test(n.name ?? "")
  );
  set("hook_pos_embed", pos?.output?.[0]);
  const lnf = outsideBlocks.filter((n) => /\/(ln_f|norm|final_layer_norm|final_layernorm)\//.test(n.name ?? ""));
  if (lnf.length) set("ln_final.hook_normalized", lnf[lnf.length - 1].output?.[0]);
  return names;
}
