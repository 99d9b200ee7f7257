-- Cluster mode (docs/cluster.md): claims take their epochs from one sequence, so that a client id's epochs only grow,
-- even after the row of a clean session was deleted and made again.
CREATE SEQUENCE client_epoch;
SELECT setval('client_epoch', GREATEST(1, (SELECT COALESCE(MAX(epoch), 0) FROM client_owner)));
