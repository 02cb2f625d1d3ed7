/**
 * The content-addressed store: `objects/<key>/` holds a stage's outputs plus `manifest.json` (every file's
 * path, size and sha256). Outputs are written into `tmp/` and renamed into place only when complete, so an
 * interrupted run never leaves a partial object. An object whose files no longer match their manifest is
 * reported and treated as missing. A stat cache (size + mtime per file, as git's index does) lets a no-op
 * run skip rehashing large files that have not been touched.
 */
import { dirname, join, relative } from "node:path";
import { hashJson, sha256File } from "./hash.ts";
import { ignoreBadJson, ignoreMissing, isMissing } from "./missing.ts";

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  files: ManifestEntry[];
}

export const MANIFEST = "manifest.json";

/** Output content hash: the hash of the manifest (paths, sizes, sha256s; sorted by path). */
export function manifestHash(m: Manifest): string {
  return hashJson(m.files);
}

async function walk(dir: string, base = dir, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) await walk(p, base, out);
    else if (e.isFile) out.push(relative(base, p));
    else throw new Error(`stage output ${relative(base, p)} is not a regular file (symlinks are not stored)`);
  }
  return out;
}

export async function buildManifest(dir: string): Promise<Manifest> {
  const paths = (await walk(dir)).filter((p) => p !== MANIFEST).sort();
  const files: ManifestEntry[] = [];
  for (const path of paths) {
    const full = join(dir, path);
    files.push({ path, size: (await Deno.stat(full)).size, sha256: await sha256File(full) });
  }
  return { files };
}

export class Store {
  readonly objects: string;
  readonly tmp: string;
  readonly scratch: string;
  readonly statCache: string;
  /** Warnings gathered while checking objects (corrupt objects), shown by the CLI. */
  warnings: string[] = [];

  constructor(readonly root: string) {
    this.objects = join(root, "objects");
    this.tmp = join(root, "tmp");
    this.scratch = join(root, "scratch");
    this.statCache = join(root, "statcache");
  }

  objectDir(key: string): string {
    return join(this.objects, key);
  }

  async init(): Promise<void> {
    for (const d of [this.objects, this.tmp, this.scratch, this.statCache]) await Deno.mkdir(d, { recursive: true });
  }

  /**
   * Remove temporary directories left by runs that died. Call only while holding the store lock: every
   * writer holds it, so whatever is in tmp/ then belongs to a run that is gone.
   */
  async cleanTmp(): Promise<number> {
    let n = 0;
    try {
      for await (const e of Deno.readDir(this.tmp)) {
        await Deno.remove(join(this.tmp, e.name), { recursive: true }).catch(ignoreMissing);
        n++;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return n;
  }

  async readManifest(key: string): Promise<Manifest | null> {
    try {
      return JSON.parse(await Deno.readTextFile(join(this.objectDir(key), MANIFEST)));
    } catch (e) {
      if (!isMissing(e)) ignoreBadJson(e);
      return null;
    }
  }

  /**
   * Check an object against its manifest. Returns its output hash, or null when missing. A corrupt
   * object (file missing, size or content changed) is reported in `warnings`, moved aside and reported as
   * missing so the stage is rebuilt.
   */
  async verify(key: string): Promise<string | null> {
    const dir = this.objectDir(key);
    const m = await this.readManifest(key);
    if (!m) {
      try {
        await Deno.stat(dir);
        await this.#discard(key, "has no readable manifest");
      } catch (e) {
        ignoreMissing(e); // absent
      }
      return null;
    }
    const cachePath = join(this.statCache, `${key}.json`);
    let cached: Record<string, [number, number]> = {};
    try {
      cached = JSON.parse(await Deno.readTextFile(cachePath));
    } catch (e) {
      if (!isMissing(e)) ignoreBadJson(e); // no cache yet, or a torn one
    }
    const fresh: Record<string, [number, number]> = {};
    let dirty = false;
    for (const f of m.files) {
      const full = join(dir, f.path);
      let st: Deno.FileInfo;
      try {
        st = await Deno.stat(full);
      } catch (e) {
        ignoreMissing(e);
        await this.#discard(key, `lost its file ${f.path}`);
        return null;
      }
      const mtime = st.mtime?.getTime() ?? 0;
      if (st.size !== f.size) {
        await this.#discard(key, `has ${f.path} at ${st.size} bytes, its manifest says ${f.size}`);
        return null;
      }
      const c = cached[f.path];
      if (!c || c[0] !== st.size || c[1] !== mtime) {
        if ((await sha256File(full)) !== f.sha256) {
          await this.#discard(key, `has ${f.path} whose content no longer matches its manifest`);
          return null;
        }
        dirty = true;
      }
      fresh[f.path] = [st.size, mtime];
    }
    if (dirty || Object.keys(cached).length !== m.files.length) {
      await Deno.writeTextFile(cachePath, JSON.stringify(fresh)).catch(ignoreMissing);
    }
    return manifestHash(m);
  }

  async #discard(key: string, why: string): Promise<void> {
    this.warnings.push(`store object ${key.slice(0, 12)} ${why}: discarding it and rebuilding`);
    const aside = join(this.tmp, `corrupt.${Deno.pid}.${key}`);
    await Deno.rename(this.objectDir(key), aside).catch(ignoreMissing);
    await Deno.remove(aside, { recursive: true }).catch(ignoreMissing);
    await Deno.remove(join(this.statCache, `${key}.json`)).catch(ignoreMissing);
  }

  /** A fresh temporary directory for a stage attempt (named with our pid so dead runs' dirs can be swept). */
  async makeTmp(key: string): Promise<string> {
    const dir = join(this.tmp, `${key.slice(0, 16)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`);
    await Deno.mkdir(dir, { recursive: true });
    return dir;
  }

  scratchDir(key: string): string {
    return join(this.scratch, key);
  }

  /** Hash every file in `tmpDir`, write its manifest, then atomically rename it to `objects/<key>`. */
  async commit(tmpDir: string, key: string): Promise<string> {
    const m = await buildManifest(tmpDir);
    await Deno.writeTextFile(join(tmpDir, MANIFEST), JSON.stringify(m, null, 1));
    const dest = this.objectDir(key);
    await Deno.mkdir(dirname(dest), { recursive: true });
    try {
      await Deno.rename(tmpDir, dest);
    } catch (e) {
      // Another writer produced the same key first (identical content by construction): keep theirs.
      if (await this.readManifest(key)) {
        await Deno.remove(tmpDir, { recursive: true }).catch(ignoreMissing);
      } else {
        throw e;
      }
    }
    await this.#writeStatCache(key, m);
    return manifestHash(m);
  }

  /** Record size + mtime of a just-hashed object, so the next run's check need not rehash it. */
  async #writeStatCache(key: string, m: Manifest): Promise<void> {
    const stats: Record<string, [number, number]> = {};
    for (const f of m.files) {
      const st = await Deno.stat(join(this.objectDir(key), f.path));
      stats[f.path] = [st.size, st.mtime?.getTime() ?? 0];
    }
    await Deno.writeTextFile(join(this.statCache, `${key}.json`), JSON.stringify(stats)).catch(ignoreMissing);
  }

  /** Delete every object whose key is not in `keep`; returns [objects removed, bytes freed]. */
  async gc(keep: Set<string>): Promise<[number, number]> {
    let n = 0, bytes = 0;
    for await (const e of Deno.readDir(this.objects)) {
      if (keep.has(e.name)) continue;
      const m = await this.readManifest(e.name);
      bytes += m ? m.files.reduce((a, f) => a + f.size, 0) : 0;
      await Deno.remove(this.objectDir(e.name), { recursive: true });
      await Deno.remove(join(this.statCache, `${e.name}.json`)).catch(ignoreMissing);
      n++;
    }
    for await (const e of Deno.readDir(this.scratch)) {
      if (!keep.has(e.name)) await Deno.remove(join(this.scratch, e.name), { recursive: true });
    }
    return [n, bytes];
  }
}
