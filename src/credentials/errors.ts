import { AgentpackError } from '../common/errors.js';

/** Configuration the process cannot start with (bad or missing master key, bad database URL). */
export class ConfigError extends AgentpackError {
  constructor(message: string) {
    super('CONFIG_INVALID', message, 400);
    this.name = 'ConfigError';
  }
}
