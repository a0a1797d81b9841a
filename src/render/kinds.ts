import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadRequestError, NotFoundError } from '../common/errors.js';
import { kindPattern, kindProblem } from '../common/validate.js';
import { type KindManifest, KindManifestError, parseKindManifest } from './manifest.js';

export type { ArchiveType, ConfigFormat, KindManifest } from './manifest.js';

/** A validated kind, with its template's source loaded: everything needed to render and inject. */
export interface AgentKind extends KindManifest {
  /** Absolute path of the template file, for messages. */
  readonly templateFile: string;
  readonly templateSource: string;
}

/**
 * This module runs as src/render/kinds.ts (vitest) and as dist/render/kinds.js (after tsc);
 * both sit two levels below the package root, which holds `templates/`.
 */
export const defaultTemplatesDir = fileURLToPath(new URL('../../templates/', import.meta.url));

const manifestFile = 'kind.json';

/** Kinds already loaded, per templates folder: they ship with the package and do not change. */
const loaded = new Map<string, Promise<AgentKind>>();

/** Loads and validates one kind. Unknown kind: NotFoundError; broken manifest: KindManifestError. */
export async function loadKind(kind: string, templatesDir: string = defaultTemplatesDir): Promise<AgentKind> {
  checkKindName(kind);
  const key = join(templatesDir, kind);
  let pending = loaded.get(key);
  if (pending === undefined) {
    pending = readKind(kind, templatesDir);
    loaded.set(key, pending);
    // A failure is not remembered: the next call reports the problem afresh (or finds it fixed).
    pending.catch(() => loaded.delete(key));
  }
  return pending;
}

/** Every kind in the templates folder, sorted by name; a broken one fails the whole listing. */
export async function listKinds(templatesDir: string = defaultTemplatesDir): Promise<AgentKind[]> {
  const entries = await readdir(templatesDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory() && kindPattern.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const kinds: AgentKind[] = [];
  for (const name of names) {
    const hasManifest = (await readdir(join(templatesDir, name))).includes(manifestFile);
    if (hasManifest) kinds.push(await loadKind(name, templatesDir));
  }
  return kinds;
}

/** Kind names come from users (CLI, URLs); they are checked before any path is built from them. */
export function checkKindName(kind: unknown): asserts kind is string {
  const problem = kindProblem(kind);
  if (problem !== null) throw new BadRequestError('KIND_NAME_INVALID', problem);
}

async function readKind(kind: string, templatesDir: string): Promise<AgentKind> {
  const folder = join(templatesDir, kind);
  const file = join(folder, manifestFile);
  const text = await readOrNotFound(file, kind, templatesDir);
  const manifest = parseKindManifest(parseJson(text, file), file, kind);
  const templateFile = join(folder, manifest.template);
  const templateSource = await readFile(templateFile, 'utf8').catch((error: unknown) => {
    throw new KindManifestError(
      `${file}: field "template" names ${templateFile}, which cannot be read (${errorCode(error)})`,
    );
  });
  return { ...manifest, templateFile, templateSource };
}

async function readOrNotFound(file: string, kind: string, templatesDir: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    throw new NotFoundError(
      `unknown agent kind "${kind}" (known: ${(await knownNames(templatesDir)).join(', ') || 'none'})`,
    );
  }
}

async function knownNames(templatesDir: string): Promise<string[]> {
  const entries = await readdir(templatesDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory() && kindPattern.test(entry.name))
    .map((e) => e.name)
    .sort();
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new KindManifestError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? 'unknown error';
}
