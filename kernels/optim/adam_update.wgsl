// The Adam element update shared by adam.wgsl and decoder_adam.wgsl (formulas there). The includer
// declares `alias V` (f32 or vec4<f32>) and the bindings `hyper: array<f32>` and `m`, `v`: array<V>.
// @include "../runtime/slots.wgsl"
struct AdamHyper { lr: f32, b1: f32, b2: f32, eps: f32, bc1: f32, bc2: f32 }

// This step's hyper-parameters: lr, β1, β2, ε, bc1 = 1−β1^t, bc2 = 1−β2^t.
fn adam_hyper() -> AdamHyper {
  return AdamHyper(
    hyper[HYPER_LR], hyper[HYPER_BETA1], hyper[HYPER_BETA2], hyper[HYPER_EPS], hyper[HYPER_BC1], hyper[HYPER_BC2],
  );
}

// Moments of element j updated with gradient g (stored); returns the step to subtract from the parameter.
fn adam_step(h: AdamHyper, j: u32, g: V) -> V {
  let mj = h.b1 * m[j] + (1.0 - h.b1) * g;
  let vj = h.b2 * v[j] + (1.0 - h.b2) * g * g;
  m[j] = mj;
  v[j] = vj;
  return (h.lr / h.bc1) * mj / (sqrt(vj) / sqrt(h.bc2) + h.eps);
}
