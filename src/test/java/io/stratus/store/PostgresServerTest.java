package io.stratus.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfEnvironmentVariable;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness of the PostgreSQL run ({@code -Dstratus.test.store=postgresql}): the server is up on the loopback
 * address only with its test settings, each data directory gets a fresh database of its own, the same one when started
 * again, and a store opened on it is migrated by Flyway.
 */
@EnabledIfSystemProperty(named = TestStore.PROPERTY, matches = "postgresql")
class PostgresServerTest {
    @TempDir
    Path first;
    @TempDir
    Path second;

    @Test
    void a_store_on_a_fresh_database_is_migrated() {
        try (Database db = TestStore.open(first)) {
            assertThat(db.dialect()).isEqualTo(Dialect.POSTGRESQL);
            assertThat(db.list("SELECT count(*) FROM flyway_schema_history WHERE success", rs -> rs.getInt(1)).get(0)).isPositive();
            assertThat(db.list("SELECT current_database()", rs -> rs.getString(1)).get(0)).startsWith("stratus_");
        }
    }

    @Test
    void each_data_directory_has_a_database_of_its_own_and_keeps_it() {
        String firstUrl = TestStore.serverSettings(first).get("store.url");
        String secondUrl = TestStore.serverSettings(second).get("store.url");

        assertThat(firstUrl).startsWith("postgresql://").isNotEqualTo(secondUrl);
        assertThat(TestStore.serverSettings(first).get("store.url")).isEqualTo(firstUrl);
        try (Database db = TestStore.open(second)) {
            db.update("CREATE TABLE t (x INTEGER)", ps -> { });
        }
        try (Database db = TestStore.open(first)) {
            assertThat(db.list("SELECT count(*) FROM pg_tables WHERE tablename = 't'", rs -> rs.getInt(1))).containsExactly(0);
        }
    }

    @Test
    @DisabledIfEnvironmentVariable(named = "STRATUS_TEST_PG_URL", matches = ".+", disabledReason = "a server the tests did not start")
    void the_server_listens_on_the_loopback_address_only_and_trades_durability_for_speed() {
        try (Database db = TestStore.open(first)) {
            List<String> settings = db.list("SELECT name || '=' || setting FROM pg_settings WHERE name IN "
                    + "('listen_addresses', 'fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name", rs -> rs.getString(1));
            assertThat(settings).containsExactly("fsync=off", "full_page_writes=off", "listen_addresses=127.0.0.1", "synchronous_commit=off");
        }
    }
}
