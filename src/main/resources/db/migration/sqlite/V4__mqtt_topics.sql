-- User topics of a product for the /mqtt/topic API (D26): created there, or recorded when a client
-- subscribes to an exact topic name (wildcard filters record nothing).
CREATE TABLE mqtt_topic (
    product_id  INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    PRIMARY KEY (product_id, name)
) WITHOUT ROWID;
