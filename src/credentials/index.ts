export { ConfigError } from '../common/errors.js';
export { Credentials, type CredentialsOptions } from './credentials.js';
export { MAX_GRACE_SECONDS, parseDuration } from './duration.js';
export {
  KEY_PATTERN,
  type KeyPurpose,
  keyIdOfKeyText,
  mintKey,
  type ParsedKey,
  parseKey,
} from './key-format.js';
export {
  keyringFrom,
  loadMasterKeyring,
  type MasterKeyring,
  masterKeyId,
  parseMasterKeys,
} from './keyring.js';
export { type OpenedCredentials, openCredentials } from './open.js';
export type * from './types.js';
export { KEY_WHICH } from './types.js';
