/**
 * A small Prometheus registry (text exposition format 0.0.4). Hand-written on purpose: the
 * service needs a handful of counters and one histogram, not a dependency. Label values are
 * escaped; callers must pass bounded values (a format name, a route pattern), never an id or a URL.
 */
type Labels<L extends string> = Readonly<Record<L, string>>;

interface Described {
  readonly name: string;
  readonly help: string;
  render(): string[];
}

export class Counter<L extends string = never> implements Described {
  /** By label values joined in `labelNames` order (cheap to build per request); the text is built once. */
  private readonly values = new Map<string, { text: string; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[] = [],
  ) {}

  inc(labels?: Labels<L>, amount = 1): void {
    const key = this.keyOf(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { text: labelText(labels), value: amount });
    else entry.value += amount;
  }

  /** The current value for exactly these labels (0 when never incremented). */
  get(labels?: Labels<L>): number {
    return this.values.get(this.keyOf(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0 && this.labelNames.length === 0) lines.push(`${this.name} 0`);
    const entries = [...this.values.values()].sort((a, b) => a.text.localeCompare(b.text));
    for (const { text, value } of entries) lines.push(`${this.name}${text} ${value}`);
    return lines;
  }

  private keyOf(labels: Labels<L> | undefined): string {
    if (labels === undefined) return '';
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    return key;
  }
}

export class Histogram implements Described {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
  }

  /** Runs `work` and observes how long it took, in seconds, whether it succeeded or not. */
  async time<T>(work: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      this.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  get observations(): number {
    return this.count;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((bound, i) => {
      lines.push(`${this.name}_bucket{le="${bound}"} ${this.counts[i] ?? 0}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines;
  }
}

/** Everything the service counts; `app.metrics` in HTTP code, `services.metrics` elsewhere. */
export interface Metrics {
  /** Bundle bytes served, by format (`jar`, `zip`, `sha256`, `sig`, `config`, ...). */
  readonly downloads: Counter<'format'>;
  readonly bundleBuilds: Counter;
  readonly bundleBuildSeconds: Histogram;
  readonly bundleCacheHits: Counter;
  /** By kind: `agent`, `personal`, `session`, `password`, `csrf`, `link`. */
  readonly authFailures: Counter<'kind'>;
  /**
   * Requests refused with 429, by limit: `auth-account`, `auth-client` (failed authentications),
   * `downloads`, `link-downloads`, `links`, `signins` (request rates), `password-checks` (queue).
   */
  readonly rateLimited: Counter<'limit'>;
  /** By method, route pattern (never the raw URL) and status code. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  render(): string;
}

export function createMetrics(): Metrics {
  const all = {
    downloads: new Counter('agentpack_downloads_total', 'Bundle downloads served, by format.', ['format']),
    bundleBuilds: new Counter('agentpack_bundle_builds_total', 'Bundles built (cache misses).'),
    bundleBuildSeconds: new Histogram(
      'agentpack_bundle_build_seconds',
      'Time to build one bundle, in seconds.',
    ),
    bundleCacheHits: new Counter(
      'agentpack_bundle_cache_hits_total',
      'Bundle requests served from the cache.',
    ),
    authFailures: new Counter('agentpack_auth_failures_total', 'Failed authentications, by kind.', ['kind']),
    rateLimited: new Counter('agentpack_rate_limited_total', 'Requests refused with 429, by limit.', [
      'limit',
    ]),
    httpRequests: new Counter(
      'agentpack_http_requests_total',
      'HTTP requests answered, by method, route pattern and status.',
      ['method', 'route', 'status'],
    ),
  };
  const described: Described[] = Object.values(all);
  return { ...all, render: () => `${described.flatMap((m) => m.render()).join('\n')}\n` };
}

function labelText<L extends string>(labels: Labels<L> | undefined): string {
  if (labels === undefined) return '';
  const entries = (Object.entries(labels) as [string, string][]).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
