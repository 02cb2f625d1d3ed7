/**
 * TransformerLens names from torch.onnx node scopes: on real `torch.onnx.export` graphs of GPT-2-,
 * Llama- and GPT-NeoX-style modules (data/fixtures/torch_exports, made by the .py files there) and on
 * the tiny GPT-2 fixture built here, every hook the README lists maps to the tensor the rule names.
 */
import { assertEquals } from "../assert.ts";
import { listHooks } from "../../stages/model/onnx_graph.ts";
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
