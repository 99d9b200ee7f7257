-- Cluster mode runs on PostgreSQL only, whose V8 makes the sequence of claim epochs; the embedded store has no use for
-- it, and this version keeps the two histories in step.
SELECT 1;
