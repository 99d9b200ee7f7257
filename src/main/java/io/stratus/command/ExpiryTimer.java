package io.stratus.command;

import io.stratus.monitor.Worker;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Consumer;

/**
 * The {@code command-timer} thread: expires open commands when their window ends. It walks one ordered set of
 * (expiry time, id) rather than holding a scheduled task per command, and sleeps until the next expiry; adding an
 * earlier one wakes it.
 */
final class ExpiryTimer {
    /** When an open command expires; ordered by time, then id. Holds nothing else of the command. */
    record Expiry(long at, String uuid) implements Comparable<Expiry> {
        @Override
        public int compareTo(Expiry o) {
            int byTime = Long.compare(at, o.at);
            return byTime != 0 ? byTime : uuid.compareTo(o.uuid);
        }
    }

    private final ConcurrentSkipListSet<Expiry> expiries = new ConcurrentSkipListSet<>();
    /** The timer's wake-up: set when an expiry earlier than the one it waits for is added. */
    private final Object timerSignal = new Object();
    private boolean timerWakeup;
    private volatile boolean closed;
    private volatile Worker worker;
    private volatile Runnable periodic;
    private volatile long periodMillis;
    private long periodicDue; // on the timer's thread only

    /**
     * Starts the thread, which calls {@code expire} with the id of each command whose expiry is due. Expiries may be
     * scheduled before: the open commands of an earlier run are tracked before the timer starts.
     */
    void start(Consumer<String> expire) {
        worker = Worker.start("command-timer", () -> expireDue(expire));
    }

    void schedule(Expiry e) {
        expiries.add(e);
        if (first() == e) {
            wake();
        }
    }

    /** Also runs {@code task} on the timer's thread every {@code millis}, from its next round on. */
    void every(long millis, Runnable task) {
        periodMillis = millis;
        periodic = task;
        wake();
    }

    private void wake() {
        synchronized (timerSignal) {
            timerWakeup = true;
            timerSignal.notifyAll();
        }
    }

    void cancel(Expiry e) {
        expiries.remove(e);
    }

    /** The timer's round: expires what is due, then waits for the next expiry or an earlier one to be added. */
    private boolean expireDue(Consumer<String> expire) throws InterruptedException {
        long now = System.currentTimeMillis();
        Expiry next;
        while ((next = first()) != null && next.at() <= now) {
            expire.accept(next.uuid()); // removed after: a failure here leaves it for the next round
            expiries.remove(next);
        }
        // At most a minute: the wall clock may be set forward meanwhile.
        long wait = next == null ? 60_000 : Math.min(60_000, next.at() - now);
        Runnable task = periodic;
        if (task != null) {
            if (now >= periodicDue) {
                periodicDue = now + periodMillis;
                task.run();
            }
            wait = Math.min(wait, periodicDue - System.currentTimeMillis());
        }
        synchronized (timerSignal) {
            if (!timerWakeup && !closed) {
                timerSignal.wait(Math.max(1, wait));
            }
            timerWakeup = false;
        }
        return !closed;
    }

    private Expiry first() {
        try {
            return expiries.first();
        } catch (NoSuchElementException empty) {
            return null;
        }
    }

    Worker worker() {
        return worker;
    }

    /** Tells the thread to end; does not wait (join its {@link #worker}). */
    void stop() {
        closed = true;
        worker.stop();
    }
}
