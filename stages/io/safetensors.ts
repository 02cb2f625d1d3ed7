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

/** A tensor's name, dtype and shape: what the header says of it. */
export interface TensorSpec {
  name: string;
  dtype: SafeDType;
  shape: number[];
}

/** The 8-byte length and the padded JSON header of tensors laid out in the order given; data bytes in all. */
function encodeHeader(specs: TensorSpec[], metadata?: Record<string, string>): { head: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of specs) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (new TextEncoder().encode(json).length % 8)) % 8;
  json += " ".repeat(pad);
  const hbytes = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + hbytes.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  head.set(hbytes, 8);
  return { head, dataBytes: offset };
}

/** `data`'s bytes, checked against the spec's shape and dtype. */
function tensorBytes(t: TensorSpec, data: Tensor["data"]): Uint8Array {
  const bytes = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
  if (data.byteLength !== bytes) {
    throw new Error(
      `safetensors: tensor "${t.name}" has ${data.byteLength} bytes, shape ${
        JSON.stringify(t.shape)
      } ${t.dtype} needs ${bytes}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Serialise tensors (and optional string metadata) into safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  const parts = specs.map((spec) => tensorBytes(spec, tensors[spec.name].data));
  const { head, dataBytes } = encodeHeader(specs, metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let p = head.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/**
 * Write a safetensors file tensor by tensor: the header from `specs`, then each tensor's data as
 * `data` yields it (in the specs' order), so only one tensor need be in memory at a time. On an error
 * (also one thrown by `data`) the file is left incomplete: write to a temporary name.
 */
export async function writeSafetensorsStream(
  path: string,
  specs: TensorSpec[],
  data: AsyncIterable<Tensor["data"]>,
  metadata?: Record<string, string>,
): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const writer = file.writable.getWriter();
    await writer.write(encodeHeader(specs, metadata).head);
    let i = 0;
    for await (const d of data) {
      if (i >= specs.length) throw new Error(`safetensors: more tensors than the ${specs.length} specified`);
      await writer.write(tensorBytes(specs[i++], d));
    }
    if (i < specs.length) throw new Error(`safetensors: ${specs.length - i} tensors missing, "${specs[i].name}" first`);
    await writer.close();
  } catch (e) {
    try {
      file.close();
    } catch { /* closed with the stream */ }
    throw e;
  }
}

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
  /** The parsed header, as stored (for format checks). */
  header: Record<string, { dtype: SafeDType; shape: number[]; data_offsets: [number, number] }>;
  headerLength: number;
}

/** The header's JSON (after the 8-byte length): metadata and each tensor's entry, offsets checked against `dataBytes`. */
function parseHeader(json: Uint8Array, dataBytes: number) {
  const raw = JSON.parse(new TextDecoder().decode(json));
  const metadata = raw.__metadata__ ?? {};
  delete raw.__metadata__;
  const entries = Object.entries(raw) as [string, SafetensorsFile["header"][string]][];
  for (const [name, h] of entries) {
    const [b, e] = h.data_offsets;
    const count = h.shape.reduce((a, c) => a * c, 1);
    if (e - b !== count * BYTES[h.dtype] || e > dataBytes) {
      throw new Error(`safetensors: tensor "${name}" offsets [${b}, ${e}] do not fit its shape or the file`);
    }
  }
  return { raw, metadata, entries };
}

/** A tensor's bytes (an aligned buffer of its own) as the typed array of its dtype. */
function typedOf(dtype: SafeDType, slice: ArrayBuffer): Tensor["data"] {
  return dtype === "F32"
    ? new Float32Array(slice)
    : dtype === "F64"
    ? new Float64Array(slice)
    : dtype === "I32"
    ? new Int32Array(slice)
    : dtype === "U32"
    ? new Uint32Array(slice)
    : dtype === "I64"
    ? new BigInt64Array(slice)
    : dtype === "U8"
    ? new Uint8Array(slice)
    : new Uint16Array(slice);
}

/** The header length N of a file or buffer starting with `first8`. */
function headerLength(first8: Uint8Array): number {
  return Number(new DataView(first8.buffer, first8.byteOffset).getBigUint64(0, true));
}

/** Parse safetensors bytes; copies each tensor into an aligned typed array. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new Error("safetensors: file shorter than its 8-byte header length");
  const n = headerLength(bytes);
  if (8 + n > bytes.length) throw new Error(`safetensors: header length ${n} exceeds the file size ${bytes.length}`);
  const base = 8 + n;
  const { raw, metadata, entries } = parseHeader(bytes.subarray(8, base), bytes.length - base);
  const tensors: Record<string, Tensor> = {};
  for (const [name, h] of entries) {
    const [b, e] = h.data_offsets;
    tensors[name] = { dtype: h.dtype, shape: h.shape, data: typedOf(h.dtype, bytes.slice(base + b, base + e).buffer) };
  }
  return { tensors, metadata, header: raw, headerLength: n };
}

/** Write tensors (in the order given) to a file, each straight from its array (no whole-file buffer). */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  specs.forEach((spec) => tensorBytes(spec, tensors[spec.name].data)); // bad sizes fail before the file opens
  async function* data() {
    for (const t of Object.values(tensors)) yield t.data;
  }
  await writeSafetensorsStream(path, specs, data(), metadata);
}

/** Read a safetensors file tensor by tensor into aligned arrays (never the whole file in one buffer besides them). */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    const readAt = async (at: number, bytes: number): Promise<Uint8Array<ArrayBuffer>> => {
      const out = new Uint8Array(bytes);
      await file.seek(at, Deno.SeekMode.Start);
      for (let got = 0; got < bytes;) {
        const n = await file.read(out.subarray(got));
        if (n === null) throw new Error(`safetensors: ${path} ends at byte ${at + got}, expected ${at + bytes}`);
        got += n;
      }
      return out;
    };
    if (size < 8) throw new Error("safetensors: file shorter than its 8-byte header length");
    const n = headerLength(await readAt(0, 8));
    if (8 + n > size) throw new Error(`safetensors: header length ${n} exceeds the file size ${size}`);
    const base = 8 + n;
    const { raw, metadata, entries } = parseHeader(await readAt(8, n), size - base);
    const tensors: Record<string, Tensor> = {};
    for (const [name, h] of entries) {
      const [b, e] = h.data_offsets;
      tensors[name] = {
        dtype: h.dtype,
        shape: h.shape,
        data: typedOf(h.dtype, (await readAt(base + b, e - b)).buffer),
      };
    }
    return { tensors, metadata, header: raw, headerLength: n };
  } finally {
    file.close();
  }
}
