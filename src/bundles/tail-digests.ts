import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { PreparedBase } from '../archive/prepared.js';

/**
 * The worker: for each base, SHA-256 of its prefix fed once in chunks, then per job a copy of that
 * state updated with the tail's pieces. Pieces of the base's central directory (the bulk of every
 * tail) are sent once as `shared` buffers and referred to by range. Plain JavaScript evaluated as
 * the worker's source, so the same code runs from `dist/` and under the test runner.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const bases = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'base') bases.set(m.base, { hash: createHash('sha256'), shared: new Map() });
  else if (m.op === 'prefix') bases.get(m.base).hash.update(m.chunk);
  else if (m.op === 'shared') bases.get(m.base).shared.set(m.id, Buffer.from(m.bytes));
  else if (m.op === 'drop') bases.delete(m.base);
  else if (m.op === 'digest') {
    try {
      const base = bases.get(m.base);
      const hash = base.hash.copy();
      for (const part of m.parts) {
        if (part instanceof Uint8Array) hash.update(part);
        else hash.update(base.shared.get(part[0]).subarray(part[1], part[2]));
      }
      parentPort.postMessage({ job: m.job, hex: hash.digest('hex') });
    } catch (error) {
      parentPort.postMessage({ job: m.job, error: String(error && error.message) });
    }
  }
});
`;

/** Pieces at least this large are looked up among the shared buffers (the central directory). */
const SHARED_MIN_BYTES = 64 * 1024;
/** Builds in flight before hashing moves off the main thread: a lone download hashes in place. */
const BUSY_BUILDS = 2;

interface Fed {
  readonly id: number;
  /** True once the whole prefix has been posted (message order does the rest); false when that failed. */
  readonly ready: Promise<boolean>;
  readonly shared: WeakMap<ArrayBufferLike, number>;
}

export type PrefixSource = () => Promise<Readable>;

/**
 * SHA-256 of bundles (a base's prefix + a tail), off the main thread when builds pile up (a
 * rebuild after rotations, a burst of first downloads): one worker thread hashes the ~2 MB tails
 * while the main thread renders, signs and records the next bundles. The worker learns a base's
 * prefix hash once, from the blob store; until then, and for lone builds, tails are hashed in
 * place from the prepared base. Either way the digest is the same; a worker failure falls back
 * to hashing in place.
 */
export class TailDigests {
  private worker: Worker | undefined;
  private readonly fed = new WeakMap<PreparedBase, Fed>();
  private readonly jobs = new Map<number, { resolve(hex: string): void; reject(error: Error): void }>();
  private nextId = 1;
  private broken = false;
  private hashedInWorker = 0;

  constructor(private readonly enabled = availableParallelism() > 1) {}

  /**
   * The bundle's digest. `busy`: how many builds are in flight; `prefix` streams the base from
   * its first byte (read up to `tail.prefixLength`).
   */
  async sha256(
    base: PreparedBase,
    parts: readonly Buffer[],
    busy: number,
    prefix: PrefixSource,
    prefixLength: number,
  ): Promise<string> {
    const fed = this.enabled && !this.broken ? this.feed(base, busy, prefix, prefixLength) : undefined;
    // While the prefix is on its way, builds wait for it rather than hash in place: hashing here
    // would keep the event loop too busy to read the base.
    if (fed !== undefined && (await fed.ready)) {
      try {
        const hex = await this.offload(fed, parts);
        this.hashedInWorker++;
        return hex;
      } catch {
        // The worker is gone or failed: hash here, as for a lone build.
      }
    }
    const hash = base.prefixHash.copy();
    for (const part of parts) hash.update(part);
    return hash.digest('hex');
  }

  /** How many digests the worker computed (the rest were computed in place). */
  get offloaded(): number {
    return this.hashedInWorker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.broken = true;
    await worker?.terminate();
  }

  private feed(
    base: PreparedBase,
    busy: number,
    prefix: PrefixSource,
    prefixLength: number,
  ): Fed | undefined {
    const known = this.fed.get(base);
    if (known !== undefined || busy < BUSY_BUILDS) return known;
    const worker = this.start();
    const id = this.nextId++;
    const sending = (async () => {
      worker.postMessage({ op: 'base', base: id });
      let sent = 0;
      const stream = await prefix();
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const piece = chunk.subarray(0, Math.max(0, prefixLength - sent));
          // A copy the worker owns: the stream may reuse its buffers.
          const owned = new Uint8Array(piece);
          worker.postMessage({ op: 'prefix', base: id, chunk: owned }, [owned.buffer]);
          sent += piece.length;
          if (sent >= prefixLength) break;
        }
      } finally {
        stream.destroy();
      }
      if (sent !== prefixLength) throw new Error(`base prefix ended at ${sent} of ${prefixLength} bytes`);
    })();
    const fed: Fed = {
      id,
      shared: new WeakMap(),
      ready: sending.then(
        () => true,
        () => {
          // Not retried for this base: its builds hash in place.
          worker.postMessage({ op: 'drop', base: id });
          return false;
        },
      ),
    };
    this.fed.set(base, fed);
    return fed;
  }

  private offload(fed: Fed, parts: readonly Buffer[]): Promise<string> {
    const worker = this.worker;
    if (worker === undefined) return Promise.reject(new Error('no worker'));
    const message: (Uint8Array | [number, number, number])[] = [];
    for (const part of parts) {
      if (part.length < SHARED_MIN_BYTES) {
        message.push(new Uint8Array(part));
        continue;
      }
      let shared = fed.shared.get(part.buffer);
      if (shared === undefined) {
        shared = this.nextId++;
        fed.shared.set(part.buffer, shared);
        worker.postMessage({ op: 'shared', base: fed.id, id: shared, bytes: new Uint8Array(part.buffer) });
      }
      message.push([shared, part.byteOffset, part.byteOffset + part.length]);
    }
    const job = this.nextId++;
    // Held (keeps the process alive) only while an answer is awaited.
    if (this.jobs.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject });
      worker.postMessage({ op: 'digest', base: fed.id, job, parts: message });
    });
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (answer: { job: number; hex?: string; error?: string }) => {
      const job = this.jobs.get(answer.job);
      this.jobs.delete(answer.job);
      if (this.jobs.size === 0) worker.unref();
      if (answer.hex !== undefined) job?.resolve(answer.hex);
      else job?.reject(new Error(answer.error ?? 'digest failed'));
    });
    const fail = (error: Error) => {
      this.broken = true;
      this.worker = undefined;
      for (const job of this.jobs.values()) job.reject(error);
      this.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the digest worker exited')));
    this.worker = worker;
    return worker;
  }
}
