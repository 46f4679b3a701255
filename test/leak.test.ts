import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mainScript } from './support/process.js';
import { closeDemo, demoSubgraphs } from './support/gateway.js';
import { freePort, startRedisServer, type RedisServer } from './support/redis-server.js';
import { startUpstashRestServer, type UpstashRestServer } from './support/upstash-rest-server.js';

/**
 * Nothing leaks: the built gateway (dist/node/main.js) runs in production with a password in
 * REDIS_URL, or an Upstash token, at LOG_LEVEL=debug (the most it logs); a corpus of good, bad
 * and hostile requests is sent while the store works and while it is down, and while a subgraph
 * is unreachable. Every response (status line, headers, body) and every line the process writes
 * (stdout and stderr, JSON or not) is collected and searched for the secrets, stack traces and
 * file paths.
 */

const redisPassword = 'S3cret-redis-PASSW0RD-7f3a';
const upstashToken = 'upstash-T0KEN-9c41e2-secret';

/** What must never appear, with why. */
function forbidden(redisUrl: string | undefined): [string, RegExp][] {
  const literal = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return [
    ['the Redis password', literal(redisPassword)],
    ['the Upstash token', literal(upstashToken)],
    ...(redisUrl ? ([['the Redis URL', literal(redisUrl)]] as [string, RegExp][]) : []),
    // Masked credentials (`redis://:***@host`) are fine; real ones are not.
    ['a redis:// URL with credentials', /rediss?:\/\/(?![^\s"@]*\*\*\*@)[^\s"@]*@/],
    ['a stack frame', /\bat [\w$.<>]+ \(|\n\s+at |\\n\s+at /],
    ['a file path of the deployment', new RegExp(`${literal(process.cwd()).source}|node_modules/|file:///`)],
    ['a source location', /\.(?:[cm]?js|ts):\d+:\d+/],
  ];
}

interface Run {
  readonly url: string;
  /** Every chunk the process wrote, stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

async function startProcess(env: Record<string, string>): Promise<Run> {
  const child: ChildProcess = spawn(process.execPath, [mainScript], {
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', ENVIRONMENT: 'production', LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${output}`)), 30_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      const started = /"msg":"started".*?"url":"([^"]+)\/graphql"/.exec(output);
      if (started) {
        clearTimeout(timer);
        resolve(started[1]!);
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => reject(new Error(`exited before serving: ${output}`)));
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A raw exchange, so every byte of the answer (status line, headers, body) is seen. */
function exchange(url: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const head = `HTTP ${res.statusCode} ${res.statusMessage}\n${Object.entries(res.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n')}`;
        resolve(`${head}\n\n${Buffer.concat(chunks).toString()}`);
      });
      res.on('error', (error) => resolve(`response error ${error.message}`));
    });
    req.on('error', (error) => resolve(`request error ${error.message}`));
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const q = (query: string, extra: Record<string, unknown> = {}) => JSON.stringify({ query, ...extra });

/** Good, bad and hostile requests: everything that makes the gateway answer or log an error. */
async function corpus(url: string): Promise<string[]> {
  const answers: string[] = [];
  const send = async (method: string, path: string, headers: Record<string, string>, body?: string | Buffer) =>
    void answers.push(await exchange(url, method, path, headers, body));
  await send('POST', '/graphql', json, q('{ topProducts { name price } }'));
  await send('POST', '/graphql', json, q('{ topProducts { name reviews { body } } }')); // reviews is unreachable
  await send('POST', '/graphql', json, q('{ reviews { body } }'));
  await send('POST', '/graphql', json, q('{ boom }')); // a subgraph resolver that throws
  await send('POST', '/graphql', { ...json, accept: 'application/graphql-response+json' }, q('{ boom }'));
  await send('POST', '/graphql', json, q('{ __schema { types { name } } }'));
  await send('POST', '/graphql', json, q('{ topProduct { name } }'));
  await send(
    'POST',
    '/graphql',
    json,
    q('{ topProducts { reviews { author { reviews { product { reviews { author { reviews { body } } } } } } } } }'),
  );
  await send('POST', '/graphql', json, q(`{ ${'topProducts { name } '.repeat(120)}}`));
  await send('POST', '/graphql', json, q('query Q($n: Int) { topProducts(first: $n) { name } }', { variables: { n: 'many' } }));
  await send('POST', '/graphql', json, '{"query": "{ topProducts { name } ",');
  await send('POST', '/graphql', json, Buffer.from([0xff, 0xfe, 0x00, 0x01]));
  await send('POST', '/graphql', json, JSON.stringify({ query: '{ topProducts { name } }', pad: 'x'.repeat(200_000) }));
  await send('POST', '/graphql', { 'content-type': 'text/plain' }, 'hello');
  await send('GET', `/graphql?query=${encodeURIComponent('{ topProducts { name } }')}&variables=%7Bnot-json`, {});
  await send('GET', `/graphql?query=${encodeURIComponent('mutation { __typename }')}`, {});
  await send('GET', '/graphql', { accept: 'text/event-stream' });
  await send('DELETE', '/graphql', {});
  await send('GET', '/../../etc/passwd', {});
  await send('GET', '/readiness', {});
  await send('GET', '/healthcheck', {});
  await send(
    'POST',
    '/graphql',
    { ...json, 'x-forwarded-for': '1.2.3.4', 'x-request-id': 'bad id with spaces' },
    q('{ topProducts { upc } }'),
  );
  await send('OPTIONS', '/graphql', { origin: 'https://evil.example', 'access-control-request-method': 'POST' });
  return answers;
}

function assertClean(name: string, text: string, redisUrl: string | undefined): void {
  for (const [what, pattern] of forbidden(redisUrl)) {
    const match = pattern.exec(text);
    assert.equal(match, null, `${name} contains ${what}: …${match ? text.slice(Math.max(0, match.index - 200), match.index + 200) : ''}…`);
  }
}

describe('nothing leaks: production responses and log lines carry no secrets, stack traces or file paths', () => {
  let dir: string;
  let supergraph: string;
  before(async () => {
    // The demo supergraph with the reviews subgraph unreachable.
    const demo = await demoSubgraphs();
    const reviews = demo.subgraphs.find((s) => s.name === 'reviews')!;
    dir = mkdtempSync(join(tmpdir(), 'tollgate-leak-'));
    supergraph = join(dir, 'supergraph.graphql');
    writeFileSync(supergraph, demo.supergraphSdl.replace(reviews.url, `http://127.0.0.1:${await freePort()}/graphql`));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await closeDemo();
  });

  test('REDIS_URL with a password: while Redis works, and after it dies', async () => {
    const redis: RedisServer = await startRedisServer({ args: ['--requirepass', redisPassword] });
    const redisUrl = `redis://:${redisPassword}@127.0.0.1:${redis.port}/0`;
    const run = await startProcess({
      SUPERGRAPH: supergraph,
      REDIS_URL: redisUrl,
      RATE_LIMIT_MAX_REQUESTS: '1000',
      RATE_LIMIT_TIMEOUT_MS: '100',
    });
    try {
      const answers = await corpus(run.url);
      await redis.kill();
      answers.push(...(await corpus(run.url)));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await run.stop();
      const output = run.output();
      // The run did what it should: store failures and subgraph errors were logged, the gateway answered.
      assert.match(output, /"store":"redis"/);
      assert.match(output, /fail open|failed-open|"rateLimit":"failed-open"/);
      assert.match(output, /"component":"runtime"/);
      assert.ok(answers.filter((a) => a.startsWith('HTTP 200')).length >= 10);
      for (const [i, answer] of answers.entries()) assertClean(`response ${i}`, answer, redisUrl);
      assertClean('the log', output, redisUrl);
    } finally {
      await run.stop();
      await redis.stop();
    }
  });

  test('an Upstash token: while the REST endpoint works, and after it is gone', async () => {
    const redis = await startRedisServer();
    const upstash: UpstashRestServer = await startUpstashRestServer({ redisUrl: redis.url, token: upstashToken });
    const run = await startProcess({
      SUPERGRAPH: supergraph,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstashToken,
      RATE_LIMIT_MAX_REQUESTS: '1000',
      RATE_LIMIT_TIMEOUT_MS: '200',
    });
    try {
      const answers = await corpus(run.url);
      assert.ok((upstash.requests['/'] ?? 0) + (upstash.requests['/pipeline'] ?? 0) > 0, 'the store was used');
      await upstash.close();
      answers.push(...(await corpus(run.url)));
      await run.stop();
      const output = run.output();
      assert.match(output, /"store":"upstash"/);
      for (const [i, answer] of answers.entries()) assertClean(`response ${i}`, answer, undefined);
      assertClean('the log', output, undefined);
    } finally {
      await run.stop();
      await redis.stop();
    }
  });
});
