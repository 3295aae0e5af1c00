// PostGraphile v5 over the hub's database, for benchmarks/run. The environment gives the
// connection (BENCH_DATABASE_URL, as the read-only role of setup.sql), the port
// (BENCH_PORT) and the pool size (BENCH_POOL_SIZE, as many as the load generator opens).
//
// Bearer tokens (workload W1p) are verified as the hub verifies its own: ES256 JWT access
// tokens (RFC 9068, `typ: at+jwt`) checked against the hub's published keys (BENCH_JWKS_FILE,
// the hub's /.well-known/jwks.json saved by the harness), its issuer (BENCH_JWT_ISSUER) and
// audience (BENCH_JWT_AUDIENCE), with `jose`. The token's tier claim picks the database role
// that PostGraphile switches to for the request (pgSettings.role, setup.sql's roles), which is
// how PostGraphile is meant to authorise: PostgreSQL's row-level security does the rest. A
// request without a token runs as the connecting role, as the public; a token that does not
// verify is refused, never downgraded.
import { readFileSync } from "node:fs";

import { createLocalJWKSet, jwtVerify } from "jose";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

/** The hub's tier claim (hub/auth/authenticate.py, TIER_CLAIM) and the role of each tier. */
const TIER_CLAIM = "hub_tier";
const ROLES = { partner: "bench_partner" };

const keys = process.env.BENCH_JWKS_FILE
  ? createLocalJWKSet(JSON.parse(readFileSync(process.env.BENCH_JWKS_FILE, "utf8")))
  : null;

async function pgSettingsOf(authorization) {
  if (!authorization) {
    return {};
  }
  const [scheme, token] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() !== "bearer" || !token || keys === null) {
    throw new Error("expected 'Authorization: Bearer <token>' and a configured JWKS");
  }
  const { payload } = await jwtVerify(token, keys, {
    algorithms: ["ES256"],
    typ: "at+jwt",
    issuer: process.env.BENCH_JWT_ISSUER,
    audience: process.env.BENCH_JWT_AUDIENCE,
  });
  const role = ROLES[payload[TIER_CLAIM]];
  if (role === undefined) {
    throw new Error(`token lacks a known ${TIER_CLAIM} claim`);
  }
  return { role, "jwt.claims.client_id": String(payload.client_id ?? "") };
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.BENCH_POOL_SIZE ?? 20) },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.BENCH_PORT ?? 4202),
    graphiql: false,
    watch: false,
  },
  grafast: {
    explain: false,
    async context(requestContext) {
      return { pgSettings: await pgSettingsOf(requestContext.http?.getHeader("authorization")) };
    },
  },
};

export default preset;
