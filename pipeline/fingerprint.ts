/**
 * Code fingerprint of a stage: the sha256 of every local file in its module's static and dynamic import
 * graph, plus every file it references with `new URL("…", import.meta.url)` (WGSL kernels, JSON
 * fixtures). Bare specifiers are npm packages: their pinned versions come from deno.json. Editing a kernel
 * therefore changes the key of exactly the stages whose graph reaches it.
 *
 * Files of the engine itself (`pipeline/`) are left out: they decide how stages run, not what they compute.
 */
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { sha256 } from "./hash.ts";
import { ignoreMissing } from "./missing.ts";

export interface CodeFingerprint {
  /** repo-relative path -> sha256 of its content */
  files: Record<string, string>;
  /** bare specifier -> resolved npm specifier (with version) */
  packages: Record<string, string>;
}

const SPEC_RE = /(?:\bfrom\s*|\bimport\s*\(?\s*|\bexport\s*\*\s*from\s*)["']([^"']+)["']/g;
const URL_RE = /new\s+URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g;
/** `// @include "file"` in WGSL sources (kernels/runtime/wgsl_source.ts expands them). */
const INCLUDE_RE = /^[ \t]*\/\/ @include "([^"]+)"/gm;

let importMap: Record<string, string> | undefined;

function loadImportMap(root: string): Record<string, string> {
  if (!importMap) {
    try {
      importMap = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).imports ?? {};
    } catch (e) {
      ignoreMissing(e);
      importMap = {};
    }
  }
  return importMap!;
}

function packageOf(spec: string, map: Record<string, string>): [string, string] | null {
  if (spec.startsWith("node:")) return null;
  if (spec.startsWith("npm:") || spec.startsWith("jsr:")) return [spec, spec];
  // longest import-map key that prefixes the specifier
  const key = Object.keys(map).filter((k) => spec === k || spec.startsWith(k.endsWith("/") ? k : k + "/"))
    .sort((a, b) => b.length - a.length)[0];
  return key ? [key, map[key]] : [spec, spec];
}

const cache = new Map<string, { text: string; hash: string }>();

function readCached(path: string): { text: string; hash: string } {
  let e = cache.get(path);
  if (!e) {
    const bytes = Deno.readFileSync(path);
    e = { text: new TextDecoder().decode(bytes), hash: sha256(bytes) };
    cache.set(path, e);
  }
  return e;
}

/** Forget cached file contents (tests edit files between runs in one process). */
export function clearFingerprintCache(): void {
  cache.clear();
}

/** Fingerprint the import graph rooted at `moduleUrl` (+ `extra` files), paths relative to `root`. */
export function fingerprint(moduleUrl: string, root: string, extra: readonly string[] = []): CodeFingerprint {
  const map = loadImportMap(root);
  const files: Record<string, string> = {};
  const packages: Record<string, string> = {};
  const engineDir = fromFileUrl(new URL(".", import.meta.url));
  const seen = new Set<string>();
  const queue: string[] = [moduleUrl, ...extra.map((e) => new URL(e, `file://${root}/`).href)];
  while (queue.length) {
    const url = queue.pop()!;
    if (seen.has(url)) continue;
    seen.add(url);
    if (!url.startsWith("file:")) continue;
    const path = fromFileUrl(url);
    if (path.startsWith(engineDir)) continue;
    let entry;
    try {
      entry = readCached(path);
    } catch (e) {
      ignoreMissing(e);
      files[relative(root, path)] = "missing";
      continue;
    }
    files[relative(root, path)] = entry.hash;
    if (path.endsWith(".wgsl")) {
      for (const m of entry.text.matchAll(INCLUDE_RE)) queue.push(new URL(m[1], url).href);
      continue;
    }
    if (!/\.(m?[jt]sx?)$/.test(path)) continue;
    for (const m of entry.text.matchAll(SPEC_RE)) {
      const spec = m[1];
      if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("file:")) {
        queue.push(new URL(spec, url).href);
      } else {
        const p = packageOf(spec, map);
        if (p) packages[p[0]] = p[1];
      }
    }
    for (const m of entry.text.matchAll(URL_RE)) queue.push(new URL(m[1], url).href);
  }
  return { files, packages };
}
