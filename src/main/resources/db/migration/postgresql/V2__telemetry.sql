-- Data streams of a device with their latest value (D13: created on first point; D22: latest = greatest time).
CREATE TABLE datastream (
    device_id   BIGINT  NOT NULL,
    stream      TEXT    COLLATE "C" NOT NULL,
    uuid        TEXT    NOT NULL,
    create_time BIGINT  NOT NULL,
    update_time BIGINT  NOT NULL,
    unit        TEXT    NOT NULL DEFAULT '',
    unit_symbol TEXT    NOT NULL DEFAULT '',
    tags        TEXT    NOT NULL DEFAULT '[]',
    latest_at   BIGINT,
    latest_value TEXT,
    PRIMARY KEY (device_id, stream)
);

-- History, one row per point; a point with the time of a stored one replaces it (D21). Partitioned by time so that
-- retention can drop whole partitions; rows outside every partition land in the DEFAULT one, so an insert never
-- fails for want of a partition.
CREATE TABLE datapoint (
    device_id BIGINT  NOT NULL,
    stream    TEXT    COLLATE "C" NOT NULL,
    ts        BIGINT  NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (device_id, stream, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE datapoint_default PARTITION OF datapoint DEFAULT;

-- Binary points (type-2 $dp and POST /bindata), read back by index (D16).
CREATE TABLE bindata (
    idx         TEXT    COLLATE "C" PRIMARY KEY,
    device_id   BIGINT  NOT NULL,
    stream      TEXT    COLLATE "C" NOT NULL,
    description TEXT,
    content     BYTEA   NOT NULL,
    create_time BIGINT  NOT NULL
);
CREATE INDEX bindata_device ON bindata (device_id);
