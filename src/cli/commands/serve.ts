import { type AddressInfo, createServer } from 'node:net';
import { ConfigError, invalidConfiguration, UsageError } from '../../common/errors.js';
import { type AppConfig, atPort } from '../../config.js';
import { parseArgs } from '../args.js';
import type { Command } from '../io.js';
import { print } from '../io.js';

const help = `usage: agentpack serve
Runs the service. Configuration comes from the environment: PORT (8080), HOST (127.0.0.1),
AGENTPACK_DATA_DIR (./data), AGENTPACK_PUBLIC_URL, DATABASE_URL, AGENTPACK_S3_BUCKET
(+ AGENTPACK_S3_ENDPOINT, AWS_REGION), AGENTPACK_MASTER_KEY, AGENTPACK_ADMIN_EMAIL,
AGENTPACK_LOG_LEVEL, AGENTPACK_DB_TIMEOUT_MS (5000), AGENTPACK_S3_TIMEOUT_MS (10000),
AGENTPACK_DISK_MIN_FREE_BYTES (8 MiB). On first start it creates a system admin and prints its one-time
password once. Human-readable lines go to stdout, JSON logs to stderr. Stops on SIGINT/SIGTERM.`;

export const run: Command = async (argv, io) => {
  const args = parseArgs(argv, { flags: ['help'] });
  if (args.options.has('help')) {
    print(io.stdout, help);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError('serve takes no arguments');
  const { loadConfig } = await import('../../config.js');
  const config = await withConcretePort(loadConfig(io.env, io.cwd));
  const { openServices } = await import('../../services.js');
  const { startServer, DeferredLogger } = await import('../../http/server.js');
  const { bootstrap } = await import('../../bootstrap.js');
  const logger = new DeferredLogger();
  const services = await openServices(config, { logger }).catch(asConfigError);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    const first = await bootstrap(services);
    if (first.demo.created)
      print(io.stdout, `agentpack: created organization ${first.demo.org.name} (${first.demo.org.slug})`);
    if (first.admin !== undefined) {
      print(io.stdout, `agentpack: created system admin ${first.admin.email}`);
      print(io.stdout, `agentpack: one-time password: ${first.admin.password}`);
      print(io.stdout, 'agentpack: (shown only this once; sign in and keep it somewhere safe)');
    }
    server = await startServer(services, config, { logger: { stream: io.stderr } });
  } catch (error) {
    await services.close();
    throw error;
  }
  logger.target = server.app.log;
  services.bundles.startCollector(undefined, (error) =>
    server.app.log.warn({ err: error }, 'bundle collection failed'),
  );
  services.startTempSweep(({ files, bytes }) =>
    server.app.log.info({ files, bytes }, `removed ${files} leftover temp files (${bytes} bytes)`),
  );
  print(io.stdout, `agentpack: listening on ${server.url} (public URL ${config.publicUrl})`);
  const signal = await stopSignal();
  server.app.log.info({ signal }, 'shutting down');
  await server.close();
  print(io.stdout, `agentpack: stopped (${signal})`);
  return 0;
};

/**
 * PORT=0 asks for any free port. Without AGENTPACK_PUBLIC_URL the public URL (written into agent
 * configs and links) must name the real port, so one is chosen before anything is configured.
 */
async function withConcretePort(config: AppConfig): Promise<AppConfig> {
  if (config.port !== 0 || !config.publicUrlDerived) return config;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, config.host, resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return atPort(config, port);
}

function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Bad master keys and database URLs are configuration too: same one-line form, exit 2. */
function asConfigError(error: unknown): never {
  if (error instanceof ConfigError) throw invalidConfiguration(error.message);
  throw error;
}
