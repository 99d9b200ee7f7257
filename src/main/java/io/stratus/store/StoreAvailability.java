package io.stratus.store;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the store is known to refuse writes, answered from what the writers already record about their latest
 * commit ({@link BatchWriter#recentFailure}): asking costs a few volatile reads, so the MQTT event loop asks on every
 * CONNECT (D5 in docs/decisions.md: storage unavailable -> CONNACK 3), and readiness ({@code /healthz}) reads the same
 * record after its own probe write, so the two never disagree.
 *
 * <p>The store counts as unavailable while the state writer's latest commit failed (the probe writes go through it),
 * or a datapoint commit failed within the last 30 s and none succeeded since (a nearly full disk may take a small
 * probe write and still refuse points). A recorded failure clears only when a later commit on that writer succeeds;
 * while CONNECTs are refused devices write nothing, so while a failure is recorded a probe write goes through the state
 * writer every {@link #PROBE_INTERVAL_MILLIS} ms: a store that is still down keeps its record fresh, one that recovered
 * is noticed within that interval. The datapoint record clears with the next stored point (an HTTP upload) or 30 s
 * after the last failure, as readiness always did.
 */
public final class StoreAvailability implements AutoCloseable {
    /** How long a failed commit counts when no commit on that writer succeeded since. */
    public static final long FAILURE_WINDOW_MILLIS = 30_000;
    /** Probe period while a failure is recorded; nothing is probed while the store is fine. */
    static final long PROBE_INTERVAL_MILLIS = 2_000;

    private static final Logger log = LoggerFactory.getLogger(StoreAvailability.class);

    private final BatchWriter stateWriter;
    private final BatchWriters datapointWriters;
    private final Supplier<CompletableFuture<Void>> probeWrite;
    private final ScheduledExecutorService prober;
    /** The latest probe; no second one is queued while it waits (a locked database holds a commit up to 10 s). */
    private volatile CompletableFuture<Void> probing = CompletableFuture.completedFuture(null);
    /** What the last logged state was (see {@link #problem}), and who is logging a change now. */
    private volatile boolean unavailable;
    private final AtomicBoolean changing = new AtomicBoolean();

    /**
     * @param stateWriter      the writer {@code probeWrite} goes through
     * @param datapointWriters the data points' writers, whose failed commits count too
     * @param probeWrite       one small write through {@code stateWriter}, completing after its commit
     */
    public StoreAvailability(BatchWriter stateWriter, BatchWriters datapointWriters,
                             Supplier<CompletableFuture<Void>> probeWrite) {
        this.stateWriter = stateWriter;
        this.datapointWriters = datapointWriters;
        this.probeWrite = probeWrite;
        this.prober = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "store-probe");
            t.setDaemon(true);
            return t;
        });
        prober.scheduleWithFixedDelay(this::probeWhileFailing, PROBE_INTERVAL_MILLIS, PROBE_INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** Why the store is known not to take writes, or null when it is not. Memory only: safe on an event loop. */
    public String problem() {
        String problem = currentProblem();
        if ((problem != null) != unavailable && changing.compareAndSet(false, true)) {
            try {
                if ((problem != null) != unavailable) { // one line per change of state, whoever notices it
                    unavailable = problem != null;
                    if (unavailable) {
                        log.warn("store unavailable: new logins get CONNACK 3 and readiness fails until it recovers ({})",
                                problem);
                    } else {
                        log.warn("store available again: logins and readiness restored");
                    }
                }
            } finally {
                changing.set(false);
            }
        }
        return problem;
    }

    private String currentProblem() {
        String state = stateWriter.recentFailure(FAILURE_WINDOW_MILLIS);
        if (state != null) {
            return "store not writable: " + state;
        }
        String points = datapointWriters.recentFailure(FAILURE_WINDOW_MILLIS);
        return points == null ? null : "store not writable: last datapoint commit failed: " + points;
    }

    /** One write through the state writer now; its outcome is recorded like any commit's (blocks nobody). */
    public CompletableFuture<Void> probe() {
        CompletableFuture<Void> p = probeWrite.get();
        probing = p;
        return p;
    }

    private void probeWhileFailing() {
        try {
            if (probing.isDone() && problem() != null) {
                probe();
            }
        } catch (Throwable t) {
            // Anything: a periodic task that throws is never run again, and recovery would go unnoticed.
            log.warn("store probe failed to start: {}", t.toString()); // and try again next period
        }
    }

    @Override
    public void close() {
        prober.shutdownNow();
    }
}
