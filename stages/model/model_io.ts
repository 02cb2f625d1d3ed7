/**
 * The graph inputs and outputs the pipeline feeds and reads, decided once in the model stage (and
 * written to model.json as `io`) so that a model extract or evaluate cannot use fails there, before any
 * training, with one line naming the cause and the fix.
 *
 * Inputs: the token ids are `model.input_name`, else `input_ids`, else the one int rank-2 input that is
 * not `attention_mask` / `token_type_ids` / `position_ids` (nanoGPT's `idx`). `attention_mask` (1 on real
 * tokens), `token_type_ids` (0) and `position_ids` (0, 1, … per sequence) are fed when the graph has them;
 * any other input (past key values) is an error. The ids input must have dynamic batch and
 * sequence axes (extract feeds [batch_size, context_size], evaluate other batch sizes).
 * Output: `model.output_name`, else `logits` (a causal LM), else `sentence_embedding` or
 * `last_hidden_state` (an encoder), else the one rank-3 output whose last dim is config.json's
 * vocab_size. A causal LM's output must hold one row of logits per position ([batch, seq, vocab]).
 */
import { loadModelProto } from "./onnx_graph.ts";
import { type Dim, inferTypes } from "./shape_inference.ts";

export interface ModelIo {
  kind: "causal_lm" | "encoder";
  /** Graph input of the token ids, int64 [batch, seq]. */
  input_ids: string;
  attention_mask: string | null;
  token_type_ids: string | null;
  /** Absent in model.json files written before position_ids were fed. */
  position_ids?: string | null;
  /** The output downstream fidelity compares: logits for causal LMs. */
  output: string;
}

export interface IoChoice {
  input_name?: string | null;
  output_name?: string | null;
  /** config.json's vocab_size, to recognise a logits output under another name. */
  vocabSize?: number | null;
}

const INT_TYPES = new Set([6, 7]); // INT32, INT64
const fmt = (s: Dim[] | null | undefined) => (s ? `[${s.join(", ")}]` : "[?]");
const EXPORT_HINT = 'torch.onnx.export(..., dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, ' +
  '"logits": {0: "batch", 1: "sequence"}})';

/** Decides (and checks) the model's io; throws one line naming the cause and the fix. */
export function modelIo(bytes: Uint8Array, choice: IoChoice = {}): ModelIo {
  const graph = loadModelProto(bytes).graph!;
  const types = inferTypes(graph);
  const inits = new Set((graph.initializer ?? []).map((t) => t.name!));
  const inputs = (graph.input ?? []).map((i) => i.name!).filter((n) => !inits.has(n));
  const outputs = (graph.output ?? []).map((o) => o.name!);
  const shape = (t: string) => types.get(t)?.shape ?? null;

  const has = (n: string) => inputs.includes(n);
  const side = ["attention_mask", "token_type_ids", "position_ids"];
  let ids: string;
  if (choice.input_name) {
    if (!has(choice.input_name)) {
      throw new Error(
        `model.input_name "${choice.input_name}" is not an input of the model (inputs: ${inputs.join(", ")})`,
      );
    }
    ids = choice.input_name;
  } else if (has("input_ids")) {
    ids = "input_ids";
  } else {
    const cands = inputs.filter((n) =>
      !side.includes(n) && INT_TYPES.has(types.get(n)?.elemType ?? 0) && shape(n)?.length === 2
    );
    if (cands.length !== 1) {
      throw new Error(
        `model inputs (${inputs.join(", ")}): cannot tell which takes the token ids; set model.input_name`,
      );
    }
    ids = cands[0];
  }
  const other = inputs.filter((n) => n !== ids && !side.includes(n));
  if (other.length) {
    const past = /past|cache/i.test(other[0])
      ? " (optimum: --task text-generation, not text-generation-with-past)"
      : "";
    throw new Error(
      `model input "${other[0]}" is not one the pipeline can feed (it feeds token ids, attention_mask, ` +
        `token_type_ids, position_ids): export the model without it${past}`,
    );
  }
  const idsShape = shape(ids);
  if (!idsShape || idsShape.length !== 2) {
    throw new Error(`model input "${ids}" has shape ${fmt(idsShape)}, expected token ids [batch, sequence]`);
  }
  if (idsShape.some((d) => typeof d === "number")) {
    throw new Error(
      `model input "${ids}" has a fixed shape ${
        fmt(idsShape)
      }: the pipeline needs dynamic batch and sequence axes; re-export with ${EXPORT_HINT}`,
    );
  }

  let output: string;
  if (choice.output_name) {
    if (!outputs.includes(choice.output_name)) {
      throw new Error(
        `model.output_name "${choice.output_name}" is not an output of the model (outputs: ${outputs.join(", ")})`,
      );
    }
    output = choice.output_name;
  } else {
    const byVocab = outputs.filter((o) => {
      const s = shape(o);
      return s?.length === 3 && choice.vocabSize != null && s[2] === choice.vocabSize;
    });
    const known = ["logits", "sentence_embedding", "last_hidden_state"].find((o) => outputs.includes(o));
    const found = known ?? (byVocab.length === 1 ? byVocab[0] : null);
    if (!found) {
      throw new Error(
        `model outputs (${
          outputs.join(", ")
        }): none is logits, sentence_embedding or last_hidden_state; set model.output_name to the logits (or hidden state) output`,
      );
    }
    output = found;
  }
  const outShape = shape(output);
  const last = outShape?.at(-1);
  const isLogits = output === "logits" || (choice.vocabSize != null && last === choice.vocabSize);
  const kind = isLogits && outShape?.length === 3 ? "causal_lm" : "encoder";
  if (isLogits && (outShape?.length !== 3 || typeof outShape[1] === "number")) {
    throw new Error(
      `model output "${output}" has shape ${fmt(outShape)}: it returns logits ${
        outShape?.[1] === 1
          ? "for the last position only (as nanoGPT's forward does without targets)"
          : "not per position"
      }; export a forward that returns [batch, sequence, vocab] logits for every position`,
    );
  }
  return {
    kind,
    input_ids: ids,
    attention_mask: has("attention_mask") ? "attention_mask" : null,
    token_type_ids: has("token_type_ids") ? "token_type_ids" : null,
    position_ids: has("position_ids") ? "position_ids" : null,
    output,
  };
}

/** The io of a model directory: model.json's `io` (written by the model stage), else decided from the graph. */
export function readModelIo(modelDir: string, bytes: Uint8Array): ModelIo {
  try {
    const io = JSON.parse(Deno.readTextFileSync(`${modelDir}/model.json`)).io;
    if (io && typeof io.input_ids === "string") return io as ModelIo;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return modelIo(bytes);
}

/** int64 feeds for a batch of token ids [b, seqLen] with its 0/1 mask, named as `io` says. */
export function idsFeeds<T>(
  io: ModelIo,
  make: (data: BigInt64Array) => T,
  ids: BigInt64Array,
  mask: BigInt64Array,
  seqLen: number,
): Record<string, T> {
  const feeds: Record<string, T> = { [io.input_ids]: make(ids) };
  if (io.attention_mask) feeds[io.attention_mask] = make(mask);
  if (io.token_type_ids) feeds[io.token_type_ids] = make(new BigInt64Array(ids.length));
  if (io.position_ids) feeds[io.position_ids] = make(BigInt64Array.from(ids, (_, i) => BigInt(i % seqLen)));
  return feeds;
}
