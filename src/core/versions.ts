/**
 * Apple's version strings: CFBundleShortVersionString and CFBundleVersion are one to three
 * period-separated non-negative integers; missing components read as 0 (Xcode help, "build string").
 */
const DOTTED = /^\d+(\.\d+){0,2}$/;

export function isDottedVersion(s: string): boolean {
  return DOTTED.test(s);
}

export function parseDotted(s: string): number[] | undefined {
  const t = s.trim();
  if (!/^\d+(\.\d+)*$/.test(t)) return undefined;
  return t.split('.').map(Number);
}

/** Numeric, component-wise comparison ("10" > "9", "1.10" > "1.9", "1.0" == "1"). Non-numeric sorts first. */
export function compareDotted(a: string, b: string): number {
  const pa = parseDotted(a);
  const pb = parseDotted(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : a.localeCompare(b);
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** The next build number after `highest`: its last component plus one ("57" → "58", "1.2.9" → "1.2.10"). */
export function incrementDotted(highest: string): string {
  const parts = parseDotted(highest) ?? [0];
  parts[parts.length - 1] = (parts[parts.length - 1] ?? 0) + 1;
  return parts.join('.');
}
