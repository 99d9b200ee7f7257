-- Data streams of a device with their latest value (D13: created on first point; D22: latest = greatest time).
CREATE TABLE datastream (
    device_id   INTEGER NOT NULL,
    stream      TEXT    NOT NULL,
    uuid        TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    unit        TEXT    NOT NULL DEFAULT '',
    unit_symbol TEXT    NOT NULL DEFAULT '',
    tags        TEXT    NOT NULL DEFAULT '[]',
    latest_at   INTEGER,
    latest_value TEXT,
    PRIMARY KEY (device_id, stream)
) WITHOUT ROWID;

-- History, one row per point; a point with the time of a stored one replaces it (D21).
CREATE TABLE datapoint (
    device_id INTEGER NOT NULL,
    stream    TEXT    NOT NULL,
    ts        INTEGER NOT NULL,
    value     TEXT    NOT NULL,
    PRIMARY KEY (device_id, stream, ts)
) WITHOUT ROWID;

-- Binary points (type-2 $dp and POST /bindata), read back by index (D16).
CREATE TABLE bindata (
    idx         TEXT    PRIMARY KEY,
    device_id   INTEGER NOT NULL,
    stream      TEXT    NOT NULL,
    description TEXT,
    content     BLOB    NOT NULL,
    create_time INTEGER NOT NULL
);
CREATE INDEX bindata_device ON bindata (device_id);
