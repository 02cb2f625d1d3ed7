// Matryoshka levels (included by the sparse kernels; defaults = one level, nothing changes):
// latent i belongs to group g(i) = #{k < L_IN : i ≥ MW_k} (MW_k the inner prefix widths, ascending).
// The reconstruction-gradient rows a main entry of latent i reads start at block_of(i)·B: block 0
// (the full SAE's gradient) for the outermost group g = L_IN, else block INNER_BASE + g, where the
// matryoshka loss (kernels/loss/matryoshka_loss.wgsl) stored D_g = Σ_{levels m ≥ g} dL/dx̂_m.
override L_IN: u32 = 0u;
override INNER_BASE: u32 = 1u;
override MW0: u32 = 0xffffffffu;
override MW1: u32 = 0xffffffffu;
override MW2: u32 = 0xffffffffu;
override MW3: u32 = 0xffffffffu;
override MW4: u32 = 0xffffffffu;
override MW5: u32 = 0xffffffffu;
override MW6: u32 = 0xffffffffu;

fn block_of(i: u32) -> u32 {
  if (L_IN == 0u) { return 0u; }
  let grp = u32(i >= MW0) + u32(i >= MW1) + u32(i >= MW2) + u32(i >= MW3) + u32(i >= MW4) + u32(i >= MW5) +
    u32(i >= MW6);
  if (grp >= L_IN) { return 0u; }
  return INNER_BASE + grp;
}
