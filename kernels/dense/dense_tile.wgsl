// Where a dense tile sits in [B, d_sae] (stages/train/dense_tiles.ts; the whole step is one tile) and what
// it adds to, shared by ./dense_act.wgsl and ./gated_act.wgsl: batch rows [ROW0, ROW0 + ROWS) × latents
// [LO, LO + S). ROW_ACC adds to rowstats (a later slab of the rows), LAT_ACC to the per-latent sums (a later
// chunk of the latents: the dead-latent clock then only resets when the tile fires), ROW_STATS false writes
// no rowstats (the backward's recompute). B stays the whole batch (the 1/B scales, the clock's step).
override B: u32;
override S: u32;
override ROWS: u32;
override LO: u32 = 0u;
override ROW0: u32 = 0u;
override ROW_ACC: bool = false;
override LAT_ACC: bool = false;
override ROW_STATS: bool = true;
const SINCE_MAX: u32 = 0xf0000000u;
