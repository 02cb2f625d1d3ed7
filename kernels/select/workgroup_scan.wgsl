// Prefix sums of one u32 per invocation over the workgroup (Hillis-Steele); the includer declares
// `const WG` and `var<workgroup> scan: array<u32, WG>`. After scan_incl, scan[t] holds t's inclusive sum.
fn scan_incl(lid: u32, v: u32) -> u32 {
  scan[lid] = v;
  workgroupBarrier();
  for (var off = 1u; off < WG; off <<= 1u) {
    var add = 0u;
    if (lid >= off) { add = scan[lid - off]; }
    workgroupBarrier();
    scan[lid] += add;
    workgroupBarrier();
  }
  return scan[lid];
}

// Exclusive prefix sum of v; scan is free again on return.
fn scan_excl(lid: u32, v: u32) -> u32 {
  let incl = scan_incl(lid, v);
  workgroupBarrier();
  return incl - v;
}
