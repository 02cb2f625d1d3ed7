// Order-preserving u32 keys of f32 (key_of(a) < key_of(b) iff a < b; ±0 tie) and their inverse.
fn key_of(f: f32) -> u32 {
  if (f == 0.0) { return 0x80000000u; } // -0 and +0 tie
  let b = bitcast<u32>(f);
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

// The float of a key (inverse of key_of; ±0 → +0).
fn value_of(k: u32) -> f32 {
  if ((k & 0x80000000u) != 0u) { return bitcast<f32>(k & 0x7fffffffu); }
  return bitcast<f32>(~k);
}
