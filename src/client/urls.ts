/**
 * What the client knows about the service's URLs: where a bundle's statement and signature
 * live, where the public keys are, and how to print a URL without leaking a link token.
 */

const SIGNED_LINK = /^(.*\/dl\/)([^/]+)(\/.*)?$/;
const API_BUNDLE = /\/api\/v1\/orgs\/([^/]+)\/agents\/([^/]+)\/([^/]+)\/bundle$/;
export const STATEMENT_REL = 'agentpack-statement';
export const SIGNATURE_REL = 'agentpack-signature';

export function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/**
 * Origin and path, with a signed link's token shown as `…` and no query or fragment: safe for
 * a terminal or a CI log. (URL.origin never includes user info.)
 */
export function displayUrl(url: URL): string {
  const path = url.pathname.replace(SIGNED_LINK, (_all, head: string, _token: string, tail?: string) => {
    return `${head}…${tail ?? ''}`;
  });
  return `${url.origin}${path}`;
}

/** `/dl/{token}`: a signed link, which carries its own authorization. */
export function isSignedLink(url: URL): boolean {
  const match = SIGNED_LINK.exec(url.pathname);
  return match !== null && (match[3] === undefined || match[3] === '/');
}

/** The token of a signed link, so it can be scrubbed from anything printed. */
export function signedLinkToken(url: URL): string | undefined {
  const match = SIGNED_LINK.exec(url.pathname);
  return match === null ? undefined : decodeURIComponent(match[2] as string);
}

/** The org, kind and version an API bundle URL asks for (`version` may be `latest`). */
export function requestedBundle(url: URL): { orgId: string; kind: string; version: string } | undefined {
  const match = API_BUNDLE.exec(url.pathname);
  if (match === null) return undefined;
  const [orgId, kind, version] = match.slice(1).map((part) => decodeURIComponent(part)) as [
    string,
    string,
    string,
  ];
  return { orgId, kind, version };
}

export interface CompanionUrls {
  readonly statement: URL;
  readonly signature: URL;
}

/**
 * The statement and signature URLs the contract gives for a bundle URL: `.../bundle.sha256`
 * beside an API bundle, `/dl/{token}/bundle.sha256` under a link. Undefined for any other shape
 * (then the bundle response's Link header says).
 */
export function companionUrls(bundleUrl: URL): CompanionUrls | undefined {
  const path = bundleUrl.pathname;
  let stem: string;
  if (isSignedLink(bundleUrl)) stem = `${path.replace(/\/$/, '')}/bundle`;
  else if (API_BUNDLE.test(path)) stem = path;
  else return undefined;
  const at = (suffix: string) => {
    const url = new URL(bundleUrl.href);
    url.pathname = `${stem}${suffix}`;
    url.hash = '';
    return url;
  };
  return { statement: at('.sha256'), signature: at('.sig') };
}

/** The statement and signature named by a `Link` header, resolved against the request URL. */
export function companionUrlsFromLink(header: string | null, requestUrl: URL): CompanionUrls | undefined {
  if (header === null) return undefined;
  const links = parseLinkHeader(header, requestUrl);
  const statement = links.get(STATEMENT_REL);
  const signature = links.get(SIGNATURE_REL);
  return statement === undefined || signature === undefined ? undefined : { statement, signature };
}

/** `<uri>; rel="a b", <uri>; rel=c` (RFC 8288), by relation type; malformed entries are skipped. */
export function parseLinkHeader(header: string, base: URL): Map<string, URL> {
  const links = new Map<string, URL>();
  // A parameter value may be a quoted string holding ',' or ';'.
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,"]*(?:"[^"]*"[^;,"]*)*)*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? '');
    if (rel === null) continue;
    let target: URL;
    try {
      target = new URL(match[1] as string, base);
    } catch {
      continue;
    }
    for (const type of (rel[1] ?? rel[2] ?? '').toLowerCase().split(/\s+/))
      if (type !== '' && !links.has(type)) links.set(type, target);
  }
  return links;
}

/** Where the service publishes every signing key it uses (`kid` = key id). */
export function jwksUrl(url: URL): URL {
  return new URL('/.well-known/agentpack/jwks.json', url.origin);
}
