/**
 * ONNX graph surgery for hooks: list the hookable tensors of a model, resolve a hook name, expose
 * tensors as extra graph outputs (onnxruntime then returns them) and splice a replacement in (the
 * tensor's consumers read a new graph input instead). Names follow TransformerLens where the rules in
 * `hook_names.ts` resolve them.
 *
 * Order matters when combining: `exposeHooks` then `spliceHook` keeps the exposed tensors alive;
 * splicing first prunes everything that only fed the spliced tensor.
 */
import onnxProto from "onnx-proto";
import { closeMatches, editDistance } from "../../pipeline/params.ts";
import { TL_NAME, transformerLensNames } from "./hook_names.ts";
import { type Dim, inferTypes, type TensorType, typeOfValueInfo } from "./shape_inference.ts";
import { valueInfo } from "./onnx_builder.ts";

const onnx = onnxProto.onnx;
type Model = onnxProto.onnx.ModelProto;
type Graph = onnxProto.onnx.IGraphProto;

export interface HookInfo {
  /** TransformerLens-style name (`blocks.0.hook_resid_post`) where resolvable, else the tensor name. */
  name: string;
  /** The ONNX value name. */
  tensor: string;
  /** Dims; a string is symbolic (`batch`, `sequence`). */
  shape: Dim[];
  /** The op type of the producing node. */
  op: string;
  /** The last dimension (the SAE's d_in); -1 when it is symbolic. */
  d: number;
}

/** FLOAT, FLOAT16, DOUBLE, BFLOAT16. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

/** Decodes ONNX model bytes; a one-line error when they are not an ONNX model. */
export function loadModelProto(bytes: Uint8Array): Model {
  let model: Model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`not an ONNX model (${(e as Error).message})`);
  }
  if (!model.graph || !model.graph.node?.length) throw new Error("not an ONNX model (no graph nodes)");
  return model;
}

function encode(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Every hookable tensor: a float node output of rank >= 1 that depends on a graph input and has a
 * known or inferable shape. TransformerLens-named entries come first (in graph order); a tensor with a
 * TransformerLens name may also be listed under a second such name (resid_post of L = resid_pre of
 * L+1), but not under its raw tensor name.
 */
export function listHooks(bytes: Uint8Array): HookInfo[] {
  const graph = loadModelProto(bytes).graph!;
  const types = inferTypes(graph);
  const order = new Map<string, { op: string; pos: number }>();
  const dynamic = new Set((graph.input ?? []).map((i) => i.name!));
  (graph.node ?? []).forEach((n, pos) => {
    if (!(n.input ?? []).some((i) => dynamic.has(i))) return;
    for (const o of n.output ?? []) {
      if (!o) continue;
      dynamic.add(o);
      order.set(o, { op: n.opType!, pos });
    }
  });
  const hookable = (tensor: string) => {
    const t = types.get(tensor);
    // Scalars (e.g. a sequence length cast to float) are not activations.
    return order.has(tensor) && t && FLOAT_TYPES.has(t.elemType) && t.shape?.length ? t.shape : null;
  };
  const info = (name: string, tensor: string, shape: Dim[]): HookInfo => {
    const last = shape[shape.length - 1];
    return { name, tensor, shape, op: order.get(tensor)!.op, d: typeof last === "number" ? last : -1 };
  };

  const named: HookInfo[] = [];
  for (const [name, tensor] of transformerLensNames(graph, types)) {
    const shape = hookable(tensor);
    if (shape) named.push(info(name, tensor, shape));
  }
  named.sort((a, b) => order.get(a.tensor)!.pos - order.get(b.tensor)!.pos || a.name.localeCompare(b.name));
  const covered = new Set(named.map((h) => h.tensor));
  const rest: HookInfo[] = [];
  for (const tensor of [...order.keys()]) {
    const shape = hookable(tensor);
    if (shape && !covered.has(tensor)) rest.push(info(tensor, tensor, shape));
  }
  return [...named, ...rest];
}

/** The hook called `name` (or whose tensor is `name`); unknown -> an error naming close matches. */
export function resolveHook(hooks: HookInfo[], name: string): HookInfo {
  const hit = hooks.find((h) => h.name === name) ?? hooks.find((h) => h.tensor === name);
  if (hit) return hit;
  const names = hooks.map((h) => h.name);
  let near = closeMatches(name, names, 3);
  if (!near.length) {
    near = names.map((n) => [n, editDistance(name, n)] as const).sort((a, b) => a[1] - b[1]).slice(0, 3)
      .map(([n]) => n);
  }
  const hint = near.length ? ` — close matches: ${near.join(", ")}` : "";
  const unmapped = TL_NAME.test(name)
    ? "; no tensor of this export maps to that TransformerLens name (README, Hook points: which map per family), name a raw tensor instead"
    : "";
  throw new Error(`unknown hook "${name}"${hint}${unmapped} (run \`deno task pipeline hooks\` for the list)`);
}

/** The type of `tensor` (inferred, else from value_info); throws when it is not in the graph. */
function typeOf(graph: Graph, types: Map<string, TensorType>, tensor: string): TensorType {
  const produced = (graph.node ?? []).some((n) => (n.output ?? []).includes(tensor));
  if (!produced) throw new Error(`tensor "${tensor}" is not produced by any node of the graph`);
  const t = types.get(tensor) ??
    (graph.valueInfo ?? []).map(typeOfValueInfo).find((_, i) => graph.valueInfo![i].name === tensor);
  if (!t) throw new Error(`tensor "${tensor}": its type cannot be inferred`);
  return t;
}

/** Adds each of `tensorNames` as a graph output (named like the tensor, with its type and shape). */
export function exposeHooks(bytes: Uint8Array, tensorNames: string[]): Uint8Array {
  const model = loadModelProto(bytes);
  const graph = model.graph!;
  const types = inferTypes(graph);
  const outputs = new Set((graph.output ?? []).map((o) => o.name!));
  for (const tensor of tensorNames) {
    if (outputs.has(tensor)) continue;
    const t = typeOf(graph, types, tensor);
    graph.output!.push(onnx.ValueInfoProto.create(valueInfo(tensor, t.elemType, t.shape)));
    outputs.add(tensor);
  }
  return encode(model);
}

/** Replaces every read of `from` with `to`, in the graph and in nested subgraphs (If/Loop bodies). */
function renameReads(graph: Graph, from: string, to: string): void {
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map((i) => (i === from ? to : i));
    for (const a of n.attribute ?? []) {
      if (a.g) renameReads(a.g, from, to);
      for (const g of a.graphs ?? []) renameReads(g, from, to);
    }
  }
}

/** Names a node reads, including outer-scope names read by its subgraphs. */
function reads(n: onnxProto.onnx.INodeProto): string[] {
  const out = [...(n.input ?? [])];
  for (const a of n.attribute ?? []) {
    for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) {
      for (const m of g.node ?? []) out.push(...reads(m));
    }
  }
  return out;
}

/** Drops nodes (and initializers, value infos) that no graph output depends on. */
export function prune(graph: Graph): void {
  const needed = new Set((graph.output ?? []).map((o) => o.name!));
  const keep: onnxProto.onnx.INodeProto[] = [];
  for (const n of [...(graph.node ?? [])].reverse()) {
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    keep.push(n);
    for (const i of reads(n)) needed.add(i);
  }
  graph.node = keep.reverse();
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name!));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => needed.has(v.name!));
}

/**
 * Makes `tensorName`'s consumers read a new graph input `inputName` (same dtype and shape) instead, and
 * prunes the now-dead producer subgraph. If the tensor was itself a graph output, that output becomes
 * an Identity of the new input.
 */
export function spliceHook(bytes: Uint8Array, tensorName: string, inputName = "hook_replacement"): Uint8Array {
  const model = loadModelProto(bytes);
  const graph = model.graph!;
  const types = inferTypes(graph);
  const t = typeOf(graph, types, tensorName);
  const taken = new Set([
    ...(graph.input ?? []).map((i) => i.name!),
    ...(graph.initializer ?? []).map((i) => i.name!),
    ...(graph.node ?? []).flatMap((n) => n.output ?? []),
  ]);
  if (taken.has(inputName)) throw new Error(`spliceHook: the name "${inputName}" is already used in the graph`);
  renameReads(graph, tensorName, inputName);
  if ((graph.output ?? []).some((o) => o.name === tensorName)) {
    // The producer keeps writing `tensorName` only until pruned; rename it so the Identity is its sole producer.
    const orig = `${tensorName}/unspliced`;
    for (const n of graph.node ?? []) n.output = (n.output ?? []).map((o) => (o === tensorName ? orig : o));
    graph.node!.push({ opType: "Identity", name: `${tensorName}/splice`, input: [inputName], output: [tensorName] });
  }
  graph.input!.push(onnx.ValueInfoProto.create(valueInfo(inputName, t.elemType, t.shape)));
  prune(graph);
  return encode(model);
}
