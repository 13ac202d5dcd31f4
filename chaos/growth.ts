/*
 * "Growth that does not level off", decided from one series of per-minute samples: the mean of
 * the last third against the mean of the middle third. The first third is left out on purpose
 * (JIT, caches, pools and V8's heap sizing all grow while a process warms up); a leak keeps
 * growing into the last third, a warm-up does not. Growth counts only when it exceeds both an
 * absolute floor (noise) and a share of the middle third's level.
 */

export interface GrowthRule {
  /** Growth at or below this is noise, whatever the share (bytes, jobs, seconds, ...). */
  absolute: number;
  /** Growth at or below this share of the middle third's mean is levelling off. */
  relative: number;
}

export interface GrowthVerdict {
  grows: boolean;
  middle: number;
  last: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

export function growth(samples: number[], rule: GrowthRule): GrowthVerdict | undefined {
  if (samples.length < 3) return undefined;
  const third = Math.floor(samples.length / 3);
  const middle = mean(samples.slice(third, samples.length - third));
  const last = mean(samples.slice(samples.length - third));
  const grows = last - middle > Math.max(rule.absolute, rule.relative * middle);
  return { grows, middle, last };
}
