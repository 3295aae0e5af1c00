// PostGraphile v5 over the hub's database, for benchmarks/run. The environment gives the
// connection (BENCH_DATABASE_URL, as the read-only role of setup.sql), the port
// (BENCH_PORT) and the pool size (BENCH_POOL_SIZE, as many as the load generator opens).
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

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
  grafast: { explain: false },
};

export default preset;
