/**
 * The pipeline CLI (commander): `run` (default), `status`/`explain`, `gc`, plus commands a caller adds
 * (e.g. `hooks`). Config: a JSON/JSONC file with one section per stage, `--set a.b=value` overrides typed
 * by the stage's param schema.
 */
import { Command, Option } from "commander";
import { resolve } from "node:path";
import { ParamError, parseSetValue } from "./params.ts";
import { type AnyStage, type PipelineOptions, planPipeline, runPipeline, StageFailedError } from "./run.ts";
import { createReporter } from "./progress.ts";
import { readLockFile, readRunRecords } from "./records.ts";
import { acquireLock, LockBusyError } from "./lock.ts";
import { Store } from "./store.ts";
import { ignoreMissing } from "./missing.ts";

/** Remove // and /* *\/ comments and trailing commas outside strings (JSONC). */
export function stripJsonComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2);
      i = i < 0 ? text.length : i + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

export async function loadConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    ignoreMissing(e);
    throw new ParamError(`config file ${path} not found (pass --config FILE)`);
  }
  try {
    const v = JSON.parse(stripJsonComments(text));
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new ParamError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Apply `section.key=value` overrides; values are typed by the key's schema. */
export function applySets(stages: readonly AnyStage[], config: Record<string, unknown>, sets: string[]) {
  const out = structuredClone(config) as Record<string, Record<string, unknown>>;
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq < 0) throw new ParamError(`--set ${s}: expected section.key=value`);
    const path = s.slice(0, eq);
    const [section, ...rest] = path.split(".");
    const key = rest.join(".");
    if (!section || !key) throw new ParamError(`--set ${s}: expected section.key=value`);
    const stage = stages.find((st) => st.name === section);
    if (!stage) {
      throw new ParamError(
        `--set ${path}: unknown section "${section}" (stages: ${stages.map((x) => x.name).join(", ")})`,
      );
    }
    out[section] = { ...(out[section] ?? {}) };
    out[section][key] = parseSetValue(path, stage.params[key], s.slice(eq + 1));
  }
  return out;
}

/** The config reference (every stage's keys, type, default, doc) as plain text or a Markdown table. */
export function configReference(stages: readonly AnyStage[], markdown = false): string {
  const lines: string[] = [];
  for (const s of stages) {
    if (markdown) {
      lines.push(
        `#### \`${s.name}\` — ${s.description}`,
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
      );
    } else lines.push(`  [${s.name}] ${s.description}`);
    for (const [k, spec] of Object.entries(s.params)) {
      const type = spec.type === "enum" ? spec.values!.join(" \\| ") : spec.type + (spec.nullable ? " \\| null" : "");
      const def = JSON.stringify(spec.default);
      if (markdown) lines.push(`| \`${s.name}.${k}\` | ${type} | \`${def}\` | ${spec.doc.replaceAll("|", "\\|")} |`);
      else lines.push(`    ${s.name}.${k} (${type.replaceAll("\\|", "|")}, default ${def}): ${spec.doc}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

export interface CliOptions {
  stages: readonly AnyStage[];
  /** Repo root (fingerprints and default paths are relative to it). */
  root: string;
  defaultConfig: string;
  defaultStore: string;
  /** Called after a successful run (e.g. to print where the results are). */
  afterRun?: (ctx: { storeDir: string; outputs: Record<string, string> }) => Promise<void> | void;
  /** Add commands such as `hooks`. */
  extend?: (program: Command, resolveOptions: (o: CommonFlags) => Promise<PipelineOptions>) => void;
}

export interface CommonFlags {
  config: string;
  set: string[];
  force: string[];
  until?: string;
  store: string;
  wait: boolean;
  quiet?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function addCommon(cmd: Command, o: CliOptions): Command {
  return cmd
    .option("-c, --config <file>", "pipeline config (JSON/JSONC)", o.defaultConfig)
    .option(
      "-s, --set <section.key=value>",
      "override a config key (repeatable), typed by its schema (JSON keys: JSON or a bare word)",
      collect,
      [],
    )
    .option("--store <dir>", "the cache store", o.defaultStore)
    .option("--until <stage>", "stop after this stage (runs only it and its upstreams)")
    .option("--force <stage>", "rerun this stage even if cached (repeatable)", collect, [])
    .addOption(new Option("--no-wait", "exit with an error instead of waiting when another run holds the store"));
}

export async function runCli(argv: string[], o: CliOptions): Promise<number> {
  const resolveOptions = async (f: CommonFlags): Promise<PipelineOptions> => {
    const base = await loadConfig(resolve(f.config));
    return {
      stages: o.stages,
      config: applySets(o.stages, base, f.set ?? []),
      storeDir: resolve(f.store),
      root: o.root,
      force: f.force,
      until: f.until,
      wait: f.wait,
    };
  };
  let code = 0;
  const program = new Command("pipeline")
    .description("Cached DAG of SAE stages: " + o.stages.map((s) => s.name).join(" → "))
    .exitOverride()
    .configureOutput({ writeErr: (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)) })
    .addHelpText(
      "after",
      `\nConfig keys (set in the config file or with --set section.key=value):\n${configReference(o.stages)}`,
    );

  addCommon(program.command("run", { isDefault: true }).description("run the pipeline (default command)"), o)
    .option("-q, --quiet", "no progress output")
    .action(async (f: CommonFlags) => {
      const opts = await resolveOptions(f);
      const ac = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts === 1) {
          console.error("\ninterrupted: stopping (the next run resumes; Ctrl-C again to quit at once)");
          ac.abort();
          setTimeout(() => Deno.exit(130), 5000);
        } else Deno.exit(130);
      };
      Deno.addSignalListener("SIGINT", onSigint);
      try {
        const t0 = performance.now();
        const res = await runPipeline({ ...opts, reporter: createReporter({ quiet: f.quiet }), signal: ac.signal });
        const ran = res.records.filter((r) => r.status === "ran").length;
        if (!f.quiet) {
          console.log(
            `run ${res.runId}: ${ran} stage(s) ran, ${res.records.length - ran} cached, ${
              ((performance.now() - t0) / 1000).toFixed(1)
            } s`,
          );
        }
        await o.afterRun?.({ storeDir: opts.storeDir, outputs: res.outputs });
      } catch (e) {
        if (ac.signal.aborted) code = 130;
        else throw e;
      } finally {
        Deno.removeSignalListener("SIGINT", onSigint);
      }
    });

  for (const name of ["status", "explain"]) {
    addCommon(program.command(name), o)
      .description(
        name === "status"
          ? "show each stage fresh or stale, and why"
          : "like status, with every changed ingredient and the cache keys",
      )
      .action(async (f: CommonFlags) => {
        const plans = await planPipeline({ ...(await resolveOptions(f)), reporter: createReporter() });
        for (const p of plans) {
          const mark = p.status === "fresh" ? "fresh" : "STALE";
          console.log(
            `${mark.padEnd(6)} ${p.name}${name === "explain" && p.key ? `  (key ${p.key.slice(0, 12)})` : ""}`,
          );
          const reasons = name === "status" ? p.reasons.slice(0, 5) : p.reasons;
          for (const r of reasons) console.log(`         ${r}`);
          if (reasons.length < p.reasons.length) {
            console.log(`         … ${p.reasons.length - reasons.length} more (see explain)`);
          }
        }
      });
  }

  program.command("gc")
    .description("delete store objects that no recorded run references; print the bytes freed")
    .option("--store <dir>", "the cache store", o.defaultStore)
    .option("--keep-latest", "keep only objects of the latest run (pipeline.lock.json)")
    .action(async (f: { store: string; keepLatest?: boolean }) => {
      const storeDir = resolve(f.store);
      const lock = await acquireLock(storeDir, { wait: true, onWait: (m) => console.error(m) });
      try {
        const keep = new Set<string>();
        const latest = await readLockFile(storeDir);
        for (const s of Object.values(latest?.stages ?? {})) keep.add(s.key);
        if (!f.keepLatest) {
          for (const r of await readRunRecords(storeDir)) if (r.status !== "failed") keep.add(r.key);
        }
        const store = new Store(storeDir);
        await store.init();
        const [n, bytes] = await store.gc(keep);
        console.log(`gc: removed ${n} object(s), freed ${(bytes / 1048576).toFixed(1)} MiB (${bytes} bytes)`);
      } finally {
        lock.release();
      }
    });

  o.extend?.(program, resolveOptions);

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number };
    if (ce.code === "commander.helpDisplayed" || ce.code === "commander.version") return 0;
    if (ce.code?.startsWith("commander.")) return ce.exitCode ?? 1;
    if (e instanceof StageFailedError) {
      if (Deno.env.get("SAE_DEBUG")) console.error(e.cause);
      return 1; // the reporter printed the stage's error already
    }
    if (e instanceof ParamError || e instanceof LockBusyError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (Deno.env.get("SAE_DEBUG")) console.error(e);
    return 1;
  }
  return code;
}
