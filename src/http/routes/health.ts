import { access, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppConfig } from '../../config.js';

const CHECK_TIMEOUT_MS = 3000;
const Check = Type.Enum(['ok', 'failed']);
const Readiness = Type.Object({
  status: Type.Enum(['ready', 'unavailable']),
  checks: Type.Object({
    metadata: Check,
    system: Check,
    blobs: Check,
    disk: Type.Enum(['ok', 'failed'], {
      description: 'free space where this instance writes (data and spool directories)',
    }),
  }),
});

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: its stores answer too). */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: 200 while the process serves',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Readiness: 200 when the metadata store and the blob store answer and the local disk has room, else 503',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (request, reply) => {
      const { store, blobs, config, bundles } = app.services;
      const probe = async (name: string, work: () => Promise<unknown>): Promise<'ok' | 'failed'> => {
        try {
          await withTimeout(work(), CHECK_TIMEOUT_MS);
          return 'ok';
        } catch (error) {
          request.log.warn({ err: error, check: name }, 'readiness check failed');
          return 'failed';
        }
      };
      const [metadata, systemCheck, blobCheck, disk] = await Promise.all([
        probe('metadata', () => store.findOrganizationById('00000000-0000-0000-0000-000000000000')),
        // One store holds both; the two names stay for the clients that read them.
        probe('system', () => store.findSecret('readyz-probe')),
        probe('blobs', () => blobs.head('system/readyz-probe')),
        probe('disk', () => checkFreeSpace(localDirs(config, bundles.tmpDir), config.diskMinFreeBytes)),
      ]);
      const checks = { metadata, system: systemCheck, blobs: blobCheck, disk };
      const ready = Object.values(checks).every((c) => c === 'ok');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
    },
  );
};

/** Where this instance writes: the data directory (embedded database or blobs) and the spool. */
function localDirs(config: AppConfig, tmpDir: string): string[] {
  const embedded = config.databaseUrl === undefined || config.s3 === undefined;
  return embedded ? [config.dataDir, tmpDir] : [tmpDir];
}

/** Fails when a file system holding `dirs` has less than `minFree` bytes left for us. */
async function checkFreeSpace(dirs: string[], minFree: number): Promise<void> {
  for (const dir of dirs) {
    const fs = await statfs(await existingAncestor(dir));
    const free = fs.bavail * fs.bsize;
    if (free < minFree)
      throw new Error(`${free} bytes free where ${dir} lives, expected at least ${minFree}`);
  }
}

/** The spool directory is created on first use: measure the file system it will be on. */
async function existingAncestor(dir: string): Promise<string> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      await access(d);
      return d;
    } catch (error) {
      if (dirname(d) === d) throw error;
    }
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export default health;
