/**
 * Progress and log output for a run: a live bar per running stage when stdout is a terminal
 * (cli-progress), plain timestamped lines otherwise (CI logs, pipes), throttled to one per 10% or 15 s.
 */
import cliProgress from "cli-progress";
import type { Reporter } from "./run.ts";

function humanRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(n < 10 ? 2 : 0);
}

export function createReporter(opts: { tty?: boolean; quiet?: boolean } = {}): Reporter {
  const tty = opts.tty ?? Deno.stdout.isTerminal();
  const print = (s: string) => {
    if (!opts.quiet) console.log(s);
  };
  let bar: cliProgress.SingleBar | null = null;
  let unit = "";
  let startT = 0;
  let first: { t: number; done: number } | null = null;
  let lastLine = { t: 0, frac: -1 };
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  return {
    stageStart(stage, reason, u) {
      unit = u ?? "items";
      startT = performance.now();
      first = null;
      lastLine = { t: performance.now(), frac: 0 };
      if (reason) {
        // the full list is in runs.ndjson and `status`/`explain`; a terminal line shows the first few
        const parts = reason.split("; ");
        const shown = parts.slice(0, 3).join("; ") + (parts.length > 3 ? `; … ${parts.length - 3} more` : "");
        print(`▶ ${stage}: running (${shown})`);
      }
    },
    progress(stage, done, total, info) {
      if (opts.quiet) return;
      // the rate counts from the stage's first report on (a resumed train starts its count mid-run, and
      // setup before the first report is not throughput); the first report counts from the stage's start
      const now0 = performance.now();
      if (!first) first = { t: now0, done };
      const since = (now0 - first.t) / 1000;
      const [n, secs] = since > 0 ? [done - first.done, since] : [done, (now0 - startT) / 1000];
      const rate = secs > 0 ? n / secs : 0;
      const payload = { stage, info: info ?? "", rate: `${humanRate(rate)} ${unit}/s` };
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar({
            format: "  {stage} |{bar}| {percentage}% {value}/{total} {rate} eta {eta_formatted} {info}",
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          }, cliProgress.Presets.shades_classic);
          bar.start(total, 0, payload);
        }
        bar.setTotal(total);
        bar.update(done, payload);
        return;
      }
      const frac = total > 0 ? done / total : 0;
      const now = performance.now();
      if (frac - lastLine.frac >= 0.1 || now - lastLine.t > 15000 || (done === total && lastLine.frac < 1)) {
        lastLine = { t: now, frac };
        print(
          `  ${stage}: ${done}/${total} ${unit} (${(frac * 100).toFixed(0)}%) ${payload.rate} ${info ?? ""}`.trimEnd(),
        );
      }
    },
    log(stage, message) {
      if (bar) {
        // cli-progress redraws on the next update; print the log line above it.
        bar.stop();
        bar = null;
      }
      print(`  ${stage}: ${message}`);
    },
    stageEnd(stage, status, seconds, detail) {
      stopBar();
      if (status === "fresh") print(`✓ ${stage}: cached`);
      else if (status === "ran") print(`✓ ${stage}: done in ${seconds.toFixed(1)} s`);
      else console.error(`✗ ${stage}: failed after ${seconds.toFixed(1)} s: ${detail ?? ""}`);
    },
    warn(message) {
      stopBar();
      console.error(`! ${message}`);
    },
  };
}
