export { openSystemStore } from './open.js';
export type { SecretRow, SessionRow, SystemStore } from './types.js';
