import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A valid manifest for a test kind; tests override fields to break it one way at a time. */
export function manifestFor(
  kind: string,
  format: 'properties' | 'yaml' = 'properties',
): Record<string, unknown> {
  return {
    kind,
    description: `test kind ${kind}`,
    archive: 'jar',
    target: `${kind}.${format}`,
    format,
    template: 'config.hbs',
    variables: { required: ['api.url'], optional: ['proxy.host', 'proxy.port'] },
  };
}

/** Writes `<dir>/<kind>/kind.json` (raw text or an object) and `config.hbs` beside it. */
export async function writeKind(
  dir: string,
  kind: string,
  manifest: Record<string, unknown> | string,
  template = 'api.url={{api.url}}\n',
): Promise<string> {
  const folder = join(dir, kind);
  await mkdir(folder, { recursive: true });
  await writeFile(
    join(folder, 'kind.json'),
    typeof manifest === 'string' ? manifest : JSON.stringify(manifest),
  );
  await writeFile(join(folder, 'config.hbs'), template);
  return join(folder, 'kind.json');
}
