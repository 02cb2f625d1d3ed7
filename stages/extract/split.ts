/**
 * The held-out split, by sequence and deterministic: sequence s is held out when
 * floor((s + 1)·f) > floor(s·f), i.e. evenly spaced, exactly floor(n·f) of the first n sequences.
 * (pretokenize already shuffled the sequences, so evenly spaced is as good as random.)
 */
export function isHeldout(seq: number, fraction: number): boolean {
  return Math.floor((seq + 1) * fraction) > Math.floor(seq * fraction);
}
