/**
 * WGSL source text as the compiler sees it. WGSL has no imports: `// @include "file.wgsl"` lines are
 * replaced by that file's text (relative to the including file, recursively, each file once). The code
 * fingerprint follows the same lines, so editing an included file reruns the stages whose kernels
 * include it. Then template directives expand (`// @unroll` blocks and `$(expr)`, ./unroll.ts); a
 * shader without them comes out unchanged.
 */
import { expandTemplate } from "./unroll.ts";

const INCLUDE = /^[ \t]*\/\/ @include "([^"]+)"[ \t]*$/gm;

export function expandIncludes(text: string, url: URL, seen = new Set<string>()): string {
  seen.add(url.href);
  return text.replace(INCLUDE, (_, file: string) => {
    const inc = new URL(file, url);
    if (seen.has(inc.href)) return `// (${file} already included)`;
    return expandIncludes(Deno.readTextFileSync(inc), inc, seen);
  });
}

/** Read a `.wgsl` file with its includes expanded. */
export function readWgsl(url: URL): string {
  return expandIncludes(Deno.readTextFileSync(url), url);
}

/** The compiled text of a shader: includes, then the template with `params`. */
export function shaderSource(url: URL, params: Record<string, number> = {}): string {
  return expandTemplate(readWgsl(url), params);
}
