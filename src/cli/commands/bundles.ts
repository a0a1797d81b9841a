import { UsageError } from '../../errors.js';
import { parseArgs, stringOption } from '../args.js';
import type { Command } from '../io.js';
import { print } from '../io.js';
import { countProgress, openCliServices } from '../services.js';

const help = `usage: agentpack bundles rebuild [--org ID|SLUG] [--kind K] [--version V|latest] [--json]
Builds (and signs) the current bundle of every organization for every kind (or the ones given),
so the first download after a rotation is instant; then removes records of bundles whose keys
have expired. Shows a progress bar on a terminal and a summary at the end.`;

export const run: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    print(sub === undefined ? io.stderr : io.stdout, help);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'rebuild') throw new UsageError(`unknown subcommand 'bundles ${sub}' (rebuild)`);
  const args = parseArgs(rest, { values: ['org', 'kind', 'version'], flags: ['json'] });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const { services, layer } = await openCliServices(io);
  try {
    const orgRef = stringOption(args, 'org');
    const orgs =
      orgRef === undefined
        ? await services.credentials.listOrganizations()
        : [await services.credentials.getOrganization(orgRef)];
    if (orgs[0] === null) throw new UsageError(`no organization '${orgRef}'`);
    const version = stringOption(args, 'version') ?? 'latest';
    const kindName = stringOption(args, 'kind');
    const kinds = (await layer.catalog.list()).filter((k) =>
      kindName === undefined ? k.latest !== null : k.kind === kindName,
    );
    if (kindName !== undefined && kinds.length === 0) throw new UsageError(`no agent kind '${kindName}'`);
    for (const kind of kinds) await layer.catalog.resolve(kind.kind, version);
    const started = performance.now();
    const progress = countProgress(io, 'rebuilding bundles', orgs.length * kinds.length);
    let built = 0;
    let current = 0;
    const failures: string[] = [];
    for (const org of orgs) {
      if (org === null) continue;
      for (const kind of kinds) {
        try {
          const bundle = await layer.service.current({ orgId: org.orgId, kind: kind.kind, version });
          if (bundle.built === true) built++;
          else current++;
        } catch (error) {
          failures.push(`${org.slug} ${kind.kind}: ${(error as Error).message}`);
        }
        progress.tick();
      }
    }
    progress.done();
    const collected = await layer.service.collect(
      orgRef === undefined ? {} : { orgId: (orgs[0] as { orgId: string }).orgId },
    );
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      organizations: orgs.length,
      kinds: kinds.map((k) => k.kind),
      built,
      alreadyCurrent: current,
      failed: failures.length,
      collected,
      seconds: Number(seconds.toFixed(2)),
    };
    if (args.options.has('json')) print(io.stdout, JSON.stringify(summary));
    else {
      print(
        io.stdout,
        `rebuilt ${built} bundles (${current} already current) for ${orgs.length} organizations and ${kinds.length} kinds in ${seconds.toFixed(1)} s; removed ${collected} expired`,
      );
      for (const failure of failures) print(io.stderr, `agentpack: ${failure}`);
    }
    return failures.length > 0 ? 1 : 0;
  } finally {
    await services.close();
  }
};
