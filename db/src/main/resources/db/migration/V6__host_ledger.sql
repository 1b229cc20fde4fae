-- Politeness for the whole fleet: a ledger of hosts that every worker obeys.
--
-- A host's limit on requests in flight is shared out as leased slots (fetchq.host_share): a worker
-- starts at most as many fetches to a host as it holds slots, and the slots of all unexpired shares
-- of a host never add up to more than its limit. Shares are granted, renewed and handed back by
-- fetchq.take_host_shares under the host row's lock, so grants of one host are serialised; a
-- killed worker's share expires with its lease. A worker reuses its slots from one fetch to the
-- next without writing anything: a busy host's next fetch never waits for a result to be written.
--
-- A host's rate is a timeline (fetchq.host.rate_next_at, GCRA): fetchq.take_host_rate hands a worker
-- the next n evenly spaced instants, so the fleet together never runs ahead of the rate.
--
-- Pauses (Retry-After, or an admin's) and the circuit breaker's state are columns of the host row,
-- read by every worker when they change (host_changed), and on every grant.
CREATE TABLE fetchq.host (
    host                  text PRIMARY KEY,
    -- An admin's overrides (PUT /api/v1/hosts/{host}); null: the workers' configured default.
    max_in_flight         integer CHECK (max_in_flight BETWEEN 1 AND 100000),
    rate_per_s            double precision CHECK (rate_per_s > 0 AND rate_per_s <= 100000),
    -- The defaults the workers last took shares with (fetchq.worker.per-host / host-limits,
    -- host-rate / host-rates), for the hosts view.
    default_max_in_flight integer,
    default_rate_per_s    double precision,
    paused_until          timestamptz,
    breaker               text        NOT NULL DEFAULT 'closed' CHECK (breaker IN ('closed', 'open', 'half_open')),
    open_until            timestamptz,
    -- The one worker making a half-open breaker's trial calls, while its share lives.
    trial_worker          text,
    crawl_delay_ms        integer,
    rate_next_at          timestamptz,
    changed_at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX host_changed ON fetchq.host (changed_at);
-- Hosts held back, for the API's hosts and stuck-host reads.
CREATE INDEX host_open ON fetchq.host (host) WHERE breaker <> 'closed';
CREATE INDEX host_paused ON fetchq.host (paused_until) WHERE paused_until IS NOT NULL;

CREATE TABLE fetchq.host_share (
    host       text        NOT NULL,
    worker_id  text        NOT NULL,
    -- Slots held: never less than the fetches the worker may have started with them.
    slots      integer     NOT NULL,
    -- Of those, the ones the worker may start new fetches with (its last grant; the rest cover
    -- fetches still in flight while its share shrinks): what its claims have room for.
    granted    integer     NOT NULL,
    -- Fetches in flight as last reported, and how many slots the worker would use.
    in_use     integer     NOT NULL,
    wanted     integer     NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (host, worker_id)
);

-- Grants, renews and hands back one worker's shares of the given hosts, in host order (so that two
-- workers taking shares of the same hosts cannot deadlock), each under its host row's lock; each
-- statement of the loop reads the shares committed before the lock was taken.
--
-- For each host: p_wants the slots the worker would use (0 hands its share back), p_limits its
-- configured limit, p_rates its configured rate (0: none), p_held the slots it may still be using
-- (what the share must keep covering while it shrinks), p_in_use its fetches in flight.
--
-- Returns per host the slots granted (at most the limit less the other unexpired shares; at most a
-- fair part of the limit while another worker waits for slots), the effective limit and rate, the
-- pause and breaker state as milliseconds from now, whether this worker makes the trial calls, and
-- whether other workers are waiting for slots.
CREATE FUNCTION fetchq.take_host_shares(p_worker text, p_hosts text[], p_wants integer[], p_limits integer[],
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
        rate_per_s := COALESCE(h.rate_per_s, NULLIF(p_rates[i], 0));
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

-- The next p_n instants at which the fleet may send a request to p_host, p_interval_ms apart,
-- the first p_first_ms from now; the host's rate is the admin's override, else p_rate (0: none,
-- and nothing is reserved).
CREATE FUNCTION fetchq.take_host_rate(p_host text, p_rate double precision, p_n integer,
                                      OUT first_ms double precision, OUT interval_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
    h fetchq.host;
    r double precision;
    start timestamptz;
BEGIN
    INSERT INTO fetchq.host AS x (host) VALUES (p_host) ON CONFLICT DO NOTHING;
    SELECT * INTO h FROM fetchq.host x WHERE x.host = p_host FOR UPDATE;
    r := COALESCE(h.rate_per_s, NULLIF(p_rate, 0));
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

-- Hosts: the ledger's limits and state with what waits for each host. in_flight is the fleet's
-- fetches in flight as the workers last reported them (at least every few seconds while busy).
CREATE VIEW fetchq.hosts AS
SELECT COALESCE(h.host, q.host)                                   AS host,
       COALESCE(h.max_in_flight, h.default_max_in_flight)          AS max_in_flight,
       COALESCE(h.rate_per_s, h.default_rate_per_s)                AS rate_per_s,
       COALESCE(s.in_flight, 0)                                    AS in_flight,
       CASE WHEN h.paused_until > now() THEN h.paused_until END    AS paused_until,
       COALESCE(h.breaker, 'closed')                               AS breaker,
       CASE WHEN h.breaker = 'open' THEN h.open_until END          AS open_until,
       h.crawl_delay_ms,
       COALESCE(q.queued, 0)                                       AS queued,
       q.oldest_due_at
FROM fetchq.host h
FULL JOIN (
    SELECT x.host, count(*) FILTER (WHERE x.state <> 'running') AS queued,
           min(x.run_at) FILTER (WHERE x.state <> 'running' AND x.run_at <= now()) AS oldest_due_at
    FROM fetchq.queue x
    GROUP BY x.host
) q ON q.host = h.host
LEFT JOIN LATERAL (
    SELECT sum(sh.in_use)::bigint AS in_flight
    FROM fetchq.host_share sh
    WHERE sh.host = COALESCE(h.host, q.host) AND sh.expires_at > now()
) s ON true;

-- Jobs not due yet leave the claim indexes. A queue row waiting for a future run_at (a delay, a
-- backoff, a Retry-After, an open breaker's deferral) is 'scheduled', indexed by due time alone;
-- workers promote it to 'queued' once due (QueueQueries.promoteDue), and only 'queued' rows sit in
-- queue_due and queue_host_due. A claim then reads only due rows, however many wait for later (a
-- crawl's or a backoff-heavy workload's future jobs once sat in the claim order among the due
-- ones, and a walk over hosts probed past every one of them).
ALTER TABLE fetchq.queue DROP CONSTRAINT queue_state_check;
ALTER TABLE fetchq.queue ADD CONSTRAINT queue_state_check CHECK (state IN ('scheduled', 'queued', 'running'));
UPDATE fetchq.queue SET state = 'scheduled' WHERE state = 'queued' AND run_at > now();
CREATE INDEX queue_scheduled ON fetchq.queue (run_at) WHERE state = 'scheduled';

-- The public state of a scheduled job is queued.
CREATE OR REPLACE VIEW fetchq.job_results AS
SELECT j.id                                         AS job_id,
       j.batch_id,
       j.url,
       j.host,
       j.method,
       CASE WHEN q.state = 'running' THEN 'running' ELSE j.state END AS state,
       j.priority,
       COALESCE(q.attempt, j.attempts) - j.budget_base AS attempts,
       j.max_attempts::integer                      AS max_attempts,
       j.metadata,
       j.status_code::integer                       AS status_code,
       j.content_type,
       j.body_bytes,
       j.body_truncated,
       j.body_sha256,
       j.title,
       j.links,
       j.final_url,
       j.error_kind,
       j.error_message,
       j.created_at,
       CASE WHEN q.state <> 'running' THEN q.run_at END AS next_attempt_at,
       COALESCE(j.started_at, q.first_started_at)   AS started_at,
       j.finished_at,
       j.total_ms
FROM fetchq.job j
LEFT JOIN fetchq.queue q ON q.job_id = j.id;
