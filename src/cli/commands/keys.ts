import { NotFoundError, UsageError } from '../../common/errors.js';
import { echo } from '../../common/validate.js';
import type { Credentials } from '../../credentials/credentials.js';
import { parseDuration } from '../../credentials/duration.js';
import { checkWhich } from '../../credentials/key-versions.js';
import { cliActor, withCredentials } from '../../credentials/open.js';
import type { EndGraceResult, KeyWhich, OrgKeys, RotationResult } from '../../credentials/types.js';
import { type ParsedArgs, parseArgs, requireOption, stringOption } from '../args.js';
import type { CliIo, Command } from '../io.js';
import { print } from '../io.js';
import { cliConfig } from '../services.js';

const help = `usage: agentpack keys rotate --org ID --which api-key|agent-service-key [--grace 24h] [--json]
       agentpack keys end-grace --org ID --which api-key|agent-service-key [--json]
       agentpack keys show --org ID [--json]
       agentpack keys rewrap [--json]
       agentpack keys rotate-signing [--json]

rotate     mint a new version; the previous one stays valid for --grace (0, 30s, 15m, 1h,
           24h, 7d; at most 30d; default 24h), and a version still in an earlier grace
           period stops now
end-grace  stop the previous version now
show       print the current keys and pending expiries (audited as key.viewed)
rewrap     re-encrypt every stored secret under the current master key
           (AGENTPACK_MASTER_KEY; older keys in AGENTPACK_MASTER_KEYS_OLD)
rotate-signing
           add a new current Ed25519 signing key; older keys stay published in the
           JWKS so statements they signed still verify

--org takes an organization id or slug.`;

const DEFAULT_GRACE = '24h';

export const run: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    print(sub === undefined ? io.stderr : io.stdout, help);
    return sub === undefined ? 2 : 0;
  }
  const handler = subcommands[sub];
  if (handler === undefined) {
    throw new UsageError(
      `keys: unknown subcommand '${sub}' (expected ${Object.keys(subcommands).join(', ')})`,
    );
  }
  return handler(rest, io);
};

const subcommands: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  rotate,
  'end-grace': endGrace,
  show,
  rewrap,
  'rotate-signing': rotateSigning,
};

async function rotateSigning(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { flags: ['json'] });
  noPositionals(args, 'rotate-signing');
  const { openCliServices } = await import('../services.js');
  const { services } = await openCliServices(io);
  try {
    const keyring = await services.signing.rotate();
    await services.credentials.audit({
      orgId: null,
      actor: cliActor(io.env),
      action: 'signing_key.rotated',
      detail: { keyId: keyring.current.keyId, keys: keyring.keys.length },
    });
    if (args.options.has('json'))
      print(
        io.stdout,
        JSON.stringify({ keyId: keyring.current.keyId, keys: keyring.keys.map((k) => k.keyId) }),
      );
    else
      print(
        io.stdout,
        `signing key rotated: new key ${keyring.current.keyId}; ${keyring.keys.length} keys published in the JWKS`,
      );
    return 0;
  } finally {
    await services.close();
  }
}

async function rotate(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { values: ['org', 'which', 'grace'], flags: ['json'] });
  noPositionals(args, 'rotate');
  const which = checkWhich(requireOption(args, 'which'));
  const grace = parseDuration(stringOption(args, 'grace') ?? DEFAULT_GRACE);
  const result = await onOrg(io, requireOption(args, 'org'), (credentials, orgId) =>
    credentials.rotateKey(orgId, which, grace, cliActor(io.env)),
  );
  output(io, args, result, (r) => rotationText(r, grace));
  return 0;
}

async function endGrace(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { values: ['org', 'which'], flags: ['json'] });
  noPositionals(args, 'end-grace');
  const which = checkWhich(requireOption(args, 'which'));
  const result = await onOrg(io, requireOption(args, 'org'), (credentials, orgId) =>
    credentials.endGrace(orgId, which, cliActor(io.env)),
  );
  output(io, args, result, endGraceText);
  return 0;
}

async function show(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { values: ['org'], flags: ['json'] });
  noPositionals(args, 'show');
  const keys = await onOrg(io, requireOption(args, 'org'), (credentials, orgId) =>
    credentials.getKeys(orgId, { viewedBy: cliActor(io.env) }),
  );
  output(io, args, keys, keysText);
  return 0;
}

async function rewrap(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { flags: ['json'] });
  noPositionals(args, 'rewrap');
  const result = await withCredentials(await cliConfig(io), { mustExist: true }, (credentials) =>
    credentials.rewrap(cliActor(io.env)),
  );
  output(
    io,
    args,
    result,
    (r) => `rewrapped ${r.rewrapped} records; every record is now sealed under ${r.masterKeyId}`,
  );
  return 0;
}

function noPositionals(args: ParsedArgs, sub: string): void {
  if (args.positionals.length > 0)
    throw new UsageError(`keys ${sub}: unexpected argument '${args.positionals[0]}'`);
}

async function onOrg<T>(
  io: CliIo,
  ref: string,
  work: (credentials: Credentials, orgId: string) => Promise<T>,
): Promise<T> {
  return withCredentials(await cliConfig(io), { mustExist: true }, async (credentials) => {
    const org = await credentials.getOrganization(ref);
    if (org === null) throw new NotFoundError(`no organization with id or slug '${echo(ref)}'`);
    return work(credentials, org.orgId);
  });
}

function output<T>(io: CliIo, args: ParsedArgs, value: T, text: (value: T) => string): void {
  print(io.stdout, args.options.has('json') ? JSON.stringify(value, null, 2) : text(value));
}

function rotationText(r: RotationResult, graceSeconds: number): string {
  const previous = `  version ${r.previous.version} (${r.previous.keyId})`;
  const stops = graceSeconds === 0 ? 'stopped working now' : `stays valid until ${r.previous.expiresAt}`;
  return [
    `${r.which} of ${r.orgId} rotated to version ${r.version} (${r.keyId})`,
    `  new key    ${r.key}`,
    `${previous} ${stops}`,
    ...r.ended.map(
      (e) => `  version ${e.version} (${e.keyId}) stopped working now (its grace period was cut short)`,
    ),
  ].join('\n');
}

function endGraceText(r: EndGraceResult): string {
  return r.ended
    .map((e) => `${r.which} version ${e.version} (${e.keyId}) of ${r.orgId} stopped working now`)
    .join('\n');
}

function keysText(k: OrgKeys): string {
  const label: Record<KeyWhich, string> = { 'api-key': 'API key', 'agent-service-key': 'agent service key' };
  return [
    `org id             ${k.orgId} (${k.slug})`,
    `API key            ${k.apiKey}  (version ${k.versions.apiKey})`,
    `agent user name    ${k.agent.userName}`,
    `agent service key  ${k.agent.serviceKey}  (version ${k.versions.agentServiceKey})`,
    ...k.expiries.map(
      (e) => `previous ${label[e.which]} version ${e.version} (${e.keyId}) valid until ${e.expiresAt}`,
    ),
  ].join('\n');
}
