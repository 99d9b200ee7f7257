-- Commands to devices (OneNET §4): the body goes out on $creq/{uuid}, the response comes back on
-- $crsp/{uuid}. status: 1 created, 2 sent, 3 send failed, 4 response received, 5 response timeout,
-- 6 response too large (S6, S11). Times are epoch milliseconds; sent_at/resp_at are NULL until then.
CREATE TABLE command (
    uuid       TEXT    COLLATE "C" PRIMARY KEY,
    device_id  BIGINT  NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    product_id BIGINT  NOT NULL,
    body       BYTEA   NOT NULL,
    qos        INTEGER NOT NULL,
    timeout_s  INTEGER NOT NULL,
    status     INTEGER NOT NULL,
    created_at BIGINT  NOT NULL,
    sent_at    BIGINT,
    expire_at  BIGINT  NOT NULL,
    resp       BYTEA,
    resp_at    BIGINT
);
-- GET /cmds/history/{device_id} and deleting a device's commands.
CREATE INDEX command_device_time ON command (device_id, created_at);
-- The open commands, loaded at start to deliver and expire them.
CREATE INDEX command_open ON command (status) WHERE status IN (1, 2);
