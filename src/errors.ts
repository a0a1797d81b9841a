/**
 * Errors users can act on. Each carries a stable code and the HTTP status it maps to;
 * the message says what was expected and what was found, and never holds a secret.
 */
export class AgentpackError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentpackError';
    this.code = code;
    this.status = status;
  }
}

/** A base archive that must not enter the catalog (CLI exit 2, HTTP 422). */
export class ArchiveError extends AgentpackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARCHIVE_INVALID', message, 422, options);
    this.name = 'ArchiveError';
  }
}

/** Wrong command-line use or bad input given to a command (CLI exit 2). */
export class UsageError extends AgentpackError {
  constructor(message: string) {
    super('USAGE', message, 400);
    this.name = 'UsageError';
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

export function isAgentpackError(error: unknown): error is AgentpackError {
  return error instanceof AgentpackError;
}

/** Seconds a client is asked to wait (`Retry-After`) before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** What failed: the metadata database, the blob store, or the local disk that spools uploads. */
export type Dependency = 'database' | 'storage' | 'disk';

/**
 * A dependency (the metadata database, the blob store) refused, dropped or did not answer a call
 * in time: 503 with Retry-After. The message (for the log) names the component and the driver's
 * error name; the client only learns which dependency is unavailable (see `publicMessage`).
 */
export class UnavailableError extends AgentpackError {
  readonly dependency: Dependency;
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;

  constructor(dependency: Dependency, message: string, options?: { cause?: unknown }) {
    super(dependency === 'database' ? 'DATABASE_UNAVAILABLE' : 'STORAGE_UNAVAILABLE', message, 503, options);
    this.name = 'UnavailableError';
    this.dependency = dependency;
  }

  /** What the client is told: which dependency, never the driver's text. */
  get publicMessage(): string {
    return `the ${dependency(this.dependency)} is unavailable; retry later`;
  }
}

/** No space left where a write had to go (disk, database, bucket quota): 507. */
export class InsufficientStorageError extends AgentpackError {
  readonly dependency: Dependency;

  constructor(dependency: Dependency, message: string, options?: { cause?: unknown }) {
    super('INSUFFICIENT_STORAGE', message, 507, options);
    this.name = 'InsufficientStorageError';
    this.dependency = dependency;
  }

  get publicMessage(): string {
    return `the ${dependency(this.dependency)} has no space left; nothing was stored`;
  }
}

function dependency(which: Dependency): string {
  return { database: 'database', storage: 'blob store', disk: 'local disk' }[which];
}
