package io.stratus.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Other parts' caches (triggers, data push) on the registry's announcements: their kinds, and the resync after NATS was away. */
class RegistrySyncFollowTest {
    @TempDir
    Path dataDir;
    private Database database;
    private BatchWriter writer;
    private RegistrySync sync;
    private final List<String> sent = new ArrayList<>();

    @BeforeEach
    void setUp() {
        database = Database.openSqlite(dataDir, "normal");
        writer = new BatchWriter(database, "state", 1024, 100);
        sync = new RegistrySync(database, new DeviceRegistry(database, writer, false), sent::add, 4, "node/1");
    }

    @AfterEach
    void tearDown() {
        sync.close();
        writer.close();
        database.close();
    }

    @Test
    void a_follower_announces_its_ids_hears_the_other_nodes_and_reloads_at_each_resync() {
        List<Long> refreshed = new ArrayList<>();
        AtomicInteger reloads = new AtomicInteger();
        LongConsumer announce = sync.follow('t', refreshed::add, reloads::incrementAndGet);

        announce.accept(100001);
        sync.received("t:100002");
        sync.received("u:7"); // a kind nobody follows here
        sync.resyncAll();

        assertThat(sent).containsExactly("t:100001");
        assertThat(refreshed).containsExactly(100002L);
        assertThat(reloads).hasValue(1);
        assertThat(sync.announcedCount()).isEqualTo(1);
        assertThat(sync.appliedCount()).isEqualTo(1);
    }

    @Test
    void the_registrys_own_kinds_and_a_kind_followed_already_are_refused() {
        sync.follow('t', id -> { }, () -> { });

        assertThatThrownBy(() -> sync.follow('t', id -> { }, () -> { })).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sync.follow(RegistrySync.DEVICE, id -> { }, () -> { }))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
