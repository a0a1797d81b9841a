import { UsageError } from '../../common/errors.js';
import { cliActor, withCredentials } from '../../credentials/open.js';
import { organizationSlug } from '../../credentials/organizations.js';
import type { CreatedOrganization, Organization } from '../../credentials/types.js';
import { parseArgs, stringOption } from '../args.js';
import type { CliIo, Command } from '../io.js';
import { print } from '../io.js';
import { cliConfig } from '../services.js';

const help = `usage: agentpack org create NAME [--slug SLUG] [--json]
       agentpack org list [--json]

create   makes an organization with its API key, agent user name and agent service key,
         and prints them (the slug is derived from NAME unless --slug is given)
list     prints every organization: id, slug, name

Works on the embedded store (AGENTPACK_DATA_DIR, default ./data) or on DATABASE_URL.`;

export const run: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    print(sub === undefined ? io.stderr : io.stdout, help);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'create') return create(rest, io);
  if (sub === 'list') return list(rest, io);
  throw new UsageError(`org: unknown subcommand '${sub}' (expected create or list)`);
};

async function create(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { values: ['slug'], flags: ['json'] });
  const [name, ...extra] = args.positionals;
  if (name === undefined || extra.length > 0) {
    throw new UsageError(
      `org create: expected one NAME, found ${args.positionals.length} (quote a name with spaces)`,
    );
  }
  const slug = organizationSlug(name, stringOption(args, 'slug'));
  const org = await withCredentials(await cliConfig(io), {}, (credentials) =>
    credentials.createOrganization(name, { slug, actor: cliActor(io.env) }),
  );
  if (args.options.has('json')) print(io.stdout, JSON.stringify(createdJson(org), null, 2));
  else print(io.stdout, createdText(org));
  return 0;
}

function createdJson(org: CreatedOrganization): object {
  const { orgId, name, slug, apiKey, agent, keyIds, versions } = org;
  return { orgId, name, slug, apiKey, agent, keyIds, versions };
}

function createdText(org: CreatedOrganization): string {
  return [
    `organization ${org.name} (${org.slug}) created`,
    `  org id             ${org.orgId}`,
    `  API key            ${org.apiKey}`,
    `  agent user name    ${org.agent.userName}`,
    `  agent service key  ${org.agent.serviceKey}`,
  ].join('\n');
}

async function list(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { flags: ['json'] });
  if (args.positionals.length > 0) throw new UsageError('org list: takes no arguments');
  const orgs = await withCredentials(await cliConfig(io), { mustExist: true }, (credentials) =>
    credentials.listOrganizations(),
  );
  if (args.options.has('json')) print(io.stdout, JSON.stringify(orgs, null, 2));
  else for (const org of orgs) print(io.stdout, listLine(org));
  return 0;
}

function listLine(org: Organization): string {
  return `${org.orgId}  ${org.slug.padEnd(24)}  ${org.name}`;
}
