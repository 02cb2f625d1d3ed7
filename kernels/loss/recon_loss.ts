/**
 * Reconstruction loss and its gradient per row (./recon_loss.wgsl). Main: dvec = (2/B)(x̂ − x),
 * rowstats ‖x − x̂‖², ‖x‖². AuxK: dvec[B..2B) = (2/B)·aux_coef·min(n_dead/aux_k, 1)·(ê − (x − x̂)).
 * Gated auxiliary (`gateAux`): dvec[B..2B) = (2/B)·(x̂_gate − x), x̂_gate = ehat rows B..2B.
 */
import { compileKernel } from "../runtime/kernel.ts";

const URL_ = new URL("./recon_loss.wgsl", import.meta.url);

export async function createReconLoss(
  device: GPUDevice,
  d: { B: number; D: number; aux?: boolean; auxK?: number; gateAux?: boolean },
) {
  const k = await compileKernel(device, URL_, "main", {
    B: d.B,
    D: d.D,
    AUX: !!d.aux || !!d.gateAux,
    AUX_K: d.auxK ?? 1,
    GATE_AUX: !!d.gateAux,
  });
  return (b: {
    x: GPUBuffer;
    xhat: GPUBuffer;
    ehat: GPUBuffer;
    state: GPUBuffer;
    hyper: GPUBuffer;
    dvec: GPUBuffer;
    rowstats: GPUBuffer;
  }) => {
    const { x, xhat, ehat, state, hyper, dvec, rowstats } = b;
    return k.bind({ x, xhat, ehat, state, hyper, dvec, rowstats }, [d.B, 1]);
  };
}
