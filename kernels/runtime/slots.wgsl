// Generated from kernels/runtime/slots.ts (the slot tables are defined and documented there);
// regenerate with `deno run kernels/runtime/slots.ts > kernels/runtime/slots.wgsl`.
const STATE_CLIP: u32 = 0u;
const STATE_GRAD_NORM: u32 = 1u;
const STATE_N_DEAD: u32 = 2u;
const STATE_BT_PREFIX: u32 = 3u;
const STATE_BT_MIN: u32 = 5u;
const STATE_BT_THR: u32 = 6u;
const STATE_BT_COUNT: u32 = 7u;
const HYPER_LR: u32 = 0u;
const HYPER_BETA1: u32 = 1u;
const HYPER_BETA2: u32 = 2u;
const HYPER_EPS: u32 = 3u;
const HYPER_BC1: u32 = 4u;
const HYPER_BC2: u32 = 5u;
const HYPER_SPARSITY_COEF: u32 = 6u;
const HYPER_AUX_COEF: u32 = 7u;
