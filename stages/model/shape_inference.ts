/**
 * Static type and shape inference for ONNX graphs, with symbolic dimensions (a string dim such as
 * "batch"). Covers the operators of transformer exports (elementwise + broadcasting, MatMul/Gemm,
 * Reshape/Transpose/(Un)Squeeze/Concat/Split/Slice/Gather, reductions, normalisations, Softmax,
 * Cast, Shape arithmetic). Small int64 tensors (shapes, axes) are tracked by value so that the usual
 * `Shape -> Gather -> Unsqueeze -> Concat -> Reshape` chains of torch exports resolve. Anything it
 * cannot infer is left out (or taken from the graph's own value_info).
 */
import type onnxProto from "onnx-proto";

type G = onnxProto.onnx.IGraphProto;
type N = onnxProto.onnx.INodeProto;
type T = onnxProto.onnx.ITensorProto;

/** A dimension: a size, or a symbol (equal symbols are equal sizes). */
export type Dim = number | string;

export interface TensorType {
  /** ONNX TensorProto.DataType code (1 = float). */
  elemType: number;
  /** Dims, or null when even the rank is unknown. */
  shape: Dim[] | null;
}

const FLOAT = 1, INT64 = 7, BOOL = 9;

/** An int64/Long/number from protobufjs as a JS number. */
export function num(x: unknown): number {
  if (typeof x === "number") return x;
  if (typeof x === "bigint") return Number(x);
  if (x && typeof (x as { toNumber?: () => number }).toNumber === "function") {
    return (x as { toNumber: () => number }).toNumber();
  }
  return Number(x);
}

/** Values of a small numeric tensor (int64, int32 or float), or null. */
export function intValues(t: T): number[] | null {
  const n = (t.dims ?? []).reduce((a: number, b) => a * num(b), 1);
  if (n > 64) return null;
  if (t.dataType === INT64) {
    if (t.rawData && t.rawData.length) {
      const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return Array.from({ length: n }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
    }
    return (t.int64Data ?? []).map(num);
  }
  if (t.dataType === FLOAT) {
    if (t.rawData && t.rawData.length) {
      const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return Array.from({ length: n }, (_, i) => dv.getFloat32(i * 4, true));
    }
    return t.floatData ?? null;
  }
  if (t.dataType === 6) {
    if (t.rawData && t.rawData.length) {
      const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return Array.from({ length: n }, (_, i) => dv.getInt32(i * 4, true));
    }
    return (t.int32Data ?? []).map(num);
  }
  return null;
}

/** Type and shape of a ValueInfoProto, or null. */
export function typeOfValueInfo(v: onnxProto.onnx.IValueInfoProto): TensorType | null {
  const tt = v.type?.tensorType;
  if (!tt || !tt.elemType) return null;
  const dims = tt.shape?.dim;
  if (!tt.shape) return { elemType: tt.elemType, shape: null };
  return {
    elemType: tt.elemType,
    shape: (dims ?? []).map((d, i) =>
      d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0
        ? num(d.dimValue)
        : d.dimParam || `${v.name}_d${i}`
    ),
  };
}

function attr(node: N, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}
function attrInt(node: N, name: string, dflt: number): number {
  const a = attr(node, name);
  return a && a.i !== undefined && a.i !== null ? num(a.i) : dflt;
}
function attrInts(node: N, name: string): number[] | null {
  const a = attr(node, name);
  return a && a.ints && a.ints.length ? a.ints.map(num) : null;
}

function prod(dims: Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) typeof d === "number" ? (n *= d) : syms.push(d);
  if (!syms.length) return n;
  return [...(n === 1 ? [] : [String(n)]), ...syms].join("*");
}

function broadcast(shapes: (Dim[] | null)[]): Dim[] | null {
  if (shapes.some((s) => s === null)) return null;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s![s!.length - rank + i];
      if (x === undefined || x === 1) continue;
      // A symbol wins over 1; a number wins over a symbol (the symbol must equal it to broadcast).
      if (d === 1 || (typeof d === "string" && typeof x === "number")) d = x;
    }
    out.push(d);
  }
  return out;
}

function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

/** Infers types for every tensor of `graph` it can; graph value_info fills what it cannot. */
export function inferTypes(graph: G): Map<string, TensorType> {
  const types = new Map<string, TensorType>();
  const values = new Map<string, Dim[]>(); // known small int tensors, by value
  for (const v of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const t = typeOfValueInfo(v);
    if (t) types.set(v.name!, t);
  }
  for (const init of graph.initializer ?? []) {
    types.set(init.name!, { elemType: init.dataType!, shape: (init.dims ?? []).map(num) });
    const iv = intValues(init);
    if (iv) values.set(init.name!, iv);
  }
  let fresh = 0;
  const unknown = (node: N) => `${node.opType}_${fresh++}`;

  for (const node of graph.node ?? []) {
    const ins = (node.input ?? []).map((n) => (n ? types.get(n) ?? null : null));
    const inVals = (node.input ?? []).map((n) => (n ? values.get(n) ?? null : null));
    const x = ins[0];
    const outs = node.output ?? [];
    const set = (i: number, t: TensorType | null, v?: Dim[] | null) => {
      const name = outs[i];
      if (!name || !t) return;
      // A graph's own value_info may be more precise (from the exporter); keep it when it has a full shape.
      const prior = types.get(name);
      if (!prior || !prior.shape) types.set(name, t);
      if (v) values.set(name, v);
    };
    const same = (elemType = x?.elemType) => (x && elemType ? { elemType, shape: x.shape } : null);
    const numbersOnly = (v: Dim[] | null) => v && v.every((d) => typeof d === "number") ? v as number[] : null;

    switch (node.opType) {
      case "Identity":
      case "Relu":
      case "Tanh":
      case "Sigmoid":
      case "Erf":
      case "Sqrt":
      case "Exp":
      case "Log":
      case "Neg":
      case "Abs":
      case "Reciprocal":
      case "Softmax":
      case "LogSoftmax":
      case "Gelu":
      case "FastGelu":
      case "Elu":
      case "LeakyRelu":
      case "Softplus":
      case "HardSigmoid":
      case "Clip":
      case "Sin":
      case "Cos":
      case "Floor":
      case "Ceil":
      case "Round":
      case "Sign":
      case "Not":
      case "LayerNormalization":
      case "SimplifiedLayerNormalization":
      case "Dropout":
      case "Trilu":
      case "CumSum":
      case "BatchNormalization":
      case "InstanceNormalization":
      case "RMSNormalization":
        set(0, same(), node.opType === "Identity" || node.opType === "Neg" ? inVals[0] : null);
        if (node.opType === "Dropout" && outs[1] && x) set(1, { elemType: BOOL, shape: x.shape });
        break;
      case "Cast":
        set(0, same(attrInt(node, "to", 0)), inVals[0]);
        break;
      case "Add":
      case "Sub":
      case "Mul":
      case "Div":
      case "Pow":
      case "Max":
      case "Min":
      case "Mod":
      case "Equal":
      case "Less":
      case "Greater":
      case "LessOrEqual":
      case "GreaterOrEqual":
      case "And":
      case "Or":
      case "Xor":
      case "Where": {
        const operands = node.opType === "Where" ? ins.slice(1) : ins;
        const elemType = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]
            .includes(node.opType!)
          ? BOOL
          : operands.find((t) => t)?.elemType;
        if (elemType && ins.every((t) => t)) {
          let v: Dim[] | null = null;
          const a = numbersOnly(inVals[0]), b = numbersOnly(inVals[1]);
          if (a && b && (elemType === INT64 || elemType === 6) && ["Add", "Sub", "Mul", "Div"].includes(node.opType!)) {
            const f = {
              Add: (p: number, q: number) => p + q,
              Sub: (p: number, q: number) => p - q,
              Mul: (p: number, q: number) => p * q,
              Div: (p: number, q: number) => Math.trunc(p / q),
            }[
              node.opType as "Add"
            ];
            const n = Math.max(a.length, b.length);
            v = Array.from({ length: n }, (_, i) => f(a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]));
          }
          set(0, { elemType, shape: broadcast(ins.map((t) => t!.shape)) }, v);
        }
        break;
      }
      case "MatMul":
      case "MatMulInteger": {
        const [a, b] = ins;
        if (!a?.shape || !b?.shape) break;
        const sa = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
        const sb = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
        const batch = broadcast([sa.slice(0, -2), sb.slice(0, -2)])!;
        const out = [
          ...batch,
          ...(a.shape.length === 1 ? [] : [sa[sa.length - 2]]),
          ...(b.shape.length === 1 ? [] : [sb[sb.length - 1]]),
        ];
        set(0, { elemType: a.elemType, shape: out });
        break;
      }
      case "Gemm": {
        const [a, b] = ins;
        if (!a?.shape || !b?.shape) break;
        const m = attrInt(node, "transA", 0) ? a.shape[1] : a.shape[0];
        const n = attrInt(node, "transB", 0) ? b.shape[0] : b.shape[1];
        set(0, { elemType: a.elemType, shape: [m, n] });
        break;
      }
      case "Transpose": {
        if (!x?.shape) break;
        const perm = attrInts(node, "perm") ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
        set(0, { elemType: x.elemType, shape: perm.map((p) => x.shape![p]) });
        break;
      }
      case "Reshape": {
        const target = inVals[1];
        if (!x || !target) break;
        const allowZero = attrInt(node, "allowzero", 0);
        let out: Dim[] = target.map((d, i) => (d === 0 && !allowZero && x.shape ? x.shape[i] : d));
        const neg = out.indexOf(-1);
        if (neg >= 0) {
          if (!x.shape) break;
          out[neg] = divideDims(x.shape, out.filter((_, i) => i !== neg)) ?? unknown(node);
        }
        out = out.map((d) => (typeof d === "number" && d < 0 ? unknown(node) : d));
        set(0, { elemType: x.elemType, shape: out }, inVals[0] && out.length === 1 ? inVals[0] : null);
        break;
      }
      case "Flatten": {
        if (!x?.shape) break;
        const axis = normAxis(attrInt(node, "axis", 1), x.shape.length);
        set(0, { elemType: x.elemType, shape: [prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))] });
        break;
      }
      case "Unsqueeze": {
        if (!x?.shape) break;
        const axes = numbersOnly(inVals[1]) ?? attrInts(node, "axes");
        if (!axes) break;
        const rank = x.shape.length + axes.length;
        const ax = new Set(axes.map((a) => normAxis(a, rank)));
        const out: Dim[] = [];
        let j = 0;
        for (let i = 0; i < rank; i++) out.push(ax.has(i) ? 1 : x.shape[j++]);
        set(0, { elemType: x.elemType, shape: out }, inVals[0] && inVals[0].length <= 1 ? inVals[0] : null);
        break;
      }
      case "Squeeze": {
        if (!x?.shape) break;
        const axes = numbersOnly(inVals[1]) ?? attrInts(node, "axes");
        const ax = new Set(
          (axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.shape!.length)),
        );
        set(0, { elemType: x.elemType, shape: x.shape.filter((_, i) => !ax.has(i)) }, inVals[0]);
        break;
      }
      case "Concat": {
        if (!x?.shape || ins.some((t) => !t?.shape)) break;
        const axis = normAxis(attrInt(node, "axis", 0), x.shape.length);
        const parts = ins.map((t) => t!.shape![axis]);
        const total: Dim = parts.every((d) => typeof d === "number")
          ? (parts as number[]).reduce((p, q) => p + q, 0)
          : parts.join("+");
        const out = x.shape.slice();
        out[axis] = total;
        const v = inVals.every((iv) => iv) ? inVals.flatMap((iv) => iv!) : null;
        set(0, { elemType: x.elemType, shape: out }, v);
        break;
      }
      case "Split": {
        if (!x?.shape) break;
        const axis = normAxis(attrInt(node, "axis", 0), x.shape.length);
        const sizes = numbersOnly(inVals[1]) ?? attrInts(node, "split");
        const whole = x.shape[axis];
        outs.forEach((_, i) => {
          const out = x.shape!.slice();
          out[axis] = sizes ? sizes[i] : typeof whole === "number" ? whole / outs.length : unknown(node);
          set(i, { elemType: x.elemType, shape: out });
        });
        break;
      }
      case "Slice": {
        if (!x?.shape) break;
        const starts = numbersOnly(inVals[1]), ends = inVals[2];
        const axes = numbersOnly(inVals[3]) ?? (starts ? starts.map((_, i) => i) : null);
        const steps = numbersOnly(inVals[4]) ?? (starts ? starts.map(() => 1) : null);
        const out = x.shape.slice();
        if (!starts || !ends || !axes || !steps) {
          // Unknown bounds: the sliced axes become unknown (all of them when axes are unknown too).
          const which = axes ?? x.shape.map((_, i) => i);
          for (const a of which) out[normAxis(a, out.length)] = unknown(node);
          set(0, { elemType: x.elemType, shape: out });
          break;
        }
        let v: Dim[] | null = null;
        axes.forEach((a0, i) => {
          const a = normAxis(a0, out.length);
          const d = out[a];
          if (typeof d !== "number") {
            // Symbolic dim: [0, INT_MAX) keeps it; anything else is unknown.
            const e = ends[i];
            const whole = e === d || (typeof e === "number" && e >= 2 ** 31 - 1);
            out[a] = starts[i] === 0 && whole && steps[i] === 1 ? d : unknown(node);
            return;
          }
          if (typeof ends[i] === "string") {
            // [0, n) with a symbolic n (a sequence length taken from another tensor's Shape).
            out[a] = starts[i] === 0 && steps[i] === 1 ? ends[i] : unknown(node);
            return;
          }
          const clamp = (p: number, hi: number) => Math.max(0, Math.min(hi, p < 0 ? p + d : p));
          const s = clamp(starts[i], d), e = clamp(ends[i] as number, d);
          out[a] = Math.max(0, Math.ceil((e - s) / steps[i]));
          if (inVals[0] && x.shape!.length === 1 && steps[i] === 1) v = inVals[0].slice(s, e);
        });
        set(0, { elemType: x.elemType, shape: out }, v);
        break;
      }
      case "Gather": {
        const idx = ins[1];
        if (!x?.shape || !idx?.shape) break;
        const axis = normAxis(attrInt(node, "axis", 0), x.shape.length);
        const out = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
        let v: Dim[] | null = null;
        const iv = numbersOnly(inVals[1]);
        if (inVals[0] && iv && x.shape.length === 1) v = iv.map((i) => inVals[0]![i < 0 ? i + inVals[0]!.length : i]);
        set(0, { elemType: x.elemType, shape: out }, v);
        break;
      }
      case "ReduceMean":
      case "ReduceSum":
      case "ReduceMax":
      case "ReduceMin":
      case "ReduceProd":
      case "ReduceL2":
      case "ReduceSumSquare":
      case "ReduceLogSumExp":
      case "ArgMax":
      case "ArgMin": {
        if (!x?.shape) break;
        const isArg = node.opType!.startsWith("Arg");
        const axes = isArg ? [attrInt(node, "axis", 0)] : numbersOnly(inVals[1]) ?? attrInts(node, "axes");
        const keep = attrInt(node, "keepdims", 1);
        const ax = new Set((axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, x.shape!.length)));
        const out = keep ? x.shape.map((d, i) => (ax.has(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.has(i));
        set(0, { elemType: isArg ? INT64 : x.elemType, shape: out });
        break;
      }
      case "Shape": {
        if (!x?.shape) break;
        const rank = x.shape.length;
        const start = normAxis(attrInt(node, "start", 0), rank);
        const end = Math.min(rank, normAxis(attrInt(node, "end", rank), rank));
        const v = x.shape.slice(start, end);
        set(0, { elemType: INT64, shape: [v.length] }, v);
        break;
      }
      case "Size":
        if (x?.shape) set(0, { elemType: INT64, shape: [] }, [prod(x.shape)]);
        break;
      case "Constant": {
        const t = attr(node, "value")?.t;
        if (t) set(0, { elemType: t.dataType!, shape: (t.dims ?? []).map(num) }, intValues(t));
        break;
      }
      case "ConstantOfShape": {
        const shape = inVals[0];
        const t = attr(node, "value")?.t;
        if (shape) set(0, { elemType: t?.dataType ?? FLOAT, shape });
        break;
      }
      case "Expand": {
        const shape = inVals[1];
        if (x?.shape && shape) set(0, { elemType: x.elemType, shape: broadcast([x.shape, shape]) });
        break;
      }
      case "Range": {
        // [0, n) with step 1 has n elements, also for a symbolic n.
        const [start, limit, delta] = inVals;
        const n = start?.[0] === 0 && delta?.[0] === 1 && limit?.length === 1 ? limit[0] : unknown(node);
        if (x) set(0, { elemType: x.elemType, shape: [n] });
        break;
      }
    }
  }
  return types;
}

/** prod(a) / prod(b) when it is exact (numbers divide, every symbol of b appears in a), else null. */
function divideDims(a: Dim[], b: Dim[]): Dim | null {
  const syms = a.filter((d): d is string => typeof d === "string");
  let n = a.filter((d): d is number => typeof d === "number").reduce((p, q) => p * q, 1);
  for (const d of b) {
    if (typeof d === "number") {
      if (d === 0 || n % d !== 0) return null;
      n /= d;
    } else {
      const i = syms.indexOf(d);
      if (i < 0) return null;
      syms.splice(i, 1);
    }
  }
  if (!syms.length) return n;
  if (syms.length === 1 && n === 1) return syms[0];
  return null;
}
