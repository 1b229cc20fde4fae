-- robots.txt (RFC 9309), fetched per origin and shared by the fleet.
--
-- One row per origin (scheme://host:port). A worker that needs an origin's rules and finds none
-- fresh takes the row's fetch lease (fetching_until) and fetches; the others use the last good copy
-- meanwhile, or hand their jobs back for a moment when there is none. Times are the fetching
-- worker's clock.
CREATE TABLE fetchq.robots_txt (
    origin            text PRIMARY KEY,
    -- The last fetch: when it ended, the status it got (null: no answer), why there was none.
    fetched_at        timestamptz,
    status_code       integer,
    error             text,
    -- When the rules are to be fetched again: 24 h after an answer, sooner after none.
    expires_at        timestamptz NOT NULL,
    -- The last good copy (a 2xx, whose text is kept, or a 4xx: allow all) and when it was fetched:
    -- it serves for up to 30 days while the origin answers 5xx, 429 or nothing.
    good_at           timestamptz,
    good_status       integer,
    body              bytea,
    crawl_delay_ms    integer,
    -- Since when, and how many times in a row, the origin gave no usable answer (null: it did).
    unreachable_since timestamptz,
    failures          integer NOT NULL DEFAULT 0,
    -- The worker fetching it now, and until when its lease holds.
    fetching_by       text,
    fetching_until    timestamptz
);

CREATE VIEW fetchq.robots AS
SELECT origin, fetched_at, status_code, expires_at, crawl_delay_ms, octet_length(body) AS body_bytes,
       good_at, error, unreachable_since
FROM fetchq.robots_txt
WHERE fetched_at IS NOT NULL;

-- Jobs that obey robots.txt: a crawl's pages unless it says otherwise, plain jobs that ask.
ALTER TABLE fetchq.job ADD COLUMN robots boolean NOT NULL DEFAULT false;
ALTER TABLE fetchq.schedule_job ADD COLUMN robots boolean NOT NULL DEFAULT false;

-- A host's rate as the fleet applies it: the admin's, else the workers' configured one, and never
-- faster than its robots.txt's Crawl-delay (the slower of the two wins). Null: no rate.
CREATE FUNCTION fetchq.host_rate(p_admin double precision, p_configured double precision, p_crawl_delay_ms integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_crawl_delay_ms > 0
                THEN LEAST(COALESCE(p_admin, NULLIF(p_configured, 0), 'Infinity'), 1000.0 / p_crawl_delay_ms)
                ELSE COALESCE(p_admin, NULLIF(p_configured, 0)) END
$$;

-- The ledger's rate functions, now with the Crawl-delay (otherwise as in V6).
CREATE OR REPLACE FUNCTION fetchq.take_host_shares(p_worker text, p_hosts text[], p_wants integer[], p_limits integer[],
                                        p_rates double precision[], p_held integer[], p_in_use integer[],
                                        p_lease_ms bigint)
RETURNS TABLE (host text, granted integer, max_in_flight integer, rate_per_s double precision, paused_ms bigint,
               breaker text, open_ms bigint, trials boolean, contended boolean)
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    h fetchq.host;
    lease interval := p_lease_ms * interval '1 millisecond';
    lim integer;
    others integer;
    waiting integer;
    wanting integer;
    give integer;
    blocked boolean;
BEGIN
    FOR i IN SELECT o FROM generate_subscripts(p_hosts, 1) AS o ORDER BY p_hosts[o] COLLATE "C" LOOP
        INSERT INTO fetchq.host AS x (host, default_max_in_flight, default_rate_per_s)
        VALUES (p_hosts[i], p_limits[i], NULLIF(p_rates[i], 0))
        ON CONFLICT DO NOTHING;
        SELECT * INTO h FROM fetchq.host x WHERE x.host = p_hosts[i] FOR UPDATE;
        IF h.default_max_in_flight IS DISTINCT FROM p_limits[i]
           OR h.default_rate_per_s IS DISTINCT FROM NULLIF(p_rates[i], 0) THEN
            UPDATE fetchq.host x SET default_max_in_flight = p_limits[i], default_rate_per_s = NULLIF(p_rates[i], 0)
            WHERE x.host = h.host;
        END IF;
        -- Others' live shares, as committed before the lock was taken.
        SELECT COALESCE(sum(s.slots), 0), count(*) FILTER (WHERE s.wanted > s.slots), count(*) FILTER (WHERE s.wanted > 0)
        INTO others, waiting, wanting
        FROM fetchq.host_share s
        WHERE s.host = h.host AND s.worker_id <> p_worker AND s.expires_at > now();
        -- An open breaker whose time is up goes half-open, its trials made by the first worker that
        -- wants the host; a trial worker whose share expired (killed) passes them on.
        IF p_wants[i] > 0 AND (h.breaker = 'open' AND h.open_until <= now()
                OR h.breaker = 'half_open' AND h.trial_worker IS DISTINCT FROM p_worker AND NOT EXISTS (
                    SELECT 1 FROM fetchq.host_share s
                    WHERE s.host = h.host AND s.worker_id = h.trial_worker AND s.expires_at > now())) THEN
            UPDATE fetchq.host x SET breaker = 'half_open', trial_worker = p_worker, changed_at = clock_timestamp()
            WHERE x.host = h.host
            RETURNING * INTO h;
        END IF;
        lim := COALESCE(h.max_in_flight, p_limits[i]);
        blocked := h.paused_until > now() OR h.breaker = 'open'
                   OR (h.breaker = 'half_open' AND h.trial_worker IS DISTINCT FROM p_worker);
        give := CASE WHEN blocked THEN 0 ELSE GREATEST(0, LEAST(p_wants[i], lim - others)) END;
        IF waiting > 0 THEN
            -- Someone waits for slots: keep no more than a fair part of the limit.
            give := LEAST(give, CEIL(lim::numeric / (wanting + CASE WHEN p_wants[i] > 0 THEN 1 ELSE 0 END))::integer);
        END IF;
        IF p_wants[i] = 0 AND p_held[i] = 0 THEN
            DELETE FROM fetchq.host_share s WHERE s.host = h.host AND s.worker_id = p_worker;
        ELSE
            INSERT INTO fetchq.host_share AS s (host, worker_id, slots, granted, in_use, wanted, expires_at)
            VALUES (h.host, p_worker, GREATEST(give, p_held[i]), give, p_in_use[i], p_wants[i], now() + lease)
            ON CONFLICT ON CONSTRAINT host_share_pkey DO UPDATE
            SET slots = EXCLUDED.slots, granted = EXCLUDED.granted, in_use = EXCLUDED.in_use, wanted = EXCLUDED.wanted,
                expires_at = EXCLUDED.expires_at;
        END IF;
        host := h.host;
        granted := give;
        max_in_flight := lim;
        rate_per_s := fetchq.host_rate(h.rate_per_s, p_rates[i], h.crawl_delay_ms);
        paused_ms := GREATEST(0, COALESCE(ceil(extract(epoch FROM h.paused_until - now()) * 1000), 0))::bigint;
        breaker := h.breaker;
        open_ms := CASE WHEN h.breaker = 'open'
                        THEN GREATEST(0, ceil(extract(epoch FROM h.open_until - now()) * 1000))::bigint ELSE 0 END;
        trials := h.breaker = 'half_open' AND h.trial_worker = p_worker;
        contended := waiting > 0;
        RETURN NEXT;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION fetchq.take_host_rate(p_host text, p_rate double precision, p_n integer,
                                      OUT first_ms double precision, OUT interval_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
    h fetchq.host;
    r double precision;
    start timestamptz;
BEGIN
    INSERT INTO fetchq.host AS x (host) VALUES (p_host) ON CONFLICT DO NOTHING;
    SELECT * INTO h FROM fetchq.host x WHERE x.host = p_host FOR UPDATE;
    r := fetchq.host_rate(h.rate_per_s, p_rate, h.crawl_delay_ms);
    IF r IS NULL THEN
        first_ms := 0;
        interval_ms := 0;
        RETURN;
    END IF;
    start := GREATEST(COALESCE(h.rate_next_at, now()), now());
    UPDATE fetchq.host x SET rate_next_at = start + p_n * (1000.0 / r) * interval '1 millisecond'
    WHERE x.host = p_host;
    first_ms := extract(epoch FROM start - now()) * 1000;
    interval_ms := 1000.0 / r;
END;
$$;
