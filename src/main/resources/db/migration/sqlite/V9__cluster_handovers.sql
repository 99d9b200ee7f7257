-- Cluster mode runs on PostgreSQL only, whose V9 makes the table of session handovers; the embedded store has no use
-- for it, and this version keeps the two histories in step.
SELECT 1;
