package io.stratus.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate and key files of the TLS listeners, read again when they change on disk: a renewed certificate
 * (certbot's renewal, a rotated secret) is served to new connections without a restart, and open connections keep
 * theirs. The files are checked every few seconds; a change that cannot be read (a half-written file, a key that
 * does not match) is logged and the previous material stays in use until a later check reads a good pair.
 */
public final class TlsFiles implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TlsFiles.class);

    private final Path cert;
    private final Path key;
    private final Path clientCa;
    private final List<Consumer<TlsMaterial>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService checker;
    private volatile TlsMaterial current;
    private List<String> stamps;

    /** Reads the files now (a start with unusable files fails here) and checks them every {@code checkMillis}. */
    public TlsFiles(Path cert, Path key, Path clientCa, long checkMillis) {
        this.cert = cert;
        this.key = key;
        this.clientCa = clientCa;
        this.stamps = stamps();
        this.current = TlsMaterial.load(cert, key, clientCa);
        log.info("TLS certificate {}", current.describe());
        this.checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tls-files");
            t.setDaemon(true);
            return t;
        });
        checker.scheduleWithFixedDelay(this::check, checkMillis, checkMillis, TimeUnit.MILLISECONDS);
    }

    public TlsMaterial current() {
        return current;
    }

    /** Called with the new material after each reload, on the checking thread. */
    public void onReload(Consumer<TlsMaterial> listener) {
        listeners.add(listener);
    }

    /** Reads the files again if any changed since the last read. */
    private synchronized void check() {
        try {
            List<String> now = stamps();
            if (now.equals(stamps)) {
                return;
            }
            TlsMaterial next;
            try {
                next = TlsMaterial.load(cert, key, clientCa);
            } catch (RuntimeException e) {
                log.warn("TLS files changed but cannot be used yet, still serving {}: {}", current.describe(), e.getMessage());
                return; // stamps kept: tried again at the next check, when the writer may have finished
            }
            stamps = now;
            current = next;
            log.info("TLS certificate reloaded: {}", next.describe());
            listeners.forEach(l -> l.accept(next));
        } catch (RuntimeException e) {
            log.warn("checking the TLS files failed: {}", e.toString()); // and again at the next check
        }
    }

    /** Modification time, size and file key of each file (a renewal that swaps a symbolic link changes the key). */
    private List<String> stamps() {
        List<String> out = new ArrayList<>();
        for (Path p : new Path[] {cert, key, clientCa}) {
            if (p == null) {
                continue;
            }
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                out.add(a.lastModifiedTime() + "/" + a.size() + "/" + Objects.toString(a.fileKey()));
            } catch (IOException e) {
                out.add("missing");
            }
        }
        return out;
    }

    @Override
    public void close() {
        checker.shutdownNow();
    }
}
