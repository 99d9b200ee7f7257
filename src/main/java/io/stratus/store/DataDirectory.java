package io.stratus.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory, held by one server at a time: {@code stratus.lock} carries an OS file lock for the life of the
 * store, so a second server on the same data (it would route the same sessions and clean up rows it does not own)
 * refuses to start. The kernel drops the lock when its process dies, even by SIGKILL, so a restart is never blocked.
 */
final class DataDirectory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);
    /** Where the command line has SQLite extract its native library (see {@code Main}); emptied under the lock. */
    static final String NATIVE_DIR = "native";
    private static final String LOCK_FILE = "stratus.lock";
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    /** Holds the lock: closing it (or the death of the process) releases it. */
    private final FileChannel channel;

    private DataDirectory(FileChannel channel) {
        this.channel = channel;
    }

    /** Creates {@code dir} if needed and takes its lock, or fails with a {@link StoreException} naming the directory. */
    static DataDirectory lock(Path dir) {
        Path file = dir.resolve(LOCK_FILE);
        FileChannel channel;
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StoreException("cannot open data directory " + dir + " (" + file + "): " + e.getMessage(), e);
        }
        StoreException refused;
        try {
            if (channel.tryLock() != null) { // null: another process holds it
                removeStaleNativeLibraries(dir.resolve(NATIVE_DIR));
                ownerOnly(dir, DIRECTORY);
                return new DataDirectory(channel);
            }
            refused = inUse(dir, null);
        } catch (OverlappingFileLockException e) { // this process holds it
            refused = inUse(dir, e);
        } catch (IOException e) {
            refused = new StoreException("cannot lock data directory " + dir + " (" + file + "): " + e.getMessage(), e);
        }
        closeQuietly(channel);
        throw refused;
    }

    /**
     * Whether a server (in this process or another) holds the lock of {@code dir} now. Creates nothing and removes
     * nothing; a lock file that cannot be opened counts as free, for {@link #lock} to report why.
     */
    static boolean isHeld(Path dir) {
        Path file = dir.resolve(LOCK_FILE);
        if (!Files.exists(file)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Makes the store's file readable and writable by the owner only (0600), creating it empty when absent so that it is
     * never readable by others even for a moment; its WAL and shared-memory files, which hold the same data, are made
     * so too (SQLite creates them with the database file's permissions). The store holds master keys, device keys and
     * every device's {@code auth_info}.
     */
    void ownerOnlyStore(Path file) {
        try {
            if (!Files.exists(file)) {
                try {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE));
                } catch (UnsupportedOperationException notPosix) {
                    Files.createFile(file);
                }
            }
        } catch (IOException e) {
            throw new StoreException("cannot create " + file + ": " + e.getMessage(), e);
        }
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            ownerOnly(file.resolveSibling(file.getFileName() + suffix), FILE);
        }
    }

    /** Sets POSIX permissions where the file exists and the file system has them; the server runs without otherwise. */
    private static void ownerOnly(Path path, Set<PosixFilePermission> permissions) {
        try {
            if (Files.exists(path)) {
                Files.setPosixFilePermissions(path, permissions);
            }
        } catch (UnsupportedOperationException notPosix) {
            // Windows and some mounts: the operator's file system rules apply.
        } catch (IOException e) {
            log.warn("cannot restrict the permissions of {}: {}", path, e.getMessage());
        }
    }

    /**
     * SQLite's JDBC driver deletes the native library it extracted only on a clean exit, and at start removes only copies
     * without a {@code .lck} beside them; a killed server leaves both behind. With the lock held no other process uses
     * this directory, so whatever is in it is left over.
     */
    private static void removeStaleNativeLibraries(Path nativeDir) {
        if (!Files.isDirectory(nativeDir)) {
            return;
        }
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(nativeDir)) {
            for (Path f : files) {
                if (Files.isRegularFile(f) && Files.deleteIfExists(f)) {
                    removed++;
                }
            }
        } catch (IOException e) {
            log.warn("cannot clear {}: {}", nativeDir, e.getMessage());
        }
        if (removed > 0) {
            log.info("removed {} file(s) left in {} by a server that did not exit cleanly", removed, nativeDir);
        }
    }

    private static StoreException inUse(Path dir, Throwable cause) {
        return new StoreException("data directory " + dir.toAbsolutePath()
                + " is in use by another Stratus server; stop it or give this one its own --data-dir", cause);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more to release
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
