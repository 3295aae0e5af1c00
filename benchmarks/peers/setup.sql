-- What PostGraphile needs to return the data the hub returns to the public, run by benchmarks/run
-- on the benchmark database after `hub demo seed`, as a superuser. Nothing here changes what the
-- hub or pgbench see: they connect as the superuser, which row-level security does not touch.
--
-- 1. PostGraphile connects as the role bench_postgraphile, which may only read, and serves
--    anonymous requests as that role; a partner's verified token (graphile.config.mjs) switches
--    the request to the role bench_partner, which reads what a partner of the hub reads: the
--    same published rows as the public (hub/auth/principal.py, sees_unpublished), so the
--    policies below, written for every role, are its rules too.
-- 2. The hub's public row rules become row-level security policies on the tables themselves, so
--    PostGraphile exposes the real tables with their real foreign keys (its relations):
--    published records only (hub/kit/repository.py, Repository.published), and blacklist
--    entries only while in force (hub/blacklist/repository.py, in_force).
-- 3. A function and a view add what the tables cannot say: the computed column
--    Enterprise.blacklisted and the list of W2, blacklist listings in force with the province
--    of the listed enterprise (allBlacklistListings).
-- 4. W5, the README's whole credit file, needs nothing more: each of its lists is a relation of
--    the tables (credit evaluations, blacklist entries with their removal, licences with their
--    status events, spot checks with their product and failed items, recalls, products), under
--    the same policies. Status events, failed items and removals have no publication of their
--    own: the hub shows them with their visible parent, and W5 reaches them only through it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_postgraphile') THEN
        CREATE ROLE bench_postgraphile LOGIN;
    END IF;
END
$$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_partner') THEN
        CREATE ROLE bench_partner NOLOGIN;
    END IF;
END
$$;
-- SET ROLE bench_partner is allowed to the connecting role, as PostGraphile's pgSettings need.
GRANT bench_partner TO bench_postgraphile;
GRANT CONNECT ON DATABASE :"dbname" TO bench_postgraphile, bench_partner;
GRANT USAGE ON SCHEMA public TO bench_postgraphile, bench_partner;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO bench_postgraphile, bench_partner;

-- "Today" as the hub means it: the calendar day in Asia/Shanghai; in a schema of its own, which
-- PostGraphile does not expose.
CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO bench_postgraphile, bench_partner;
CREATE FUNCTION bench.today() RETURNS date LANGUAGE sql STABLE
    RETURN (now() AT TIME ZONE 'Asia/Shanghai')::date;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['enterprise', 'credit_evaluation', 'product', 'spot_check',
                                'licence', 'recall', 'consumer_warning']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('CREATE POLICY public_tier ON %I FOR SELECT USING ('
                       'published_at IS NOT NULL AND published_at <= now())', name);
    END LOOP;
END
$$;

ALTER TABLE blacklist_entry ENABLE ROW LEVEL SECURITY;
CREATE POLICY public_tier ON blacklist_entry FOR SELECT USING (
    published_at <= now()
    AND listed_on <= bench.today()
    AND publicity_ends_on >= bench.today()
    AND NOT EXISTS (
        SELECT FROM blacklist_removal r WHERE r.entry_id = blacklist_entry.id AND r.removed_on <= bench.today()
    )
);

-- Enterprise.blacklisted: a listing in force today, exactly the hub's condition.
CREATE FUNCTION enterprise_blacklisted(e enterprise) RETURNS boolean LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (
        SELECT FROM blacklist_entry b
        WHERE b.enterprise_id = e.id
          AND b.published_at <= now()
          AND b.listed_on <= bench.today()
          AND b.publicity_ends_on >= bench.today()
          AND NOT EXISTS (
              SELECT FROM blacklist_removal r WHERE r.entry_id = b.id AND r.removed_on <= bench.today()
          )
    )
$$;
COMMENT ON FUNCTION enterprise_blacklisted(enterprise) IS
    E'@notNull\nWhether the enterprise has a blacklist listing in force today.';

-- W2's list: the blacklist listings in force, each with the province of the listed enterprise,
-- as the hub's `blacklist(filter: {regionCode})` lists them: from the entry's copy of its
-- enterprise's region (blacklist_entry.region_code, kept by the schema's triggers), which the
-- hub filters on too, so the province is the enterprise's whether or not the enterprise is
-- published, and the in-force condition is the view's own. Smart tags give the view the
-- primary key and the relation to the enterprise that a table would have; PostGraphile then
-- fetches page and names in one statement.
CREATE VIEW blacklist_listing AS
    SELECT b.*, (left(b.region_code, 2) || '0000')::char(6) AS province_code
    FROM blacklist_entry b
    WHERE b.published_at <= now()
      AND b.listed_on <= bench.today()
      AND b.publicity_ends_on >= bench.today()
      AND NOT EXISTS (
          SELECT FROM blacklist_removal r WHERE r.entry_id = b.id AND r.removed_on <= bench.today()
      );
COMMENT ON VIEW blacklist_listing IS E'@primaryKey id\n@foreignKey (enterprise_id) references enterprise (id)\nBlacklist listings in force, with the province of the listed enterprise.';
GRANT SELECT ON blacklist_listing TO bench_postgraphile, bench_partner;
-- The planner's estimate of the province condition: without statistics of the expression it
-- expects 0.5 % of the listings to match and may choose a plan for a rare province.
-- Statistics, not an index: no new access path.
CREATE STATISTICS bench.blacklist_entry_province
    ON ((left(region_code, 2) || '0000')::char(6)) FROM blacklist_entry;

ANALYZE;
