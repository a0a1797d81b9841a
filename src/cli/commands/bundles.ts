import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { UsageError } from '../../common/errors.js';
import { parseArgs, stringOption } from '../args.js';
import type { Command } from '../io.js';
import { print } from '../io.js';
import { countProgress, openCliServices } from '../services.js';

/** Organizations in flight at once: enough for group commits, few enough to stop quickly on Ctrl-C. */
const REBUILD_CONCURRENCY = 16;

const help = `usage: agentpack bundles rebuild [--org ID|SLUG] [--kind K] [--version V|latest] [--json]
Builds (and signs) the current bundle of every organization for every kind (or the ones given),
so the first download after a rotation is instant; then removes records of bundles whose keys
have expired. Shows a progress bar on a terminal and a summary at the end. Ctrl-C stops after
the organizations at hand and prints what was done (exit 130); running it again carries on.`;

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
    // Ctrl-C: finish the organizations at hand (each bundle record is written whole), then stop
    // and report; a second Ctrl-C ends the process at once (the default again).
    let interrupted = false;
    const onInterrupt = () => {
      interrupted = true;
      progress.note('stopping after the current organization (Ctrl-C again to stop at once)');
    };
    process.once('SIGINT', onInterrupt);
    let built = 0;
    let current = 0;
    let orgsDone = 0;
    const failures: string[] = [];
    const rebuildOrg = async (org: (typeof orgs)[number]): Promise<void> => {
      if (org === null) return;
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
      orgsDone++;
    };
    // A few organizations at a time, so their records commit together; each build is still whole.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!interrupted && next < orgs.length) {
        await rebuildOrg(orgs[next++] ?? null);
        // Lets a pending Ctrl-C be seen between organizations even when every build is quick.
        await yieldToEvents();
      }
    };
    try {
      await Promise.all(Array.from({ length: REBUILD_CONCURRENCY }, worker));
    } finally {
      process.off('SIGINT', onInterrupt);
    }
    progress.done();
    const collected = interrupted
      ? 0
      : await layer.service.collect(
          orgRef === undefined ? {} : { orgId: (orgs[0] as { orgId: string }).orgId },
        );
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      organizations: orgs.length,
      organizationsDone: orgsDone,
      kinds: kinds.map((k) => k.kind),
      built,
      alreadyCurrent: current,
      failed: failures.length,
      collected,
      interrupted,
      seconds: Number(seconds.toFixed(2)),
    };
    if (args.options.has('json')) print(io.stdout, JSON.stringify(summary));
    else {
      const scope = interrupted
        ? `interrupted after ${orgsDone} of ${orgs.length} organizations: rebuilt`
        : 'rebuilt';
      const what = interrupted ? '' : ` for ${orgs.length} organizations and ${kinds.length} kinds`;
      const after = interrupted
        ? '; expired bundles were not collected; run it again to finish (current bundles are skipped)'
        : `; removed ${collected} expired`;
      print(
        io.stdout,
        `${scope} ${built} bundles (${current} already current)${what} in ${seconds.toFixed(1)} s${after}`,
      );
      for (const failure of failures) print(io.stderr, `agentpack: ${failure}`);
    }
    if (interrupted) return 130;
    return failures.length > 0 ? 1 : 0;
  } finally {
    await services.close();
  }
};
