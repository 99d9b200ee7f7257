-- Cluster mode (docs/cluster.md): which node holds each client id's connection, and the epoch of that claim. Each
-- accepted CONNECT in cluster mode raises the epoch; of two racing CONNECTs the higher epoch stays connected.
-- The row of a clean session goes when its connection ends.
CREATE TABLE client_owner (
    product_id BIGINT NOT NULL,
    client_id  TEXT   NOT NULL,
    owner      TEXT   NOT NULL,
    epoch      BIGINT NOT NULL,
    PRIMARY KEY (product_id, client_id)
);
