/**
 * The dead-latent window training counts with. A latent is dead once it has not fired for `window`
 * tokens; with a window as long as the run or longer no latent can ever be dead, so training would log
 * "dead 0" throughout (and AuxK would never see a dead latent) while evaluation finds many. Then the
 * window becomes half the run, in whole batches and at least one, and one log line says so.
 */
export function effectiveDeadWindow(
  window: number,
  runTokens: number,
  batch: number,
  log: (m: string) => void = () => {},
): number {
  if (window < runTokens) return window;
  const adapted = Math.max(batch, Math.floor(runTokens / 2 / batch) * batch);
  log(
    `dead_feature_window ${window} tokens is not shorter than the run (${runTokens} tokens); ` +
      `counting a latent dead after ${adapted} tokens without firing (set train.dead_feature_window below ${runTokens} to choose)`,
  );
  return adapted;
}
