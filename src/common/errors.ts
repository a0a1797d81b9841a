/**
 * Errors users can act on, and the one table of their codes. Each error carries a stable code
 * and the HTTP status it maps to; the message says what was expected and what was found, and
 * never holds a secret. Over HTTP a 4xx answers `{error: code, message}` (USAGE is sent as
 * BAD_REQUEST), a 5xx answers only `{error: "INTERNAL"}`; the CLI exits 2 below 500, else 1.
 *
 * A code is written here and nowhere else: the classes below take `ErrorCode`s allowed for their
 * status, so the compiler refuses a code that is not in the table or a status it does not list.
 */

interface CodeInfo {
  /** The statuses this code is sent with; most have one. */
  readonly status: readonly [number, ...number[]];
  readonly meaning: string;
}

export const ERROR_CODES = {
  // 400: the request or the command's input is malformed.
  BAD_REQUEST: { status: [400], meaning: 'malformed input: an id, a body, a query or a header' },
  USAGE: { status: [400], meaning: 'wrong command-line use or bad input to a command (HTTP: BAD_REQUEST)' },
  CONFIG_INVALID: {
    status: [400, 500],
    meaning: 'configuration the process cannot start with (500: a store built without its settings)',
  },
  VERSION_INVALID: { status: [400], meaning: 'a version name outside the allowed characters, or "latest"' },
  KIND_NAME_INVALID: { status: [400], meaning: 'an agent kind name outside the allowed characters' },
  SETTING_INVALID: { status: [400], meaning: 'a render setting that is not a string' },
  SETTING_RESERVED: { status: [400], meaning: 'a render setting that agentpack fills itself' },
  CONFIG_VALUE_INVALID: { status: [400], meaning: 'a value that cannot be written into the config format' },
  TEMPLATE_VARIABLE_MISSING: { status: [400], meaning: 'a template variable with no value' },
  UPLOAD_ABORTED: { status: [400], meaning: 'the upload ended before its body did' },
  BAD_RANGE: { status: [400], meaning: 'a Range header that cannot be parsed' },
  STATEMENT_FIELD_INVALID: { status: [400], meaning: 'a signed-statement field that cannot be written' },
  SIGNING_KEY_INVALID: {
    status: [400, 500],
    meaning: 'a signing keyring file that does not hold up (500: not an Ed25519 key when signing)',
  },
  BLOB_KEY_INVALID: { status: [400], meaning: 'a blob key that could escape its store' },
  BLOB_RANGE_INVALID: { status: [400], meaning: 'a blob byte range that is not 0 <= start <= end' },
  BLOB_DIGEST_INVALID: { status: [400], meaning: 'an expected digest that is not 64 lower-case hex digits' },
  UNAUTHENTICATED: { status: [401], meaning: 'missing or invalid credentials' },
  FORBIDDEN: { status: [403], meaning: 'not allowed: role, CSRF token, tampered or expired link' },
  NOT_FOUND: { status: [404], meaning: 'no such object, or it belongs to another organization' },
  METHOD_NOT_ALLOWED: { status: [405], meaning: 'the route exists, not with this method (Fastify)' },
  NOT_ACCEPTABLE: { status: [406], meaning: 'no answer in an accepted type (Fastify)' },
  REQUEST_TIMEOUT: { status: [408], meaning: 'the request took too long to arrive (Fastify)' },
  CONFLICT: { status: [409], meaning: 'conflicts with the current state' },
  GONE: { status: [410], meaning: 'the keys or the base a bundle was built from are gone' },
  LENGTH_REQUIRED: { status: [411], meaning: 'a body without a length (Fastify)' },
  PAYLOAD_TOO_LARGE: { status: [413], meaning: 'a body over its limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: [415], meaning: 'a body of a type the route does not take (Fastify)' },
  RANGE_NOT_SATISFIABLE: { status: [416], meaning: 'a byte range outside the object' },
  // 422: well-formed, but the content is refused.
  UNPROCESSABLE: { status: [422], meaning: 'content refused (Fastify)' },
  ARCHIVE_INVALID: { status: [422], meaning: 'a base archive that must not enter the catalog' },
  BLOB_DIGEST_MISMATCH: { status: [422], meaning: 'stored bytes that do not hash to the expected digest' },
  DIGEST_MISMATCH: { status: [422], meaning: 'a bundle whose digest is not the signed one' },
  SIGNATURE_INVALID: { status: [422], meaning: 'a signature that does not verify, or is not one' },
  SIGNING_KEY_UNKNOWN: { status: [422], meaning: 'a statement signed by a key not among those given' },
  STATEMENT_INVALID: { status: [422], meaning: 'a signed statement that cannot be parsed' },
  STATEMENT_MISMATCH: { status: [422], meaning: 'a signed statement for another org, kind or version' },
  FILE_NAME_UNSAFE: { status: [422], meaning: 'a statement naming a file that is not a plain name' },
  RATE_LIMITED: { status: [429], meaning: 'too many requests or failed authentications' },
  INTERRUPTED: { status: [499], meaning: 'the user pressed Ctrl-C (CLI)' },
  // 500: our fault or the operator's; details stay in the log.
  INTERNAL: { status: [500], meaning: 'internal error; the details are only in the log' },
  STORAGE_FAILED: { status: [500, 502], meaning: 'the blob store failed (502: S3 answered wrongly)' },
  BASE_TRUNCATED: { status: [500], meaning: 'a stored base shorter than its catalog entry' },
  BUNDLE_MISMATCH: { status: [500], meaning: 'a bundle rebuilt to another digest' },
  KEY_MISSING: { status: [500], meaning: 'an organization without one of its keys' },
  AUDIT_SECRET: { status: [500], meaning: 'an audit entry that would hold a key' },
  AUDIT_INVALID: { status: [500], meaning: 'an audit entry with fields out of bounds' },
  MASTER_KEY_MISSING: { status: [500], meaning: 'a record sealed under a master key not configured' },
  SECRET_UNREADABLE: { status: [500], meaning: 'a stored secret that does not decrypt' },
  TEMPLATE_FAILED: { status: [500], meaning: 'a template that does not render' },
  UPLOAD_INVALID: { status: [500], meaning: 'an upload route whose body was consumed by a parser (a bug)' },
  KIND_TEMPLATE_INVALID: { status: [500], meaning: "a kind's template that does not compile" },
  KIND_MANIFEST_INVALID: { status: [500], meaning: "a kind's kind.json that does not hold up" },
  MIGRATION_FAILED: { status: [500], meaning: 'a database migration failed' },
  BLOB_SOURCE_INVALID: { status: [500], meaning: 'a blob source that yields something other than bytes' },
  LINK_KEY_INVALID: { status: [500], meaning: 'a stored link key of the wrong size' },
  SECRET_NAME_INVALID: { status: [500], meaning: 'a system secret name outside the allowed ones' },
  SECRET_LOST: { status: [500], meaning: 'a system secret vanished while being created' },
  // 502: someone we talked to answered wrongly (the CLI's HttpError also relays a server's code).
  NETWORK: { status: [502], meaning: 'the server could not be reached or cut the transfer short' },
  BAD_ANSWER: { status: [502], meaning: 'the server answered, not what was asked for' },
  NO_PROGRESS: { status: [502], meaning: 'the server kept asking to start the download over' },
  SIZE_MISMATCH: { status: [502], meaning: 'the server sent another number of bytes than it said' },
  NO_STATEMENT_LINK: { status: [502], meaning: 'a download with no statement and signature links' },
  UNAVAILABLE: { status: [503], meaning: 'not ready, or the service is not offered by this instance' },
  STORAGE_UNAVAILABLE: {
    status: [503],
    meaning: 'the blob store or the local disk failed or did not answer in time',
  },
  DATABASE_UNAVAILABLE: { status: [503], meaning: 'the metadata database failed or did not answer in time' },
  SIGNING_ROTATE_CONFLICT: { status: [503], meaning: 'signing key rotation kept racing another writer' },
  INSUFFICIENT_STORAGE: {
    status: [507],
    meaning: 'no space left on the disk, in the database or the bucket',
  },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes the table allows with status S. */
export type CodeFor<S extends number> = {
  [C in ErrorCode]: S extends (typeof ERROR_CODES)[C]['status'][number] ? C : never;
}[ErrorCode];

/** A code another agentpack server sent, relayed as is by the CLI's HttpError. */
export type RelayedCode = string & { readonly relayed: true };

type Options = { cause?: unknown };

export class AgentpackError extends Error {
  readonly code: ErrorCode | RelayedCode;
  readonly status: number;

  /** Protected: throw one of the classes below, which take only codes the table allows. */
  protected constructor(code: ErrorCode | RelayedCode, message: string, status: number, options?: Options) {
    super(message, options);
    this.name = 'AgentpackError';
    this.code = code;
    this.status = status;
  }
}

/** 400: malformed input. */
export class BadRequestError extends AgentpackError {
  constructor(code: CodeFor<400>, message: string, options?: Options) {
    super(code, message, 400, options);
    this.name = 'BadRequestError';
  }
}

/** Wrong command-line use or bad input given to a command (CLI exit 2; HTTP 400 BAD_REQUEST). */
export class UsageError extends BadRequestError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/**
 * Configuration the process cannot start with (bad variable, master key or database URL); the
 * message names the variable, never a secret.
 */
export class ConfigError extends BadRequestError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

const CONFIG_PREFIX = 'invalid configuration: ';

/** The one line a bad configuration stops `serve` with, whichever layer found it. */
export function invalidConfiguration(message: string): ConfigError {
  return new ConfigError(message.startsWith(CONFIG_PREFIX) ? message : `${CONFIG_PREFIX}${message}`);
}

export class UnauthenticatedError extends AgentpackError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message, 401);
    this.name = 'UnauthenticatedError';
  }
}

export class ForbiddenError extends AgentpackError {
  constructor(message: string) {
    super('FORBIDDEN', message, 403);
    this.name = 'ForbiddenError';
  }
}

export class NotFoundError extends AgentpackError {
  constructor(message: string) {
    super('NOT_FOUND', message, 404);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends AgentpackError {
  constructor(message: string) {
    super('CONFLICT', message, 409);
    this.name = 'ConflictError';
  }
}

/** What a bundle was built from is gone (expired keys, a withdrawn base). */
export class GoneError extends AgentpackError {
  constructor(message: string) {
    super('GONE', message, 410);
    this.name = 'GoneError';
  }
}

export class PayloadTooLargeError extends AgentpackError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message, 413);
    this.name = 'PayloadTooLargeError';
  }
}

export class RangeNotSatisfiableError extends AgentpackError {
  constructor(message: string) {
    super('RANGE_NOT_SATISFIABLE', message, 416);
    this.name = 'RangeNotSatisfiableError';
  }
}

/** 422: well-formed, but the content is refused. */
export class UnprocessableError extends AgentpackError {
  constructor(code: CodeFor<422>, message: string, options?: Options) {
    super(code, message, 422, options);
    this.name = 'UnprocessableError';
  }
}

/** A base archive that must not enter the catalog (CLI exit 2, HTTP 422). */
export class ArchiveError extends UnprocessableError {
  constructor(message: string, options?: Options) {
    super('ARCHIVE_INVALID', message, options);
    this.name = 'ArchiveError';
  }
}

/** Too many requests or failures; the HTTP answer carries `Retry-After: retryAfterSeconds`. */
export class RateLimitedError extends AgentpackError {
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, retryAfterSeconds?: number) {
    super('RATE_LIMITED', message, 429);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds =
      retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/** 499, as nginx names it: the client gave up (the CLI's Ctrl-C). */
export class CanceledError extends AgentpackError {
  constructor(message: string) {
    super('INTERRUPTED', message, 499);
    this.name = 'CanceledError';
  }
}

/** 500: our fault or the operator's. The client sees only INTERNAL; the log has the rest. */
export class InternalError extends AgentpackError {
  constructor(code: CodeFor<500>, message: string, options?: Options) {
    super(code, message, 500, options);
    this.name = 'InternalError';
  }
}

/** 502: a server we talked to (S3, or agentpack for the CLI) answered wrongly or not at all. */
export class BadGatewayError extends AgentpackError {
  constructor(code: CodeFor<502> | RelayedCode, message: string, options?: Options) {
    super(code, message, 502, options);
    this.name = 'BadGatewayError';
  }
}

/** 503 for a reason of our own (not ready, a race lost); see UnavailableError for dependencies. */
export class ServiceUnavailableError extends AgentpackError {
  constructor(code: CodeFor<503>, message: string, options?: Options) {
    super(code, message, 503, options);
    this.name = 'ServiceUnavailableError';
  }
}

/** Seconds a client is asked to wait (`Retry-After`) before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** What failed: the metadata database, the blob store, or the local disk that spools uploads. */
export type Dependency = 'database' | 'storage' | 'disk';

/**
 * A dependency (the metadata database, the blob store, the local disk) refused, dropped or did
 * not answer a call in time: 503 with Retry-After. The message (for the log) names the component
 * and the driver's error name; the client only learns which dependency is unavailable.
 */
export class UnavailableError extends AgentpackError {
  readonly dependency: Dependency;
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;

  constructor(dependency: Dependency, message: string, options?: Options) {
    super(dependency === 'database' ? 'DATABASE_UNAVAILABLE' : 'STORAGE_UNAVAILABLE', message, 503, options);
    this.name = 'UnavailableError';
    this.dependency = dependency;
  }

  /** What the client is told: which dependency, never the driver's text. */
  get publicMessage(): string {
    return `the ${dependencyName(this.dependency)} is unavailable; retry later`;
  }
}

/** No space left where a write had to go (disk, database, bucket quota): 507. */
export class InsufficientStorageError extends AgentpackError {
  readonly dependency: Dependency;

  constructor(dependency: Dependency, message: string, options?: Options) {
    super('INSUFFICIENT_STORAGE', message, 507, options);
    this.name = 'InsufficientStorageError';
    this.dependency = dependency;
  }

  get publicMessage(): string {
    return `the ${dependencyName(this.dependency)} has no space left; nothing was stored`;
  }
}

function dependencyName(which: Dependency): string {
  return { database: 'database', storage: 'blob store', disk: 'local disk' }[which];
}

export function isAgentpackError(error: unknown): error is AgentpackError {
  return error instanceof AgentpackError;
}

/** Marks a code as another server's, to relay it (its own table is not ours to check). */
export function relayed(code: string): RelayedCode {
  return code as RelayedCode;
}
