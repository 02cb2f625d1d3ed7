/**
 * A trained SAE on the GPU for inference over batches of activations (used by evaluate/export).
 * API (stable):
 *
 *   const sae = await SaeGpu.fromWeights(weights, cfg)   // SaeWeights + SaeConfig as in sae_cpu.ts
 *   await sae.encodeBatch(x, n)  -> { idx: Uint32Array, val: Float32Array, k }  for topk (n × k slots,
 *                                   latent order, idx 0xFFFFFFFF = empty slot), or
 *                                   { dense: Float32Array [n, d_sae] }           for standard/jumprelu/batchtopk
 *   await sae.decodeBatch(z, n)  -> Float32Array [n, d_in] from dense latents z [n, d_sae]
 *   await sae.reconstruct(x, n)  -> Float32Array [n, d_in] (encode then decode on the device)
 *   sae.destroy()
 *
 * Semantics are exactly sae_cpu.ts's (pre = (x − b_dec)·W_enc + b_enc; TopK then ReLU; ReLU;
 * JumpReLU with `threshold`), in float32. Pipelines are built per batch size n and cached.
 */
import { createEncoderGemm, createGemm } from "../../kernels/gemm/mod.ts";
import { createBuffer, getDevice, readF32, readU32, writeBuffer } from "../../kernels/device.ts";
import type { BoundKernel } from "../../kernels/kernel.ts";
import { createCenter } from "../../kernels/center.ts";
import { createTopk } from "../../kernels/topk.ts";
import { createDenseAct } from "../../kernels/dense_act.ts";
import { createSparseDecode } from "../../kernels/sparse_decode.ts";
import type { SaeConfig, SaeWeights } from "./sae_cpu.ts";

type Encoded = { idx: Uint32Array; val: Float32Array; k: number } | { dense: Float32Array };

interface Plan {
  x: GPUBuffer;
  xc: GPUBuffer;
  pre: GPUBuffer;
  z: GPUBuffer;
  idx: GPUBuffer;
  val: GPUBuffer;
  out: GPUBuffer;
  encode: BoundKernel[];
  decodeDense: BoundKernel;
  decodeSparse?: BoundKernel;
}

export class SaeGpu {
  #plans = new Map<number, Plan>();
  #w: Record<"W_enc" | "W_dec" | "b_enc" | "b_dec" | "log_thr" | "since" | "state" | "wnorm" | "scratch", GPUBuffer>;
  #all: GPUBuffer[] = [];

  private constructor(readonly device: GPUDevice, readonly cfg: SaeConfig, w: SaeWeights) {
    const up = (a: ArrayLike<number>, label: string) => {
      const f = Float32Array.from(a);
      const b = createBuffer(device, f.byteLength, label);
      writeBuffer(device, b, f);
      this.#all.push(b);
      return b;
    };
    const S = cfg.d_sae;
    const thr = w.threshold ? Array.from(w.threshold, (t) => Math.log(Math.max(t, 1e-30))) : new Array(S).fill(-69);
    this.#w = {
      W_enc: up(w.W_enc, "W_enc"),
      W_dec: up(w.W_dec, "W_dec"),
      b_enc: up(w.b_enc, "b_enc"),
      b_dec: up(cfg.apply_b_dec_to_input === false ? new Float32Array(cfg.d_in) : w.b_dec, "b_dec (input)"),
      log_thr: up(thr, "log_threshold"),
      since: up(new Float32Array(S), "since"),
      state: up(new Float32Array(8), "state"),
      wnorm: up(new Float32Array(S), "wnorm"),
      scratch: up(new Float32Array(S), "scratch"),
    };
    this.#bDecOut = up(w.b_dec, "b_dec");
  }
  #bDecOut: GPUBuffer;

  static async fromWeights(w: SaeWeights, cfg: SaeConfig, device?: GPUDevice): Promise<SaeGpu> {
    if (!["topk", "standard", "jumprelu", "batchtopk"].includes(cfg.architecture)) {
      throw new Error(`SaeGpu: unknown architecture "${cfg.architecture}"`);
    }
    if (cfg.architecture === "topk" && !(cfg.k! >= 1 && cfg.k! <= cfg.d_sae)) {
      throw new Error(`SaeGpu: k ${cfg.k} must be in 1..d_sae (${cfg.d_sae})`);
    }
    return new SaeGpu(device ?? await getDevice(), cfg, w);
  }

  get sparse(): boolean {
    return this.cfg.architecture === "topk";
  }

  async #plan(n: number): Promise<Plan> {
    const hit = this.#plans.get(n);
    if (hit) return hit;
    const { device, cfg } = this;
    const D = cfg.d_in;
    const S = cfg.d_sae;
    const k = this.sparse ? cfg.k! : 1;
    const buf = (len: number, label: string) => {
      const b = createBuffer(device, len * 4, label);
      this.#all.push(b);
      return b;
    };
    const p = {
      x: buf(n * D, "x"),
      xc: buf(n * D, "xc"),
      pre: buf(n * S, "pre"),
      z: buf(n * S, "z"),
      idx: buf(n * k, "idx"),
      val: buf(n * k, "val"),
      out: buf(n * D, "xhat"),
    } as Plan;
    const w = this.#w;
    const center = (await createCenter(device, { B: n, D }))({ x: p.x, b_dec: w.b_dec, xc: p.xc });
    const gemm = createEncoderGemm(device, { M: n, K: D, N: S });
    const enc: BoundKernel = { encode: (e) => gemm.encode(e, { x: p.xc, W: w.W_enc, bias: w.b_enc, out: p.pre }) };
    p.encode = [center, enc];
    if (this.sparse) {
      p.encode.push((await createTopk(device, { rows: n, S, k }))({
        pre: p.pre,
        since: w.since,
        state: w.state,
        idx: p.idx,
        val: p.val,
      }));
      p.decodeSparse = (await createSparseDecode(device, { rows: n, D, cap: k, stats: false }))({
        idx: p.idx,
        val: p.val,
        W_dec: w.W_dec,
        b_dec: this.#bDecOut,
        out: p.out,
        rowstats: w.scratch,
      });
    } else {
      const act = (await createDenseAct(device, { B: n, S, jump: cfg.architecture !== "standard", bandwidth: 1 }))({
        pre: p.pre,
        z: p.z,
        dz: p.z,
        log_thr: w.log_thr,
        wnorm: w.wnorm,
        hyper: w.scratch,
        gb_enc: w.scratch,
        zsum: w.scratch,
        glog: w.scratch,
        since: w.since,
        rowstats: buf(n * 8, "rowstats"),
      });
      p.encode.push(act.forward);
    }
    const dec = createGemm(device, { M: n, K: S, N: D, bias: true });
    p.decodeDense = { encode: (e) => dec.encode(e, { a: p.z, b: w.W_dec, bias: this.#bDecOut, out: p.out }) };
    this.#plans.set(n, p);
    return p;
  }

  #run(ks: BoundKernel[]): void {
    const enc = this.device.createCommandEncoder();
    for (const k of ks) k.encode(enc);
    this.device.queue.submit([enc.finish()]);
  }

  #checkX(x: Float32Array, n: number): void {
    if (x.length !== n * this.cfg.d_in) {
      throw new Error(`SaeGpu: x has ${x.length} values, expected ${n} × d_in ${this.cfg.d_in}`);
    }
  }

  async encodeBatch(x: Float32Array, n: number): Promise<Encoded> {
    this.#checkX(x, n);
    const p = await this.#plan(n);
    writeBuffer(this.device, p.x, x);
    this.#run(p.encode);
    if (this.sparse) {
      const k = this.cfg.k!;
      return { idx: await readU32(this.device, p.idx, n * k), val: await readF32(this.device, p.val, n * k), k };
    }
    return { dense: await readF32(this.device, p.z, n * this.cfg.d_sae) };
  }

  async decodeBatch(z: Float32Array, n: number): Promise<Float32Array> {
    if (z.length !== n * this.cfg.d_sae) throw new Error(`SaeGpu: z has ${z.length} values, expected ${n} × d_sae`);
    const p = await this.#plan(n);
    writeBuffer(this.device, p.z, z);
    this.#run([p.decodeDense]);
    return await readF32(this.device, p.out, n * this.cfg.d_in);
  }

  async reconstruct(x: Float32Array, n: number): Promise<Float32Array> {
    this.#checkX(x, n);
    const p = await this.#plan(n);
    writeBuffer(this.device, p.x, x);
    this.#run([...p.encode, p.decodeSparse ?? p.decodeDense]);
    return await readF32(this.device, p.out, n * this.cfg.d_in);
  }

  destroy(): void {
    for (const b of this.#all) b.destroy();
    this.#plans.clear();
  }
}
