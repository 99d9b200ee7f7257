-- Cluster mode (docs/cluster.md, "Handovers"): a persistent session that left a node before that node's consumer of
-- the message stream had read everything stored up to the moment the new node started matching for it. The node that
-- reads the old node's consumer next (the old node itself, back, or a survivor draining it) sends the session what it
-- is owed from those messages, up to until_seq, and deletes the row.
CREATE TABLE client_handover (
    product_id       BIGINT NOT NULL,
    client_id        TEXT   NOT NULL,
    from_incarnation TEXT   NOT NULL,
    until_seq        BIGINT NOT NULL,
    PRIMARY KEY (product_id, client_id, from_incarnation)
);
