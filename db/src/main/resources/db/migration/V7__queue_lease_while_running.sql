-- A queue row carries a lease token exactly while it runs: the claim sets one with state
-- 'running', and every statement that ends a run (completion, requeue, rescue) clears it. The
-- fences of the completion and of the lease renewal find a claim by job, token and attempt alone,
-- one primary-key lookup per claim: naming the state as well let the planner read the whole
-- running index (queue_running) for each statement, dead entries included, which grows with the
-- fleet's jobs in flight. This constraint holds the invariant those fences rely on.
ALTER TABLE fetchq.queue ADD CONSTRAINT queue_lease_while_running
    CHECK ((state = 'running') = (lease_token IS NOT NULL));
