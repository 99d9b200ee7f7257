-- Products, devices and keys: identity and access.
CREATE TABLE product (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    protocol      TEXT    NOT NULL DEFAULT 'MQTT',
    register_code TEXT    NOT NULL,
    create_time   INTEGER NOT NULL
);
-- OneNET product IDs are six-digit numbers; start there so IDs look familiar to its users.
INSERT INTO sqlite_sequence (name, seq) VALUES ('product', 100000);

CREATE TABLE device (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id  INTEGER NOT NULL REFERENCES product (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    auth_info   TEXT    NOT NULL,
    protocol    TEXT    NOT NULL DEFAULT 'MQTT',
    private     INTEGER NOT NULL DEFAULT 1,
    disabled    INTEGER NOT NULL DEFAULT 0,
    tags        TEXT    NOT NULL DEFAULT '[]',
    location    TEXT,
    other       TEXT,
    create_time INTEGER NOT NULL,
    last_login  INTEGER,
    last_logout INTEGER,
    UNIQUE (product_id, auth_info)
);
INSERT INTO sqlite_sequence (name, seq) VALUES ('device', 500000000);

CREATE TABLE api_key (
    api_key     TEXT    PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES product (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('master', 'device')),
    title       TEXT    NOT NULL DEFAULT '',
    permissions TEXT    NOT NULL DEFAULT '[]',
    create_time INTEGER NOT NULL
);
CREATE INDEX api_key_product ON api_key (product_id);

-- Server-wide settings, such as the admin password hash.
CREATE TABLE setting (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Broker state that must outlive a restart.
CREATE TABLE retained_message (
    product_id INTEGER NOT NULL,
    topic      TEXT    NOT NULL,
    qos        INTEGER NOT NULL,
    payload    BLOB    NOT NULL,
    PRIMARY KEY (product_id, topic)
) WITHOUT ROWID;

CREATE TABLE mqtt_session (
    session_key   TEXT    PRIMARY KEY,
    product_id    INTEGER NOT NULL,
    client_id     TEXT    NOT NULL,
    subscriptions TEXT    NOT NULL DEFAULT '{}',
    epoch         INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
);

-- QoS 1/2 messages owed to a persistent session, queued or in flight [D18, D25].
CREATE TABLE session_message (
    session_key TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    topic       TEXT    NOT NULL,
    qos         INTEGER NOT NULL,
    retain      INTEGER NOT NULL,
    payload     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (session_key, seq)
) WITHOUT ROWID;
