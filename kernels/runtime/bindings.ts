/**
 * Bindings by name: the `@group(0) @binding(i) var … name` declarations of a shader, and which of them
 * an entry point statically uses. Kernel wrappers pass `{ pre: buf, state: buf, … }`; `bindEntries`
 * maps the names to binding numbers and fails loudly on a name the shader does not declare or a
 * binding the entry point uses but was not given.
 *
 * Why static use: pipelines use `layout: "auto"`, whose bind group layout holds only the bindings the
 * entry point uses (WGSL static use: referenced from the entry function or a function it calls, whatever
 * `if` guards the reference), so a wrapper may pass one bag of buffers to every entry of a shader.
 * The text analysis is exact for the shaders here because `parseBindings` rejects a local or parameter
 * that shadows a binding name (the one case where a name match would not be a use).
 */

export interface Binding {
  name: string;
  index: number;
  /** A storage texture (bound as a GPUTextureView), else a buffer. */
  texture: boolean;
}

export interface BindingTable {
  /** The shader's file name, for messages. */
  file: string;
  /** Declared bindings by name (two entry points may declare different names for one index). */
  declared: Map<string, Binding>;
  /** The bindings entry point `entry` statically uses, in binding order. */
  usedBy(entry: string): Binding[];
}

export type Resource = GPUBuffer | GPUTextureView | GPUBufferBinding;
/** Resources by binding name; `undefined` = not given (fine for bindings this entry does not use). */
export type Resources = Record<string, Resource | undefined>;

const DECL = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var(?:<[^>]*>)?\s+(\w+)\s*:\s*([^;]+);/g;
const FN = /\bfn\s+(\w+)\s*\(/g;
const IDENT = /(?<![.\w])[A-Za-z_]\w*/g;
const LOCAL = /\b(?:let|const|var(?:<[^>]*>)?)\s+(\w+)/g;
const PARAM = /(?:^|,)\s*(?:@\w+(?:\([^)]*\))?\s*)*(\w+)\s*:/g;

/** Drop `//` and `/* … *\/` comments (names in comments are not uses). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, "");
}

/** Index just past the bracket closing the one at `open` (`(` or `{`). */
function matchClose(src: string, open: number): number {
  const [o, c] = src[open] === "(" ? ["(", ")"] : ["{", "}"];
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === o) depth++;
    else if (src[i] === c && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced '${o}' at offset ${open}`);
}

/** The binding table of an expanded WGSL source. */
export function parseBindings(source: string, file: string): BindingTable {
  const src = stripComments(source);
  const declared = new Map<string, Binding>();
  for (const m of src.matchAll(DECL)) {
    declared.set(m[2], { name: m[2], index: Number(m[1]), texture: /^\s*texture_/.test(m[3]) });
  }
  const fns = new Map<string, Set<string>>();
  for (const m of src.matchAll(FN)) {
    const paramsOpen = m.index! + m[0].length - 1;
    const paramsEnd = matchClose(src, paramsOpen);
    const bodyOpen = src.indexOf("{", paramsEnd);
    const body = src.slice(bodyOpen, matchClose(src, bodyOpen));
    const params = src.slice(paramsOpen + 1, paramsEnd - 1);
    for (const shadow of [...params.matchAll(PARAM), ...body.matchAll(LOCAL)]) {
      if (declared.has(shadow[1])) {
        throw new Error(`${file}: fn ${m[1]} declares '${shadow[1]}', which shadows the binding of that name`);
      }
    }
    fns.set(m[1], new Set(body.match(IDENT) ?? []));
  }
  return {
    file,
    declared,
    usedBy(entry) {
      if (!fns.has(entry)) throw new Error(`${file} has no entry point '${entry}'`);
      const seen = new Set<string>();
      const todo = [entry];
      while (todo.length) {
        const f = todo.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        for (const id of fns.get(f)!) if (fns.has(id)) todo.push(id);
      }
      const used = [...declared.values()].filter((b) => [...seen].some((f) => fns.get(f)!.has(b.name)));
      return used.sort((a, b) => a.index - b.index);
    },
  };
}

/** Throw a clear error when one binding of `bytes` exceeds the device's maxStorageBufferBindingSize. */
export function checkBinding(
  device: GPUDevice,
  bytes: number,
  what: string,
  fix = "use a smaller batch_size or d_sae",
): void {
  const max = device.limits.maxStorageBufferBindingSize;
  if (bytes > max) {
    throw new Error(
      `${what} needs ${
        (bytes / 2 ** 20).toFixed(1)
      } MiB in one buffer, above this device's maxStorageBufferBindingSize ${(max / 2 ** 20).toFixed(0)} MiB (${fix})`,
    );
  }
}

/** Bind group entries for `entry`: every binding it uses, by name (see the module doc for the checks). */
export function bindEntries(
  device: GPUDevice,
  table: BindingTable,
  entry: string,
  resources: Resources,
): GPUBindGroupEntry[] {
  const where = `${table.file}:${entry}`;
  for (const name of Object.keys(resources)) {
    if (!table.declared.has(name)) {
      throw new Error(`${where}: no binding named '${name}' (declared: ${[...table.declared.keys()].join(", ")})`);
    }
  }
  return table.usedBy(entry).map((b) => {
    const r = resources[b.name];
    if (r === undefined) throw new Error(`${where}: binding '${b.name}' (@binding(${b.index})) was not given`);
    const isView = r instanceof GPUTextureView;
    if (isView !== b.texture) {
      throw new Error(`${where}: binding '${b.name}' needs a ${b.texture ? "texture view" : "buffer"}`);
    }
    if (isView) return { binding: b.index, resource: r };
    const resource = r instanceof GPUBuffer ? { buffer: r } : r;
    checkBinding(device, resource.size ?? resource.buffer.size, `${where} binding '${b.name}'`);
    return { binding: b.index, resource };
  });
}
