package io.stratus.monitor;

import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long-lived thread of the server (a writer, the hook dispatcher, a hook sender, the command timer) that outlives
 * whatever its work throws. The work is a {@link Step} run over and over; a step that throws anything, an
 * {@link OutOfMemoryError} as much as a bug, is logged at ERROR and counted, and the next step runs after a pause
 * that doubles with each failure in a row ({@value #FIRST_PAUSE_MILLIS} ms up to {@value #MAX_PAUSE_MILLIS} ms), so
 * that a failing step neither kills the thread nor spins on the log. (A plain thread that catches only
 * RuntimeException dies silently on the first Error, and whatever it served stops for good.)
 *
 * <p>{@link #problem()} is for readiness: a worker whose thread ended without being told to (only a failure while
 * handling a failure can do that) or whose last {@value #CRASH_LOOP} steps all failed is reported, so that an
 * orchestrator can restart a server that cannot serve.
 */
public final class Worker {
    /** One round of the worker's loop. */
    @FunctionalInterface
    public interface Step {
        /** Does one round of work; false when the worker is done (it was told to stop and has finished). */
        boolean run() throws InterruptedException;
    }

    /** Failures in a row after which readiness reports the worker. */
    static final int CRASH_LOOP = 3;
    static final long FIRST_PAUSE_MILLIS = 10;
    static final long MAX_PAUSE_MILLIS = 1_000;

    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final String name;
    private final Step step;
    private final Thread thread;
    private final LongAdder failures = new LongAdder();
    private volatile int failuresInRow;
    private volatile String lastFailure;
    private volatile String death;
    private volatile boolean stopping;
    private volatile boolean finished;
    /** Test hook: while set, every step throws it instead of running (see {@link #injectFailure}). */
    private volatile Throwable injected;

    private Worker(String name, Step step) {
        this.name = name;
        this.step = step;
        this.thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.setUncaughtExceptionHandler((t, e) -> {
            death = describe(e);
            log.error("{} thread died: {}", name, death);
        });
    }

    /** Starts a daemon thread called {@code name} that runs {@code step} until it returns false or {@link #stop}. */
    public static Worker start(String name, Step step) {
        Worker w = new Worker(name, step);
        w.thread.start();
        return w;
    }

    public String name() {
        return name;
    }

    /** Steps that threw, since start. */
    public long failures() {
        return failures.sum();
    }

    /** Null while the worker serves (or was stopped); else why readiness should fail, in a few words. */
    public String problem() {
        if (!finished && !thread.isAlive()) {
            return name + " thread died" + (death == null ? "" : ": " + death);
        }
        int inRow = failuresInRow;
        if (!finished && inRow >= CRASH_LOOP) {
            return name + " thread failing: " + inRow + " failures in a row, the last " + lastFailure;
        }
        return null;
    }

    /** Tells the worker to end: it ends at its next check or when its step is interrupted. Does not wait. */
    public void stop() {
        stopping = true;
        thread.interrupt();
    }

    /** Waits up to {@code millis} for the thread to end. */
    public void join(long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Fault injection for tests of failing workers: while {@code failure} is not null every step throws it instead of
     * running, from the step after the one in progress (a worker waiting for work throws once that step has ended);
     * null clears it.
     */
    public void injectFailure(Throwable failure) {
        injected = failure;
    }

    private void loop() {
        while (!stopping) {
            try {
                Throwable failure = injected;
                if (failure != null) {
                    throw failure;
                }
                if (!step.run()) {
                    break;
                }
                failuresInRow = 0;
            } catch (InterruptedException e) {
                // Only stop() interrupts a worker; the loop's condition decides.
            } catch (Throwable t) {
                failed(t);
                pause();
            }
        }
        finished = true;
    }

    private void failed(Throwable t) {
        failures.increment();
        int inRow = ++failuresInRow; // only this thread writes it
        try {
            lastFailure = describe(t);
            log.error("{} thread: a step failed ({} in a row), running on: {}", name, inRow, lastFailure, t);
        } catch (Throwable again) {
            // Logging can fail too (out of memory): the count and the readiness check still tell.
        }
    }

    private void pause() {
        long millis = Math.min(MAX_PAUSE_MILLIS, FIRST_PAUSE_MILLIS << Math.min(failuresInRow - 1, 20));
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            // stop(): the loop's condition ends it
        }
    }

    private static String describe(Throwable t) {
        try {
            return t.toString();
        } catch (Throwable again) {
            return t.getClass().getName();
        }
    }
}
