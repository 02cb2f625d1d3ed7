/** Hashing: sha256 of bytes, files (streamed) and canonical JSON (sorted keys, no whitespace). */
import { createHash } from "node:crypto";
import { ignoreMissing } from "./missing.ts";

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of a file, streamed in 1 MiB chunks so large activation shards never sit in memory twice. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  using f = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  while (true) {
    const n = await f.read(buf);
    if (n === null) break;
    h.update(buf.subarray(0, n));
  }
  return h.digest("hex");
}

/** JSON with object keys sorted at every level: equal values always give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}

export function hashJson(value: unknown): string {
  return sha256(canonicalJson(value));
}

/** sha256 of every file under the given paths (directories walked, sorted), keyed by path. */
export async function hashDataFiles(paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (p: string) => {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(p);
    } catch (e) {
      ignoreMissing(e);
      out[p] = "missing";
      return;
    }
    if (st.isDirectory) {
      const names = [];
      for await (const e of Deno.readDir(p)) names.push(e.name);
      for (const n of names.sort()) await visit(`${p.replace(/\/$/, "")}/${n}`);
    } else out[p] = await sha256File(p);
  };
  for (const p of paths) await visit(p);
  return out;
}
