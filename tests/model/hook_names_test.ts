/**
 * TransformerLens names from torch.onnx node scopes: on real `torch.onnx.export` graphs of GPT-2-,
 * Llama- and GPT-NeoX-style modules (data/fixtures/torch_exports, made by export.py there) and on the
 * tiny GPT-2 fixture built here, every hook the README lists maps to the tensor the rule names, and
 * holds the value PyTorch computed at that hook.
 */
import { assertEquals } from "../assert.ts";
import * as ort from "onnxruntime-node";
import { TL_NAME } from "../../stages/model/hook_names.ts";
import { exposeHooks, listHooks } from "../../stages/model/onnx_graph.ts";
import { decodeSafetensors } from "../../stages/io/safetensors.ts";
import { buildTinyGpt2Onnx, tinyBpe } from "../fixtures/tiny_gpt2.ts";

const exports = new URL("../../data/fixtures/torch_exports/", import.meta.url).pathname;

function block0(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of listHooks(bytes)) {
    if (/^(blocks\.0\.|hook_|ln_final\.)/.test(h.name) && !(h.name in out)) out[h.name] = h.tensor;
  }
  return out;
}

const GPT2: Record<string, string> = {
  "hook_embed": "/transformer/wte/Gather_output_0",
  "hook_pos_embed": "/transformer/wpe/Gather_output_0",
  "blocks.0.hook_resid_pre": "/transformer/Add_output_0",
  "blocks.0.ln1.hook_normalized": "/transformer/h.0/ln_1/LayerNormalization_output_0",
  "blocks.0.attn.hook_q": "/transformer/h.0/attn/Reshape_output_0",
  "blocks.0.attn.hook_k": "/transformer/h.0/attn/Reshape_1_output_0",
  "blocks.0.attn.hook_v": "/transformer/h.0/attn/Reshape_2_output_0",
  "blocks.0.attn.hook_attn_scores": "/transformer/h.0/attn/Where_output_0",
  "blocks.0.attn.hook_pattern": "/transformer/h.0/attn/Softmax_output_0",
  "blocks.0.attn.hook_z": "/transformer/h.0/attn/Reshape_3_output_0",
  "blocks.0.hook_attn_out": "/transformer/h.0/attn/c_proj/Reshape_1_output_0",
  "blocks.0.hook_resid_mid": "/transformer/h.0/Add_output_0",
  "blocks.0.ln2.hook_normalized": "/transformer/h.0/ln_2/LayerNormalization_output_0",
  "blocks.0.mlp.hook_pre": "/transformer/h.0/mlp/c_fc/Reshape_1_output_0",
  "blocks.0.mlp.hook_post": "/transformer/h.0/mlp/act/Mul_3_output_0",
  "blocks.0.hook_mlp_out": "/transformer/h.0/mlp/c_proj/Reshape_1_output_0",
  "blocks.0.hook_resid_post": "/transformer/h.0/Add_1_output_0",
  "ln_final.hook_normalized": "/transformer/ln_f/LayerNormalization_output_0",
};

Deno.test("hook names: a torch.onnx GPT-2 export maps every README hook", async () => {
  assertEquals(block0(await Deno.readFile(`${exports}gpt2.onnx`)), GPT2);
});

Deno.test("hook names: the tiny GPT-2 fixture maps exactly as the torch export does", () => {
  assertEquals(block0(buildTinyGpt2Onnx(tinyBpe().vocab.length)), GPT2);
});

Deno.test("hook names: a torch.onnx Llama export (RMSNorm, rotary, gated MLP)", async () => {
  const s = "/model/layers.0";
  assertEquals(block0(await Deno.readFile(`${exports}llama.onnx`)), {
    "hook_embed": "/model/embed_tokens/Gather_output_0",
    "blocks.0.hook_resid_pre": "/model/embed_tokens/Gather_output_0",
    "blocks.0.ln1.hook_normalized": `${s}/input_layernorm/Mul_1_output_0`,
    "blocks.0.attn.hook_q": `${s}/self_attn/Reshape_output_0`,
    "blocks.0.attn.hook_k": `${s}/self_attn/Reshape_1_output_0`,
    "blocks.0.attn.hook_v": `${s}/self_attn/Reshape_2_output_0`,
    "blocks.0.attn.hook_attn_scores": `${s}/self_attn/Add_2_output_0`,
    "blocks.0.attn.hook_pattern": `${s}/self_attn/Softmax_output_0`,
    "blocks.0.attn.hook_z": `${s}/self_attn/Reshape_3_output_0`,
    "blocks.0.hook_attn_out": `${s}/self_attn/o_proj/MatMul_output_0`,
    "blocks.0.hook_resid_mid": `${s}/Add_output_0`,
    "blocks.0.ln2.hook_normalized": `${s}/post_attention_layernorm/Mul_1_output_0`,
    "blocks.0.mlp.hook_pre": `${s}/mlp/gate_proj/MatMul_output_0`,
    "blocks.0.mlp.hook_post": `${s}/mlp/Mul_output_0`,
    "blocks.0.hook_mlp_out": `${s}/mlp/down_proj/MatMul_output_0`,
    "blocks.0.hook_resid_post": `${s}/Add_1_output_0`,
    "ln_final.hook_normalized": "/model/norm/Mul_1_output_0",
  });
});

Deno.test("hook names: a torch.onnx GPT-NeoX export (parallel residual; fused q/k/v stay raw)", async () => {
  const s = "/gpt_neox/layers.0";
  assertEquals(block0(await Deno.readFile(`${exports}neox.onnx`)), {
    "hook_embed": "/gpt_neox/embed_in/Gather_output_0",
    "blocks.0.hook_resid_pre": "/gpt_neox/embed_in/Gather_output_0",
    "blocks.0.ln1.hook_normalized": `${s}/input_layernorm/LayerNormalization_output_0`,
    "blocks.0.attn.hook_attn_scores": `${s}/attention/Add_3_output_0`,
    "blocks.0.attn.hook_pattern": `${s}/attention/Softmax_output_0`,
    "blocks.0.attn.hook_z": `${s}/attention/Reshape_1_output_0`,
    "blocks.0.hook_attn_out": `${s}/attention/dense/Add_output_0`,
    "blocks.0.ln2.hook_normalized": `${s}/post_attention_layernorm/LayerNormalization_output_0`,
    "blocks.0.mlp.hook_pre": `${s}/mlp/dense_h_to_4h/Add_output_0`,
    "blocks.0.mlp.hook_post": `${s}/mlp/act/Mul_1_output_0`,
    "blocks.0.hook_mlp_out": `${s}/mlp/dense_4h_to_h/Add_output_0`,
    "blocks.0.hook_resid_post": `${s}/Add_1_output_0`,
    "ln_final.hook_normalized": "/gpt_neox/final_layer_norm/LayerNormalization_output_0",
  });
});

/**
 * Every TransformerLens name mapped in each torch export holds what PyTorch computed at that hook
 * (export.py records the values while running the module on one fixed sequence), to 1e-5 relative to the
 * tensor's largest magnitude; masked attention scores (≤ -1e30 or -inf in PyTorch) must be masked here too.
 */
for (const family of ["gpt2", "llama", "neox"]) {
  Deno.test(`hook values: every mapped hook of the ${family} export equals PyTorch's`, async () => {
    const bytes = await Deno.readFile(`${exports}${family}.onnx`);
    const ref = decodeSafetensors(await Deno.readFile(`${exports}${family}_hooks.safetensors`));
    const ids: number[][] = JSON.parse(ref.metadata.input_ids);
    const mapped = listHooks(bytes).filter((h) => TL_NAME.test(h.name));
    assertEquals(mapped.map((h) => h.name).sort(), Object.keys(ref.tensors).sort(), "mapped names = recorded hooks");
    const session = await ort.InferenceSession.create(exposeHooks(bytes, [...new Set(mapped.map((h) => h.tensor))]));
    const feed = new ort.Tensor("int64", BigInt64Array.from(ids.flat(), BigInt), [ids.length, ids[0].length]);
    const out = await session.run({ input_ids: feed });
    await session.release();
    for (const h of mapped) {
      const want = ref.tensors[h.name], got = out[h.tensor];
      assertEquals(got.dims, want.shape, `${h.name} shape`);
      const w = want.data as Float32Array, g = got.data as Float32Array;
      const scale = Math.max(1, ...Array.from(w, (x) => (x > -1e30 ? Math.abs(x) : 0)));
      for (let i = 0; i < w.length; i++) {
        const ok = w[i] <= -1e30 ? g[i] <= -1e30 : Math.abs(g[i] - w[i]) <= 1e-5 * scale;
        if (!ok) throw new Error(`${family} ${h.name} (${h.tensor})[${i}]: onnxruntime ${g[i]}, PyTorch ${w[i]}`);
      }
    }
  });
}
