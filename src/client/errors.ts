import { VerificationError } from '../bundles/signature.js';
import {
  BadGatewayError,
  CanceledError,
  type CodeFor,
  type RelayedCode,
  UsageError,
} from '../common/errors.js';
import { KeyFetchError } from './keys.js';

/** The server could not be reached, stopped answering, or cut the transfer short. */
export class NetworkError extends BadGatewayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK', message, options);
    this.name = 'NetworkError';
  }
}

/** The server answered with an error status; `code` is its JSON `error` code when it gave one. */
export class HttpError extends BadGatewayError {
  readonly httpStatus: number;

  constructor(code: CodeFor<502> | RelayedCode, message: string, httpStatus: number) {
    super(code, message);
    this.name = 'HttpError';
    this.httpStatus = httpStatus;
  }
}

/** The user pressed Ctrl-C (or the caller aborted). */
export class InterruptedError extends CanceledError {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

/**
 * The exit status of a failed download: 1 the bundle does not verify, 2 bad usage or input,
 * 3 the network or the server failed us (including its 4xx answers), 130 interrupted.
 * Undefined for anything else (the CLI's generic report decides).
 */
export function downloadExitCode(error: unknown): number | undefined {
  if (error instanceof InterruptedError) return 130;
  if (error instanceof VerificationError) return 1;
  if (error instanceof NetworkError || error instanceof HttpError || error instanceof KeyFetchError) return 3;
  if (error instanceof UsageError) return 2;
  return undefined;
}
