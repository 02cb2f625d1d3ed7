/**
 * `deno task bench [--json] [--filter NAME]`: runs every `bench/*_bench.ts` in its own process (so one
 * bench's GPU state or memory does not disturb the next), passes the flags through, and with `--json`
 * prints one JSON array last: `[{name, params, value, unit}, ...]` gathered from the benches' JSON lines.
 *   usage: deno task bench [--json] [--filter NAME]
 * Each bench file also runs alone, with its own options: deno run -A bench/NAME_bench.ts --help
 */
import "../stages/cli_help.ts"; // --help prints the comment above
const args = [...Deno.args];
const json = args.includes("--json");
const fi = args.indexOf("--filter");
const filter = fi >= 0 ? args[fi + 1] : undefined;
const dir = new URL(".", import.meta.url).pathname;
const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith("_bench.ts")).sort();
const results: unknown[] = [];
for (const f of files) {
  const prefix = f.replace(/_bench\.ts$/, "");
  // --filter NAME runs the files whose measurements could match (name prefix), and they filter further
  if (filter && !filter.startsWith(prefix) && !prefix.startsWith(filter.split(".")[0])) continue;
  console.error(`== ${f}`);
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", dir + f, "--json", ...(filter ? ["--filter", filter] : [])],
    stdout: "piped",
    stderr: "inherit",
    // wgpu's Vulkan loader complains on stderr without one (headless machines)
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.makeTempDirSync({ prefix: "xdg-" }) },
  }).spawn();
  const out = new TextDecoder().decode((await p.output()).stdout);
  for (const line of out.split("\n")) {
    const t = line.trim();
    if (t.startsWith('{"name"')) {
      const r = JSON.parse(t);
      if (!filter || r.name.startsWith(filter) || filter.startsWith(prefix)) results.push(r);
      if (!json) {
        console.log(`${r.name.padEnd(36)} ${String(r.value).padStart(12)} ${r.unit}  ${JSON.stringify(r.params)}`);
      }
    } else if (t && !json) console.log(t);
  }
}
if (json) console.log(JSON.stringify(results));
