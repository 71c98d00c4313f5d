/** Small, dependency-free statistics for benchmark samples. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Linear-interpolated percentile (p in 0..100) of the samples; NaN for no samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function spread(samples: number[]): Spread {
  return {
    median: percentile(samples, 50),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
    n: samples.length,
  };
}

export function mean(samples: number[]): number {
  return samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : NaN;
}

/** Least-squares slope of y over x (units of y per unit of x). */
export function slope(points: { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const mx = mean(points.map((p) => p.x));
  const my = mean(points.map((p) => p.y));
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Rounds for reports: enough digits to compare, not so many that tables become noise. */
export function round(n: number, digits = 1): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** "median (min–max)" with a unit, for tables. */
export function fmtSpread(s: Spread, unit = '', digits = 1): string {
  return `${round(s.median, digits)}${unit} (${round(s.min, digits)}–${round(s.max, digits)})`;
}
