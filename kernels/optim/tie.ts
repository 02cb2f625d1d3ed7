/**
 * Tied-weight kernels (./tie.wgsl): the tied matrix's gradient gW_dec + gW_encᵀ, and W_enc = W_decᵀ
 * after each update, so one matrix (stored as W_dec) trains and both GEMMs keep their layouts.
 */
import { compileKernel } from "../runtime/kernel.ts";

const URL_ = new URL("./tie.wgsl", import.meta.url);

export async function createTie(device: GPUDevice, d: { D: number; S: number }) {
  const c = { D: d.D, S: d.S };
  const [add, tr] = await Promise.all(["add_transposed", "transpose"].map((e) => compileKernel(device, URL_, e, c)));
  const groups: [number, number] = [Math.ceil(d.S / 16), Math.ceil(d.D / 16)];
  return (b: { gW_enc: GPUBuffer; gW_dec: GPUBuffer; W_dec: GPUBuffer; W_enc: GPUBuffer }) => ({
    addTransposed: add.bind({ gW_enc: b.gW_enc, gW_dec: b.gW_dec }, groups),
    transpose: tr.bind({ W_dec: b.W_dec, W_enc: b.W_enc }, groups),
  });
}
