-- User topics of a product for the /mqtt/topic API (D26): created there, or recorded when a client
-- subscribes to an exact topic name (wildcard filters record nothing).
CREATE TABLE mqtt_topic (
    product_id  BIGINT NOT NULL,
    name        TEXT   COLLATE "C" NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (product_id, name)
);
