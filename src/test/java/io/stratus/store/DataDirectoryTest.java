package io.stratus.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One store per data directory at a time, and what a killed server left in it is cleared by the next. */
class DataDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void a_second_store_on_the_same_directory_is_refused_until_the_first_closes() {
        Database first = Database.openSqlite(dir, "normal");
        try {
            assertThatThrownBy(() -> Database.openSqlite(dir, "normal"))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("in use by another Stratus server")
                    .hasMessageContaining(dir.toAbsolutePath().toString());
            // the refused attempt changed nothing: the first store still works
            int one = first.withConnection(c -> c.createStatement().executeQuery("SELECT 1").getInt(1));
            assertThat(one).isEqualTo(1);
        } finally {
            first.close();
        }
        Database again = Database.openSqlite(dir, "normal");
        again.close();
    }

    @Test
    void a_directory_is_held_while_its_store_is_open_and_asking_takes_nothing() {
        assertThat(DataDirectory.isHeld(dir)).isFalse();
        assertThat(dir.resolve("stratus.lock")).doesNotExist();
        try (Database db = Database.openSqlite(dir, "normal")) {
            assertThat(DataDirectory.isHeld(dir)).isTrue();
        }
        assertThat(DataDirectory.isHeld(dir)).isFalse();
        Database.openSqlite(dir, "normal").close();
    }

    @Test
    void stores_on_different_directories_open_side_by_side() {
        try (Database a = Database.openSqlite(dir.resolve("a"), "normal");
             Database b = Database.openSqlite(dir.resolve("b"), "normal")) {
            assertThat(a.dialect()).isEqualTo(b.dialect());
        }
    }

    @Test
    void native_libraries_left_by_a_killed_server_are_removed_when_the_directory_is_taken() throws Exception {
        Path nativeDir = Files.createDirectories(Database.nativeLibraryDir(dir));
        Path lib = Files.write(nativeDir.resolve("sqlite-3.54.1.0-1234-libsqlitejdbc.so"), new byte[1024]);
        Path lck = Files.write(nativeDir.resolve("sqlite-3.54.1.0-1234-libsqlitejdbc.so.lck"), new byte[0]);
        Files.write(dir.resolve("keep.txt"), new byte[] {1});

        try (Database db = Database.openSqlite(dir, "normal")) {
            assertThat(lib).doesNotExist();
            assertThat(lck).doesNotExist();
            assertThat(nativeDir).isDirectory();
            assertThat(dir.resolve("keep.txt")).exists();
            assertThat(dir.resolve("stratus.db")).exists();
        }
    }

    @Test
    void the_store_and_its_directory_are_the_owners_only() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        // A store left readable by an older server is restricted too.
        Files.createFile(data.resolve("stratus.db"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));

        try (Database db = Database.openSqlite(data, "normal")) {
            db.inTransaction(c -> c.createStatement().executeUpdate("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
            for (String name : new String[] {"stratus.db", "stratus.db-wal", "stratus.db-shm"}) {
                assertThat(data.resolve(name)).exists();
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(name)))).as(name)
                        .isEqualTo("rw-------");
            }
        }
    }

    @Test
    void a_new_store_is_never_readable_by_others() throws Exception {
        try (Database db = Database.openSqlite(dir.resolve("fresh"), "normal")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("fresh/stratus.db"))))
                    .isEqualTo("rw-------");
        }
    }
}
