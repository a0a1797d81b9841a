// `npm start` until the service lands: packs the sample Java agent with freshly minted demo
// credentials and prints where the signed bundle is and how to check it.
import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { runCli } from '../dist/cli/run.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const random = (n) => Array.from({ length: n }, () => BASE62[randomInt(62)]).join('');
const checksum = (text) => {
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
};
const key = (prefix) => {
  const body = `${prefix}_${random(12)}_${random(24)}`;
  return body + checksum(body);
};

const dir = 'data/demo';
await mkdir(dir, { recursive: true });
const out = `${dir}/agentpack-java-agent-demo.jar`;
const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
};
const code = await runCli(
  [
    'pack',
    '--base',
    'fixtures/java-agent/agentpack-java-agent.jar',
    '--kind',
    'java',
    '--out',
    out,
    '--org',
    'demo',
    '--version',
    '1.0.0',
    '--set',
    'api.url=http://localhost:8080',
    '--set',
    `api.api_key=${key('apo')}`,
    '--set',
    `api.service_key=${key('aps')}`,
    '--set',
    'api.user_name=agent_demo@demo',
  ],
  io,
);
if (code === 0) console.log(`\nrun it:    java -javaagent:${out} -version`);
process.exitCode = code;
