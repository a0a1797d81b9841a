import type { Readable } from 'node:stream';
import { NotFoundError, UsageError } from '../../common/errors.js';
import { echo } from '../../common/validate.js';
import { normalizeEmail } from '../../credentials/names.js';
import { cliActor, withCredentials } from '../../credentials/open.js';
import { checkPassword } from '../../credentials/password.js';
import type { AddedUser } from '../../credentials/types.js';
import { checkRole } from '../../credentials/users.js';
import { parseArgs, requireOption } from '../args.js';
import type { CliIo, Command } from '../io.js';
import { print } from '../io.js';
import { cliConfig } from '../services.js';

const help = `usage: agentpack user add EMAIL --org ID --role admin|member [--password-stdin] [--system-admin] [--json]

Creates the user (with a personal service key, printed once) and makes them a member of the
organization (ID or slug). An existing user is only added to the organization.

  --password-stdin   read the password from standard input (first line); without it the
                     user signs in with the personal service key only
  --system-admin     the user may act on every organization`;

const MAX_PASSWORD_INPUT = 4096;

export const run: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    print(sub === undefined ? io.stderr : io.stdout, help);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'add') throw new UsageError(`user: unknown subcommand '${sub}' (expected add)`);
  return add(rest, io);
};

async function add(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, {
    values: ['org', 'role'],
    flags: ['password-stdin', 'system-admin', 'json'],
  });
  const [emailText, ...extra] = args.positionals;
  if (emailText === undefined || extra.length > 0) {
    throw new UsageError(`user add: expected one EMAIL, found ${args.positionals.length}`);
  }
  const email = normalizeEmail(emailText);
  const role = checkRole(requireOption(args, 'role'));
  const orgRef = requireOption(args, 'org');
  const password = args.options.has('password-stdin') ? await readPassword(io.stdin) : undefined;
  const added = await withCredentials(await cliConfig(io), { mustExist: true }, async (credentials) => {
    const org = await credentials.getOrganization(orgRef);
    if (org === null) throw new NotFoundError(`no organization with id or slug '${echo(orgRef)}'`);
    const systemAdmin = args.options.has('system-admin');
    return credentials.addUser({ email, orgId: org.orgId, role, password, systemAdmin }, cliActor(io.env));
  });
  if (args.options.has('json')) print(io.stdout, JSON.stringify(addedJson(added), null, 2));
  else print(io.stdout, addedText(added));
  return 0;
}

/** The first line of standard input, without its line ending. */
async function readPassword(stdin: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.length > MAX_PASSWORD_INPUT)
      throw new UsageError('--password-stdin: input is longer than 4096 characters');
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  checkPassword(password);
  return password;
}

function addedJson(user: AddedUser): object {
  const { userId, email, orgId, role, created, serviceKey } = user;
  return serviceKey === null
    ? { userId, email, orgId, role, created }
    : { userId, email, orgId, role, created, serviceKey };
}

function addedText(user: AddedUser): string {
  const lines = [
    `user ${user.email} ${user.created ? 'created and ' : ''}added to ${user.orgId} as ${user.role}`,
  ];
  lines.push(`  user id               ${user.userId}`);
  if (user.serviceKey !== null) lines.push(`  personal service key  ${user.serviceKey}`);
  return lines.join('\n');
}
