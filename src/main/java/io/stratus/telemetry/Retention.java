package io.stratus.telemetry;

import io.stratus.Config;
import io.stratus.store.Database;
import io.stratus.store.HistoryPartitions;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Deletes history older than {@code history.max-age-days} every 10 minutes, on the {@code retention} thread. */
final class Retention implements AutoCloseable {
    // Telemetry's logger, as before this class was split out of it: the log lines stay the same.
    private static final Logger log = LoggerFactory.getLogger(Telemetry.class);

    private final Duration maxAge;
    private final DatapointStore store;
    private final Database database;
    private final ScheduledExecutorService scheduler;

    /** Starts the thread unless {@code history.max-age-days} is 0 (history kept for ever). */
    Retention(Config config, DatapointStore store, Database database) {
        this.maxAge = config.historyMaxAge();
        this.store = store;
        this.database = database;
        this.scheduler = maxAge.isZero() ? null : start();
    }

    private ScheduledExecutorService start() {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "retention");
            t.setDaemon(true);
            return t;
        });
        // A periodic task that throws anything is never run again: so nothing may escape.
        s.scheduleWithFixedDelay(() -> {
            try {
                enforce();
            } catch (Throwable t) {
                log.error("Retention run failed: {}", t.toString());
            }
        }, 1, 10, TimeUnit.MINUTES);
        return s;
    }

    /**
     * Deletes history older than {@code history.max-age-days}: on PostgreSQL whole monthly partitions first
     * ({@link HistoryPartitions#dropBefore}), then, on either store, the older rows that remain, one stream at a time,
     * beside ingest.
     */
    int enforce() {
        if (maxAge.isZero()) {
            return 0;
        }
        try {
            long cutoff = System.currentTimeMillis() - maxAge.toMillis();
            HistoryPartitions.dropBefore(database, cutoff);
            int n = store.deleteOlderThan(cutoff);
            if (n > 0) {
                log.info("Retention removed {} points older than {} days", n, maxAge.toDays());
            }
            return n;
        } catch (RuntimeException e) {
            log.warn("Retention run failed: {}", e.getMessage());
            return 0;
        }
    }

    @Override
    public void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
