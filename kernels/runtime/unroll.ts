/**
 * Expands unroll directives in a WGSL template. WGSL compilers on CPU Vulkan (lavapipe) do not unroll
 * loops over private arrays, and a dynamically indexed private array costs a per-lane gather, so
 * register tiles are written as unrolled straight-line code:
 *
 *   // @unroll(r, R)        repeat the lines up to the matching `// @end` for r = 0 .. R-1
 *   acc$(r)_$(q) = ...      `$(expr)` = integer arithmetic over loop variables and params
 *   // @end
 *
 * Params (`$(R)`, `$(WG_X)`...) are substituted everywhere. Expressions use + - * / % (integer
 * division) without parentheses.
 */
export function expandTemplate(source: string, params: Record<string, number>): string {
  const lines = source.split("\n");
  const [out, next] = expand(lines, 0, { ...params });
  if (next !== lines.length) throw new Error(`unroll: unmatched '// @end' at line ${next + 1}`);
  return out.join("\n");
}

const OPEN = /^\s*\/\/ @unroll\((\w+),\s*([^)]+)\)\s*$/;
const CLOSE = /^\s*\/\/ @end\s*$/;

function expand(lines: string[], start: number, vars: Record<string, number>): [string[], number] {
  const out: string[] = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    if (CLOSE.test(line)) return [out, i];
    const open = OPEN.exec(line);
    if (open) {
      const count = evaluate(open[2], vars);
      let end = i + 1;
      for (let v = 0; v < count; v++) {
        const [body, stop] = expand(lines, i + 1, { ...vars, [open[1]]: v });
        out.push(...body);
        end = stop;
      }
      if (count === 0) end = expand(lines, i + 1, { ...vars, [open[1]]: 0 })[1];
      if (end >= lines.length) throw new Error(`unroll: '// @unroll' at line ${i + 1} has no '// @end'`);
      i = end + 1;
      continue;
    }
    if (/^\s*\/\//.test(line)) {
      out.push(line); // comments are kept verbatim
    } else {
      out.push(line.replace(/\$\(([^()]*)\)/g, (_, e: string) => String(evaluate(e, vars))));
    }
    i++;
  }
  return [out, i];
}

/** Integer arithmetic: numbers, variables, + - * / % and parentheses (recursive descent). */
function evaluate(expr: string, vars: Record<string, number>): number {
  const tokens = expr.match(/\d+|\w+|[-+*/%()]/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const atom = (): number => {
    const t = tokens[pos++];
    if (t === "(") {
      const v = sum();
      if (tokens[pos++] !== ")") throw new Error(`unroll: missing ')' in '${expr}'`);
      return v;
    }
    if (t === "-") return -atom();
    if (t !== undefined && /^\d+$/.test(t)) return Number(t);
    if (t !== undefined && t in vars) return vars[t];
    throw new Error(`unroll: unknown name '${t}' in '${expr}'`);
  };
  const product = (): number => {
    let v = atom();
    while (peek() === "*" || peek() === "/" || peek() === "%") {
      const op = tokens[pos++];
      const w = atom();
      v = op === "*" ? v * w : op === "/" ? Math.trunc(v / w) : v % w;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === "+" || peek() === "-") v = tokens[pos++] === "+" ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (pos !== tokens.length) throw new Error(`unroll: cannot parse '${expr}'`);
  return v;
}
