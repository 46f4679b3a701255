/**
 * CPU per JWT verification with the key already cached, through Tollgate's own verifier
 * (`createJwtVerifier`, src/identity/jwt.ts): RS256, ES256 and EdDSA against a JWKS served by a
 * local HTTP server on 127.0.0.1 (fetched once before measuring, then cached), HS256 against
 * `JWT_SECRET`. Every verification checks `exp`/`nbf`, the issuer and the audience and reads the
 * identity and tier claims, as on the request path. The algorithms take turns in rounds (the
 * order rotated each round); the figure is the median round's CPU µs per verification.
 *
 *   npx tsx bench/jwt.ts                 (about 10 s)
 *   BENCH_JWT_ROUNDS=9 BENCH_JWT_VERIFICATIONS=4000 npx tsx bench/jwt.ts
 *
 * Also a section of `npm run bench` (BENCH_SECTIONS=jwt).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createJwtVerifier, type JwtConfig, type JwtVerifier } from '../src/identity/jwt.js';
import { quantile } from './paired.js';

export interface JwtSettings {
  /** Rounds; each verifies `verifications` tokens per algorithm. */
  readonly rounds: number;
  readonly verifications: number;
  /** Distinct tokens (users) per algorithm, verified in turn. */
  readonly tokens: number;
}

export interface JwtAlgorithmResult {
  readonly algorithm: string;
  /** Where the key comes from: `JWKS (cached)` or `JWT_SECRET`. */
  readonly key: string;
  /** CPU µs per verification (user + system of this process), per round, in order. */
  readonly cpuUsPerRound: readonly number[];
  readonly cpuUsMedian: number;
  /** Wall µs per verification, median round (verifications one after another). */
  readonly wallUsMedian: number;
  readonly verificationsPerRound: number;
}

export interface JwtResult {
  readonly rounds: number;
  readonly tokens: number;
  readonly algorithms: readonly JwtAlgorithmResult[];
}

export const defaultJwtSettings = (env: NodeJS.ProcessEnv = process.env): JwtSettings => ({
  rounds: Number(env['BENCH_JWT_ROUNDS'] ?? 7),
  verifications: Number(env['BENCH_JWT_VERIFICATIONS'] ?? 2000),
  // As many distinct tokens as verifications: the verifier remembers a token it has verified, so
  // a repeated token would measure that memory, not a verification.
  tokens: Number(env['BENCH_JWT_TOKENS'] ?? env['BENCH_JWT_VERIFICATIONS'] ?? 2000),
});

const issuer = 'https://issuer.bench.invalid/';
const audience = 'tollgate-bench';

const config = (keys: { jwksUrl?: string; secret?: string }): JwtConfig => ({
  jwksUrl: keys.jwksUrl,
  secret: keys.secret,
  issuer,
  audience,
  identityClaim: 'sub',
  tierClaim: 'tier',
  clockToleranceSeconds: 30,
  jwksTimeoutMs: 1000,
  jwksCooldownMs: 30_000,
});

/** `count` tokens for distinct users, signed with `key`, valid for an hour. */
export async function signTokens(alg: string, key: CryptoKey | Uint8Array, count: number, kid?: string): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      new SignJWT({ tier: i % 10 === 0 ? 'pro' : 'free' })
        .setProtectedHeader({ alg, ...(kid !== undefined ? { kid } : {}) })
        .setSubject(`user-${i}`)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setNotBefore(now - 5)
        .setExpirationTime(now + 3600)
        .sign(key),
    ),
  );
}

interface Contender {
  readonly algorithm: string;
  readonly key: string;
  /** A new verifier: each run has its own, so none of its tokens has been seen. */
  readonly make: () => JwtVerifier;
  readonly tokens: readonly string[];
}

export async function measureJwt(settings: JwtSettings, log: (message: string) => void = () => {}): Promise<JwtResult> {
  // One key per asymmetric algorithm, all public keys in one JWKS behind a local server.
  const asymmetric = [
    { alg: 'RS256', options: { modulusLength: 2048 } },
    { alg: 'ES256', options: {} },
    { alg: 'EdDSA', options: { crv: 'Ed25519' } },
  ];
  const pairs = await Promise.all(asymmetric.map(({ alg, options }) => generateKeyPair(alg, options)));
  const jwks: JWK[] = await Promise.all(
    pairs.map(async ({ publicKey }, i) => ({
      ...(await exportJWK(publicKey)),
      kid: `k-${asymmetric[i]!.alg}`,
      alg: asymmetric[i]!.alg,
      use: 'sig',
    })),
  );
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  try {
    const secret = 'bench-secret-of-at-least-thirty-two-bytes!';
    const contenders: Contender[] = [];
    for (const [i, { alg }] of asymmetric.entries()) {
      contenders.push({
        algorithm: alg,
        key: 'JWKS (cached)',
        make: () => createJwtVerifier(config({ jwksUrl })),
        tokens: await signTokens(alg, pairs[i]!.privateKey, settings.tokens, `k-${alg}`),
      });
    }
    contenders.push({
      algorithm: 'HS256',
      key: 'JWT_SECRET',
      make: () => createJwtVerifier(config({ secret })),
      tokens: await signTokens('HS256', new TextEncoder().encode(secret), settings.tokens),
    });

    // Every token verifies (the figures are of accepted tokens).
    for (const c of contenders) {
      const verify = c.make();
      for (const token of c.tokens) {
        const identity = await verify(token);
        if (identity === undefined) throw new Error(`${c.algorithm}: a valid token was refused`);
      }
    }

    // A run: a new verifier, its keys fetched (JWKS) or imported (HS256) by a first token outside
    // the timing, then every other token once: each a verification with the key cached.
    let fetchesWhileTimed = 0;
    const run = async (c: Contender): Promise<{ cpuUs: number; wallUs: number }> => {
      const verify = c.make();
      if ((await verify(c.tokens[0]!)) === undefined) throw new Error(`${c.algorithm}: refused`);
      const n = Math.min(settings.verifications, c.tokens.length - 1);
      const fetchesBefore = fetches;
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 1; i <= n; i++) {
        if ((await verify(c.tokens[i]!)) === undefined) throw new Error(`${c.algorithm}: refused`);
      }
      fetchesWhileTimed += fetches - fetchesBefore;
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      return { cpuUs: (used.user + used.system) / n, wallUs: (wall * 1000) / n };
    };
    // Warm-up: V8 optimises the verifier's path first.
    for (const c of contenders) await run(c);
    const cpu = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
    const wall = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
    for (let r = 0; r < settings.rounds; r++) {
      const shift = r % contenders.length;
      for (const c of [...contenders.slice(shift), ...contenders.slice(0, shift)]) {
        const { cpuUs, wallUs } = await run(c);
        cpu.get(c)!.push(cpuUs);
        wall.get(c)!.push(wallUs);
      }
    }
    if (fetchesWhileTimed > 0) throw new Error(`the JWKS was fetched ${fetchesWhileTimed} times while measuring`);
    const algorithms = contenders.map((c) => ({
      algorithm: c.algorithm,
      key: c.key,
      cpuUsPerRound: cpu.get(c)!,
      cpuUsMedian: quantile(cpu.get(c)!, 0.5),
      wallUsMedian: quantile(wall.get(c)!, 0.5),
      verificationsPerRound: Math.min(settings.verifications, settings.tokens - 1),
    }));
    for (const a of algorithms) {
      log(
        `jwt ${a.algorithm.padEnd(6)} ${a.key.padEnd(14)} ${a.cpuUsMedian.toFixed(1).padStart(6)} µs CPU per verification ` +
          `(rounds ${a.cpuUsPerRound.map((x) => x.toFixed(1)).join(' ')}), wall ${a.wallUsMedian.toFixed(1)} µs`,
      );
    }
    return { rounds: settings.rounds, tokens: settings.tokens, algorithms };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const settings = defaultJwtSettings();
  console.log(
    `JWT verification through createJwtVerifier, key cached; ${settings.rounds} rounds × ${settings.verifications} verifications per algorithm, ${settings.tokens} tokens each`,
  );
  await measureJwt(settings, (message) => console.log(message));
}
