-- The claim's window: the first n due jobs in claim order, read from the head of queue_due and no
-- further. The planner picks that plan only while its statistics see a queue of many due rows; on
-- statistics taken when the queue was nearly empty (a new deployment, a large batch that landed
-- before autovacuum analyzed the table) it guessed a few hundred due rows and read every one of them
-- through a bitmap scan and sorted them instead: 23 ms a claim at 100,000 due jobs, seconds at
-- 600,000, for each claim until the next ANALYZE. Bitmap and sequential scans are off inside this
-- function only, which leaves the ordered index scan; PL/pgSQL keeps its plan for the session.
CREATE FUNCTION fetchq.due_window(n integer)
    RETURNS TABLE (job_id bigint, host text, priority integer, run_at timestamptz)
    LANGUAGE plpgsql STABLE
    ROWS 256
    SET enable_bitmapscan = off
    SET enable_seqscan = off
AS $$
BEGIN
    RETURN QUERY
        SELECT q.job_id, q.host, q.priority, q.run_at
        FROM fetchq.queue q
        WHERE q.state = 'queued' AND q.run_at <= now()
        ORDER BY q.priority DESC, q.run_at
        LIMIT n;
END
$$;
