package io.stratus.store;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The SQL databases Stratus runs on, and the statements whose text differs between them. Stores build such statements
 * here, from {@link Database#dialect()}, and never spell a database's own syntax themselves; a new database is a new
 * constant and its migrations folder, with no caller to change.
 */
public enum Dialect {
    SQLITE("classpath:db/migration/sqlite"),
    POSTGRESQL("classpath:db/migration/postgresql");

    private final String migrations;

    Dialect(String migrations) {
        this.migrations = migrations;
    }

    /** Where Flyway finds this database's migrations. */
    public String migrations() {
        return migrations;
    }

    /**
     * An insert that replaces the values of the row with the same key when there is one, with one {@code ?} per column,
     * keys first: {@code INSERT INTO table (k.., c..) VALUES (?..) ON CONFLICT (k..) DO UPDATE SET c = excluded.c}.
     * Written the way SQLite (3.24 and later) and PostgreSQL both read it, rather than SQLite's {@code INSERT OR
     * REPLACE}, which deletes the old row first.
     */
    public String upsert(String table, List<String> keys, List<String> columns) {
        if (keys.isEmpty() || columns.isEmpty()) {
            throw new IllegalArgumentException("an upsert needs key and value columns");
        }
        StringJoiner set = new StringJoiner(", ");
        for (String c : columns) {
            set.add(c + " = excluded." + c);
        }
        return insertInto("INSERT INTO ", table, keys, columns) + " ON CONFLICT (" + String.join(", ", keys)
                + ") DO UPDATE SET " + set;
    }

    /**
     * An insert that replaces the whole row with the same key, every column named, keys first, one {@code ?} each. On
     * SQLite this is its {@code INSERT OR REPLACE}: one B-tree write, where {@link #upsert} first looks the key up (the
     * hot path of data points and owed messages, whose keys are new nearly always). A database without it writes the
     * same as {@link #upsert}.
     */
    public String replace(String table, List<String> keys, List<String> columns) {
        return switch (this) {
            case SQLITE -> insertInto("INSERT OR REPLACE INTO ", table, keys, columns);
            case POSTGRESQL -> upsert(table, keys, columns);
        };
    }

    /** An insert that leaves an existing row with the same key as it is: {@code ... ON CONFLICT (k..) DO NOTHING}. */
    public String insertIfAbsent(String table, List<String> keys, List<String> columns) {
        return insertInto("INSERT INTO ", table, keys, columns) + " ON CONFLICT (" + String.join(", ", keys) + ") DO NOTHING";
    }

    /** {@code verb table (k.., c..) VALUES (?, ..)}: keys first, one {@code ?} per column. */
    private static String insertInto(String verb, String table, List<String> keys, List<String> columns) {
        List<String> all = new ArrayList<>(keys);
        all.addAll(columns);
        return verb + table + " (" + String.join(", ", all) + ") VALUES (" + "?,".repeat(all.size() - 1) + "?)";
    }
}
