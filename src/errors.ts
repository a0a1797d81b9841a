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

/** Too many requests or failures; the HTTP answer carries `Retry-After: retryAfterSeconds`. */
export class RateLimitedError extends AgentpackError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super('RATE_LIMITED', message, 429);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

export function isAgentpackError(error: unknown): error is AgentpackError {
  return error instanceof AgentpackError;
}
