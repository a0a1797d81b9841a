import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../config.js';
import type { Logger } from '../credentials/types.js';
import type { Services } from '../services.js';
import { type BuildAppOptions, buildApp } from './app.js';

/** Socket timeouts: generous for large downloads and uploads, strict for slow headers. */
export const SERVER_TIMEOUTS = {
  /** Whole request (headers + body) must arrive within this; uploads of large agents fit. */
  requestTimeoutMs: 10 * 60_000,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  /** On shutdown, requests still running after this are cut (a long download must not hold a deploy). */
  shutdownGraceMs: 30_000,
} as const;

export interface RunningServer {
  readonly app: FastifyInstance;
  /** Where it listens, e.g. http://127.0.0.1:8080 (the real port when PORT=0). */
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish, then closes the services. Idempotent. */
  close(): Promise<void>;
}

/** Builds the app over opened services and listens on the configured host and port. */
export async function startServer(
  services: Services,
  config: AppConfig,
  options: BuildAppOptions = {},
): Promise<RunningServer> {
  const app = await buildApp(services, config, options);
  const server = app.server;
  server.requestTimeout = SERVER_TIMEOUTS.requestTimeoutMs;
  server.headersTimeout = SERVER_TIMEOUTS.headersTimeoutMs;
  server.keepAliveTimeout = SERVER_TIMEOUTS.keepAliveTimeoutMs;
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    app,
    url: `http://${host}:${address.port}`,
    close: () => {
      closing ??= (async () => {
        const force = setTimeout(() => server.closeAllConnections(), SERVER_TIMEOUTS.shutdownGraceMs);
        try {
          await app.close();
        } finally {
          clearTimeout(force);
        }
        await services.close();
      })();
      return closing;
    },
  };
}

/** A logger to hand to openServices before the app (and its pino logger) exists. */
export class DeferredLogger implements Logger {
  target: Logger | undefined;

  info(fields: object, message: string): void {
    this.target?.info(fields, message);
  }

  warn(fields: object, message: string): void {
    this.target?.warn(fields, message);
  }

  debug(fields: object, message: string): void {
    this.target?.debug(fields, message);
  }
}
