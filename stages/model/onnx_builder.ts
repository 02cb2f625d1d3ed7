/**
 * A tiny ONNX graph builder on top of `onnx-proto`: named nodes, initializers and value infos, then
 * one `ModelProto` (IR 8, opset 17, the first with LayerNormalization). Every intermediate tensor gets a
 * ValueInfo from the shared shape inference, so tools (and `listHooks`) see shapes without running.
 * Used by the tiny test fixture and the USE-lite converter.
 */
import onnxProto from "onnx-proto";
import { type Dim, inferTypes } from "./shape_inference.ts";

export const onnx = onnxProto.onnx;
export type { Dim };

/** ONNX TensorProto.DataType codes used here. */
export const DType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

/** Attribute values: an integer, a float (`{ f: x }`), a list of integers, a string, or a tensor (`{ t }`). */
export type AttrValue = number | { f: number } | number[] | string | { t: onnxProto.onnx.ITensorProto };

export const OPSET = 17;
export const IR_VERSION = 8;

/** Makes a TensorProto holding `data` (little-endian raw bytes) with the given dims. */
export function tensorProto(
  name: string,
  data: Float32Array | BigInt64Array | Int32Array,
  dims: number[],
): onnxProto.onnx.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`tensor "${name}": ${data.length} values for dims [${dims}]`);
  const dataType = data instanceof Float32Array
    ? DType.FLOAT
    : data instanceof BigInt64Array
    ? DType.INT64
    : DType.INT32;
  // Copy so that a later mutation of `data` cannot change the model (and the bytes are LE on every host we run).
  const raw = new Uint8Array(data.byteLength);
  raw.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return { name, dims, dataType, rawData: raw };
}

/** Value info (type + shape; a string dim is symbolic) for graph inputs/outputs and intermediates. */
export function valueInfo(name: string, elemType: number, shape: Dim[] | null): onnxProto.onnx.IValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) };
  }
  return { name, type: { tensorType } };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use { f: ${v} })`);
    return { name, type: T.INT, i: v };
  }
  if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ("f" in v) return { name, type: T.FLOAT, f: v.f };
  return { name, type: T.TENSOR, t: v.t };
}

export class OnnxGraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly graphName: string) {}

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`onnx builder: tensor name "${name}" used twice`);
    this.used.add(name);
    return name;
  }

  /** A fresh tensor name `<prefix>_<n>` (deterministic: a counter). */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`; while (this.used.has(name));
    return name;
  }

  input(name: string, elemType: number, shape: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, shape));
    return name;
  }

  /** Declares `name` (an existing tensor) a graph output. */
  output(name: string, elemType: number, shape: Dim[]): string {
    this.outputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  initializer(name: string, data: Float32Array | BigInt64Array | Int32Array, dims: number[]): string {
    this.initializers.push(tensorProto(this.claim(name), data, dims));
    return name;
  }

  /** An int64 constant initializer (shapes, axes). */
  ints(name: string, values: number[]): string {
    return this.initializer(name, BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /** A float scalar (rank 0) initializer. */
  scalar(name: string, value: number): string {
    return this.initializer(name, Float32Array.of(value), []);
  }

  /** Appends a node; `outputs` are names (claimed) or a count of fresh names. Returns the output names. */
  node(
    opType: string,
    inputs: string[],
    outputs: string[] | number = 1,
    attrs: Record<string, AttrValue> = {},
    nodeName?: string,
  ): string[] {
    const outs = typeof outputs === "number"
      ? Array.from({ length: outputs }, () => this.claim(this.fresh(opType)))
      : outputs.map((o) => this.claim(o));
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: nodeName ?? `${opType}_${this.nodes.length}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** One-output node; `out` names the result (e.g. a hook name), else a fresh name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.node(opType, inputs, out === undefined ? 1 : [out], attrs)[0];
  }

  /** The ModelProto, with value infos for every intermediate tensor whose type is inferable. */
  toModel(producer = "sae-pipeline"): onnxProto.onnx.ModelProto {
    const graph: onnxProto.onnx.IGraphProto = {
      name: this.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
    const types = inferTypes(graph);
    const declared = new Set([...this.inputs, ...this.outputs].map((v) => v.name!));
    const info: onnxProto.onnx.IValueInfoProto[] = [];
    for (const n of this.nodes) {
      for (const o of n.output ?? []) {
        const t = types.get(o);
        if (t && !declared.has(o)) info.push(valueInfo(o, t.elemType, t.shape));
      }
    }
    graph.valueInfo = info;
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: producer,
      opsetImport: [{ domain: "", version: OPSET }],
      graph,
    });
  }

  toBytes(producer?: string): Uint8Array {
    return onnx.ModelProto.encode(this.toModel(producer)).finish();
  }
}
