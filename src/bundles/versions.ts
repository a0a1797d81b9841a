import { BadRequestError } from '../common/errors.js';
import { versionProblem } from '../common/validate.js';

/** Version names come from users (URLs, CLI); checked before any key or path is built from them. */
export function checkVersionName(version: string): string {
  const problem = versionProblem(version);
  if (problem !== null) throw new BadRequestError('VERSION_INVALID', problem);
  return version;
}

/**
 * Orders versions the way people read them: numeric parts numerically (1.10 > 1.9), and a
 * release above its pre-releases (1.0.0 > 1.0.0-rc.1).
 */
export function compareVersions(a: string, b: string): number {
  const [coreA, preA] = splitPre(a);
  const [coreB, preB] = splitPre(b);
  const byCore = compareParts(coreA, coreB);
  if (byCore !== 0) return byCore;
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1;
  return compareParts(preA, preB);
}

function splitPre(version: string): [string, string | undefined] {
  const withoutBuild = version.split('+')[0] as string;
  const dash = withoutBuild.indexOf('-');
  return dash < 0 ? [withoutBuild, undefined] : [withoutBuild.slice(0, dash), withoutBuild.slice(dash + 1)];
}

function compareParts(a: string, b: string): number {
  const pa = a.split(/[._-]/);
  const pb = b.split(/[._-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (Number.isNaN(nx) !== Number.isNaN(ny)) {
      return Number.isNaN(nx) ? 1 : -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}
