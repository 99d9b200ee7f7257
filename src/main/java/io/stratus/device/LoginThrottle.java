package io.stratus.device;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Failed-login rate limiting with exponential back-off, per key: a client address, or an identity (a device, the
 * admin account) together with the address that tries it. An identity is never blocked for every address at once:
 * then anyone who knows a device id could lock the device out with a few bad logins from anywhere. A guesser is
 * still held to {@code maxFailures} tries per identity per address, and to {@code maxFailuresPerAddress} in all.
 * After {@code maxFailures} consecutive failures of a key, the key is blocked for {@code base}, then for twice
 * as long after each further failure, up to {@code max}. While a key is blocked every login of it is refused,
 * even one with the right credential, so guessing gains nothing from speed. A success clears the key.
 *
 * <p>Memory only and lock-free (one map compute per call), so MQTT CONNECTs check it on the event loop. The map
 * is bounded: stale entries (not blocked, quiet for {@code max}) are swept when it grows, and past
 * {@link #MAX_KEYS} new keys are not tracked at all rather than let a spray of addresses grow the heap.
 */
public final class LoginThrottle {
    /** More distinct failing keys than this are not tracked (about 100 bytes each). */
    static final int MAX_KEYS = 100_000;
    private static final int SWEEP_AT = 10_000;

    private static final class Entry {
        int failures;
        long lastFailure;
        long blockedUntil;
    }

    private final int maxFailures;
    private final int maxFailuresPerAddress;
    private final long baseMillis;
    private final long maxMillis;
    private final LongSupplier clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final LongAdder failures = new LongAdder();
    private final LongAdder blocked = new LongAdder();
    private volatile long nextSweepSize = SWEEP_AT;
    private volatile long nextSweepAt;

    /**
     * @param maxFailures consecutive failures of a device or account before it is blocked
     * @param maxFailuresPerAddress failures from one client address before it is blocked (a NAT hides many clients)
     */
    public LoginThrottle(int maxFailures, int maxFailuresPerAddress, long baseMillis, long maxMillis, LongSupplier clock) {
        this.maxFailures = maxFailures;
        this.maxFailuresPerAddress = maxFailuresPerAddress;
        this.baseMillis = baseMillis;
        this.maxMillis = Math.max(baseMillis, maxMillis);
        this.clock = clock;
    }

    public LoginThrottle(int maxFailures, int maxFailuresPerAddress, long baseMillis, long maxMillis) {
        this(maxFailures, maxFailuresPerAddress, baseMillis, maxMillis, System::currentTimeMillis);
    }

    /** The key of a client address (IP only: the port changes with every connection). */
    public static String address(String ip) {
        return "ip:" + ip;
    }

    /** The key of a device tried from a client address, for MQTT logins. */
    public static String device(long deviceId, String ip) {
        return "device:" + deviceId + "@" + ip;
    }

    /** The key of a named account (the admin) tried from a client address, for HTTP logins. */
    public static String account(String name, String ip) {
        return "account:" + name + "@" + ip;
    }

    /** Milliseconds the longest-blocked of {@code keys} stays blocked; 0 when none is. Counts a refused attempt. */
    public long blockedMillis(String... keys) {
        long now = clock.getAsLong();
        long longest = 0;
        for (String key : keys) {
            Entry e = entries.get(key);
            if (e != null) {
                long left;
                synchronized (e) {
                    left = e.blockedUntil - now;
                }
                longest = Math.max(longest, left);
            }
        }
        if (longest > 0) {
            blocked.increment();
        }
        return longest;
    }

    /** Records a failed login against each key. */
    public void failure(String... keys) {
        failures.increment();
        long now = clock.getAsLong();
        for (String key : keys) {
            if (!entries.containsKey(key) && entries.size() >= nextSweepSize) {
                if (now >= nextSweepAt) {
                    sweep(now);
                }
                if (entries.size() >= MAX_KEYS) {
                    continue;
                }
            }
            int limit = key.startsWith("ip:") ? maxFailuresPerAddress : maxFailures;
            entries.compute(key, (k, e) -> {
                Entry entry = e == null ? new Entry() : e;
                synchronized (entry) {
                    if (now - entry.lastFailure > maxMillis && entry.blockedUntil <= now) {
                        entry.failures = 0; // quiet for long enough: start counting afresh
                    }
                    entry.failures++;
                    entry.lastFailure = now;
                    if (entry.failures >= limit) {
                        int doublings = Math.min(entry.failures - limit, 30);
                        entry.blockedUntil = now + Math.min(maxMillis, baseMillis << doublings);
                    }
                }
                return entry;
            });
        }
    }

    /** A successful login clears the keys' failures. */
    public void success(String... keys) {
        for (String key : keys) {
            entries.remove(key);
        }
    }

    /** Failed logins since start. */
    public long failureCount() {
        return failures.sum();
    }

    /** Logins refused because a key was blocked, since start. */
    public long blockedCount() {
        return blocked.sum();
    }

    /** Keys tracked now (for tests and metrics). */
    public int trackedKeys() {
        return entries.size();
    }

    private synchronized void sweep(long now) {
        entries.values().removeIf(e -> {
            synchronized (e) {
                return e.blockedUntil <= now && now - e.lastFailure > maxMillis;
            }
        });
        nextSweepSize = Math.min(MAX_KEYS, Math.max(SWEEP_AT, entries.size() * 2));
        // A full table swept in vain is not swept again for a second: a spray of new keys must not make every
        // failure a scan of 100,000 entries on an event loop.
        nextSweepAt = entries.size() >= MAX_KEYS ? now + 1000 : 0;
    }
}
