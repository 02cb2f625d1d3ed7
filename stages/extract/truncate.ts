/**
 * The model graph cut at the hook: the hook tensor becomes the only output and every node it does
 * not depend on is dropped (SAELens' `stop_at_layer`). onnxruntime runs every node of a graph
 * whatever is fetched, so without the cut a block-0 hook would pay for the whole forward pass.
 */
import onnxProto from "onnx-proto";
import { exposeHooks, loadModelProto, prune } from "../model/onnx_graph.ts";

/** ONNX bytes whose single output is `tensor`, with only the nodes and initializers it needs. */
export function graphUpToHook(bytes: Uint8Array, tensor: string): Uint8Array {
  return graphUpToHooks(bytes, [tensor]);
}

/** ONNX bytes whose outputs are `tensors` (several hooks from one forward pass), pruned to what they need. */
export function graphUpToHooks(bytes: Uint8Array, tensors: string[]): Uint8Array {
  const model = loadModelProto(exposeHooks(bytes, tensors));
  const graph = model.graph!;
  graph.output = (graph.output ?? []).filter((o) => tensors.includes(o.name ?? ""));
  prune(graph);
  // Graph inputs stay declared (callers feed them all); onnxruntime ignores the unused ones.
  return onnxProto.onnx.ModelProto.encode(model).finish();
}
