/**
 * The PyTorch peer for speed claims: runs `bench/peers/torch_sae_step.py` (one TopK SAE step on the CPU,
 * three ways: SAELens-style dense, embedding_bag decoder, sparsify-style fully sparse) at the given size
 * and returns its tokens/s per variant, so a bench can report our step as a ratio measured in the same
 * run. Needs a Python with torch (Debian: `apt-get install -y python3-torch libopenblas0-pthread`); when
 * none is found it returns a one-line reason instead of numbers, and the bench prints it.
 */

/** One measured variant of the peer's step. */
export interface PeerResult {
  /** `dense` (SAELens-style), `sparse` (embedding_bag decoder) or `fullsparse` (sparsify-style). */
  variant: "dense" | "sparse" | "fullsparse";
  tokensPerS: number;
  msPerStep: number;
}

export interface PeerSize {
  d_in: number;
  d_sae: number;
  k: number;
  batch: number;
  /** Timed steps per variant (after one warm-up step). */
  steps?: number;
}

const SCRIPT = new URL("./peers/torch_sae_step.py", import.meta.url).pathname;

/** Pythons to try, in order: `$TORCH_PYTHON`, Debian's system python (where python3-torch lives), PATH's. */
function candidates(): string[] {
  const env = Deno.env.get("TORCH_PYTHON");
  return [...(env ? [env] : []), "/usr/bin/python3", "python3"];
}

async function hasTorch(python: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(python, { args: ["-c", "import torch"], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false; // no such interpreter
    throw e;
  }
}

/** Parse the peer's lines: `torch 1.13.0 dense(SAELens-style): ... : 1436 ms/step, 2852 tokens/s`. */
export function parsePeerOutput(text: string): PeerResult[] {
  const out: PeerResult[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^torch \S+ (dense|sparse|fullsparse)\(.*: (\d+(?:\.\d+)?) ms\/step, (\d+) tokens\/s$/);
    if (m) out.push({ variant: m[1] as PeerResult["variant"], msPerStep: Number(m[2]), tokensPerS: Number(m[3]) });
  }
  return out;
}

/** Run the peer at `size`; `{ skipped }` names why it could not run. */
export async function runTorchPeer(size: PeerSize): Promise<{ results: PeerResult[] } | { skipped: string }> {
  let python: string | undefined;
  for (const p of candidates()) {
    if (await hasTorch(p)) {
      python = p;
      break;
    }
  }
  if (!python) {
    return {
      skipped: "PyTorch peer skipped: no python3 with torch (apt-get install -y python3-torch libopenblas0-pthread)",
    };
  }
  const args = [SCRIPT, size.d_in, size.d_sae, size.k, size.batch, size.steps ?? 3].map(String);
  const out = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    return { skipped: `PyTorch peer failed (exit ${out.code}): ${err}` };
  }
  const results = parsePeerOutput(text);
  if (results.length !== 3) return { skipped: `PyTorch peer printed ${results.length} of 3 results:\n${text}` };
  return { results };
}
