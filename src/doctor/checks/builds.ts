import type { BuildFacts } from '../facts.js';
import { type Finding, finding } from '../types.js';
import { dateOf, expiryBand, relative } from '../when.js';

const label = (b: BuildFacts) => `build ${b.version} (${b.buildNumber}) of ${b.app}`;
const isExpired = (b: BuildFacts, now: number) => {
  const at = dateOf(b.expirationDate);
  // Apple flips `expired` some time after the date; the date is what testers meet.
  return b.expired || (at !== undefined && at <= now);
};

/** Builds still in beta groups that expire within the window (TestFlight builds live 90 days). */
function expiring(builds: BuildFacts[], now: number, windowDays: number): Finding[] {
  const out: Finding[] = [];
  for (const b of builds) {
    const at = dateOf(b.expirationDate);
    if (!b.groups.length || at === undefined || isExpired(b, now)) continue;
    if (expiryBand(at, now, windowDays) !== 'soon') continue;
    const groups = b.groups.map((g) => `"${g.name}"`).join(', ');
    out.push(
      finding('BUILD_EXPIRING', {
        subject: `${label(b)} (${b.id})`,
        expiresAt: new Date(at).toISOString(),
        message: `The build expires in TestFlight ${relative(at, now)}; from then testers in ${groups} can no longer install it.`,
        fix: `Upload a newer build to those groups (\`ascend deploy FILE --group NAME\`), or take this one out: \`ascend testflight groups --app ${b.app} --remove-build ${b.id} --group NAME\`.`,
      }),
    );
  }
  return out;
}

/** Groups whose newest build has expired: their testers have nothing current to install. */
function staleGroups(builds: BuildFacts[], now: number): Finding[] {
  const newest = new Map<string, { group: { id: string; name: string }; build: BuildFacts }>();
  for (const b of builds) {
    for (const g of b.groups) {
      const cur = newest.get(g.id);
      if (!cur || (dateOf(b.uploadedDate) ?? 0) > (dateOf(cur.build.uploadedDate) ?? 0))
        newest.set(g.id, { group: g, build: b });
    }
  }
  const out: Finding[] = [];
  for (const { group, build } of newest.values()) {
    if (!isExpired(build, now)) continue;
    const at = dateOf(build.expirationDate);
    out.push(
      finding('GROUP_BUILD_EXPIRED', {
        subject: `beta group "${group.name}" of ${build.app}`,
        ...(at !== undefined ? { expiresAt: new Date(at).toISOString() } : {}),
        message: `Its newest build, ${build.version} (${build.buildNumber}), has expired${at !== undefined ? ` ${relative(at, now)}` : ''}: the group's testers have no build to install.`,
        fix: `Add a current build to the group: \`ascend deploy FILE --group "${group.name}"\`.`,
      }),
    );
  }
  return out;
}

export function checkBuilds(builds: BuildFacts[], now: number, windowDays: number): Finding[] {
  return [...expiring(builds, now, windowDays), ...staleGroups(builds, now)];
}
