-- Triggers (rest-api.md §6.4): one row per trigger; dev_ids is a JSON array of device ids, NULL for every
-- device of the product. threshold holds the comparison value or, for frozen/live, seconds; lolmt/uplmt the
-- inout range.
CREATE TABLE hook_trigger (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id  INTEGER NOT NULL REFERENCES product (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL DEFAULT '',
    ds_id       TEXT    NOT NULL,
    dev_ids     TEXT,
    url         TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    threshold   REAL    NOT NULL DEFAULT 0,
    lolmt       REAL    NOT NULL DEFAULT 0,
    uplmt       REAL    NOT NULL DEFAULT 0,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE INDEX hook_trigger_product ON hook_trigger (product_id);
-- OneNET trigger ids are six-digit numbers and up.
INSERT INTO sqlite_sequence (name, seq) VALUES ('hook_trigger', 100000);

-- Data push to an application server (Stratus extension): at most one target per product.
CREATE TABLE push_target (
    product_id  INTEGER PRIMARY KEY REFERENCES product (id) ON DELETE CASCADE,
    url         TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    batch       INTEGER NOT NULL DEFAULT 1,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
