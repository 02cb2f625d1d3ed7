/**
 * The model graph cut at the hook: the hook tensor becomes the only output and every node it does
 * not depend on is dropped (SAELens' `stop_at_layer`). onnxruntime runs every node of a graph
 * whatever is fetched, so without the cut a block-0 hook would pay for the whole forward pass.
 */
import onnxProto from "onnx-proto";
import { exposeHooks, loadModelProto } from "../model/onnx_graph.ts";

type NodeProto = onnxProto.onnx.INodeProto;

/** Names a node reads, including outer-scope names its subgraphs (If/Loop bodies) read. */
function reads(n: NodeProto): string[] {
  const out = [...(n.input ?? [])];
  for (const a of n.attribute ?? []) {
    for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) {
      for (const m of g.node ?? []) out.push(...reads(m));
    }
  }
  return out;
}

/** ONNX bytes whose single output is `tensor`, with only the nodes and initializers it needs. */
export function graphUpToHook(bytes: Uint8Array, tensor: string): Uint8Array {
  const model = loadModelProto(exposeHooks(bytes, [tensor]));
  const graph = model.graph!;
  graph.output = (graph.output ?? []).filter((o) => o.name === tensor);
  const needed = new Set([tensor]);
  const keep: NodeProto[] = [];
  for (const n of [...(graph.node ?? [])].reverse()) {
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    keep.push(n);
    for (const i of reads(n)) needed.add(i);
  }
  graph.node = keep.reverse();
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name!));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => needed.has(v.name!));
  // Graph inputs stay declared (callers feed them all); onnxruntime ignores the unused ones.
  return onnxProto.onnx.ModelProto.encode(model).finish();
}
