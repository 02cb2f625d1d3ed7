// One radix-select round's boundary: the includer declares `const WG`, `var<workgroup> hist` (atomic
// u32 bins, >= nb), `scan: array<u32, WG>` and `sel: array<u32, 4>` (prefix, mask, need, done), and has
// filled hist[0..nb) with the counts of the current digit (at `shift`) among keys matching prefix/pmask.
// The invocation whose bin block holds the need-th largest key writes the narrowed prefix, mask and the
// count still needed within that bin to sel, and done = 1 when that bin is taken whole; if none does
// (fewer keys than need), sel stays as it was. nb must be a multiple of WG.
fn radix_boundary(lid: u32, nb: u32, shift: u32, prefix: u32, pmask: u32, need: u32) {
  let dmask = nb - 1u;
  // Inclusive suffix sums of per-invocation bin blocks: scan[t] = count in bins >= t*per.
  let per = nb / WG;
  var s = 0u;
  for (var i = 0u; i < per; i++) { s += atomicLoad(&hist[lid * per + i]); }
  scan[lid] = s;
  workgroupBarrier();
  for (var off = 1u; off < WG; off <<= 1u) {
    var add = 0u;
    if (lid + off < WG) { add = scan[lid + off]; }
    workgroupBarrier();
    scan[lid] += add;
    workgroupBarrier();
  }
  var above = 0u;
  if (lid + 1u < WG) { above = scan[lid + 1u]; }
  if (above < need && need <= scan[lid]) {
    var b = lid * per + per - 1u;
    loop {
      let c = atomicLoad(&hist[b]);
      if (above + c >= need || b == lid * per) { break; }
      above += c;
      b -= 1u;
    }
    let rest = need - above;
    sel[0] = prefix | (b << shift);
    sel[1] = pmask | (dmask << shift);
    sel[2] = rest;
    sel[3] = select(0u, 1u, atomicLoad(&hist[b]) == rest);
  }
}
