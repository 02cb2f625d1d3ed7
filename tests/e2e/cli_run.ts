/** Running the real CLI (`stages/cli.ts`, as `deno task pipeline` does) in e2e tests, and reading its last run. */
import { join } from "node:path";
import { readRunRecords } from "../../pipeline/records.ts";

export const root = new URL("../..", import.meta.url).pathname;
export const cli = join(root, "stages/cli.ts");

/** `deno run -A stages/cli.ts ARGS --config … --store …`: exit code and stdout + stderr. */
export async function pipeline(args: string[], opts: { store: string; cfgPath: string }) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args, "--config", opts.cfgPath, "--store", opts.store],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

/** The run records of the store's last run, by stage. */
export async function lastRun(store: string) {
  const recs = await readRunRecords(store);
  const id = recs.at(-1)!.run_id;
  return Object.fromEntries(recs.filter((r) => r.run_id === id).map((r) => [r.stage, r]));
}
