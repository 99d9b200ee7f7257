-- Cluster mode (docs/cluster.md): the will of the connection holding each client id, so that a survivor adopting a
-- dead node's clients publishes their wills. Cleared when the connection ends on its own node (which publishes or
-- discards the will itself).
ALTER TABLE client_owner ADD COLUMN will_topic TEXT;
ALTER TABLE client_owner ADD COLUMN will_payload BLOB;
ALTER TABLE client_owner ADD COLUMN will_qos INTEGER;
ALTER TABLE client_owner ADD COLUMN will_retain INTEGER;
