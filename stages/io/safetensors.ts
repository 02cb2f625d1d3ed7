/**
 * safetensors reader/writer (https://huggingface.co/docs/safetensors): 8-byte little-endian header
 * length N, N bytes of JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`
 * (padded with spaces to a multiple of 8), then the raw little-endian tensor bytes.
 * Tensors are written in the order given (SAELens files are read by name, so order is cosmetic).
 */

export type SafeDType = "F32" | "F64" | "I32" | "U32" | "I64" | "U8" | "F16" | "BF16";

export interface Tensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint32Array | BigInt64Array | Uint8Array | Uint16Array;
}

const BYTES: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4, U32: 4, I64: 8, U8: 1, F16: 2, BF16: 2 };

/** Convenience: an F32 tensor. */
export function f32(shape: number[], data: Float32Array): Tensor {
  return { dtype: "F32", shape, data };
}

/** Serialise tensors (and optional string metadata) into safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bytes = n * BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(
        `safetensors: tensor "${name}" has ${t.data.byteLength} bytes, shape ${
          JSON.stringify(t.shape)
        } ${t.dtype} needs ${bytes}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  const pad = (8 - (hbytes.length % 8)) % 8;
  if (pad) {
    json += " ".repeat(pad);
    hbytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + hbytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let p = 8 + hbytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
  /** The parsed header, as stored (for format checks). */
  header: Record<string, { dtype: SafeDType; shape: number[]; data_offsets: [number, number] }>;
  headerLength: number;
}

/** Parse safetensors bytes; copies each tensor into an aligned typed array. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new Error("safetensors: file shorter than its 8-byte header length");
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`safetensors: header length ${n} exceeds the file size ${bytes.length}`);
  const raw = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const metadata = raw.__metadata__ ?? {};
  delete raw.__metadata__;
  const tensors: Record<string, Tensor> = {};
  const base = 8 + n;
  for (const [name, h] of Object.entries(raw) as [string, SafetensorsFile["header"][string]][]) {
    const [b, e] = h.data_offsets;
    const count = h.shape.reduce((a, c) => a * c, 1);
    if (e - b !== count * BYTES[h.dtype] || base + e > bytes.length) {
      throw new Error(`safetensors: tensor "${name}" offsets [${b}, ${e}] do not fit its shape or the file`);
    }
    const slice = bytes.slice(base + b, base + e).buffer;
    const data = h.dtype === "F32"
      ? new Float32Array(slice)
      : h.dtype === "F64"
      ? new Float64Array(slice)
      : h.dtype === "I32"
      ? new Int32Array(slice)
      : h.dtype === "U32"
      ? new Uint32Array(slice)
      : h.dtype === "I64"
      ? new BigInt64Array(slice)
      : h.dtype === "U8"
      ? new Uint8Array(slice)
      : new Uint16Array(slice);
    tensors[name] = { dtype: h.dtype, shape: h.shape, data };
  }
  return { tensors, metadata, header: raw, headerLength: n };
}

export async function writeSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await Deno.writeFile(path, encodeSafetensors(tensors, metadata));
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await Deno.readFile(path));
}
