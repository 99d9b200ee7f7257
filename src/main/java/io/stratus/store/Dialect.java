package io.stratus.store;

/** The SQL databases Stratus runs on. Only the embedded one exists so far; PostgreSQL comes with scale-out. */
public enum Dialect {
    SQLITE
}
