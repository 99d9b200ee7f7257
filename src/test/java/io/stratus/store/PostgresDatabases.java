package io.stratus.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** TEMPORARY until the pg-harness branch lands: fresh databases on the server STRATUS_TEST_PG_URL names. */
public final class PostgresDatabases {
    private PostgresDatabases() {
    }

    /** A new, empty database; returns its JDBC URL. */
    public static String create(String prefix) {
        String server = System.getenv("STRATUS_TEST_PG_URL");
        if (server == null) {
            throw new IllegalStateException("STRATUS_TEST_PG_URL is not set");
        }
        String name = prefix + "_" + System.nanoTime();
        try (Connection c = DriverManager.getConnection(server); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return server.replaceFirst("/[^/?]+(\\?|$)", "/" + name + "$1");
    }
}
