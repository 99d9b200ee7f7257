package io.stratus.mqtt;

import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The CONNECT timeout and keep-alive of a server's connections (D7, D20), checked by one task per event loop every
 * {@link #TICK_MILLIS} instead of a scheduled timer per connection. A timer per connection cost about 280 bytes of heap
 * (Netty's {@code IdleStateHandler}, its pipeline context and its task) and two insertions into the loop's timer queue
 * per connect; here a connection is one slot in its loop's array. A deadline is noticed up to one tick late, as in
 * brokers that check keep-alive once a second.
 */
final class ConnectionDeadlines {
    /** How often each loop looks at its connections; 19,000 connections take well under a millisecond a look. */
    static final long TICK_MILLIS = 500;

    private final Map<EventExecutor, Loop> loops = new ConcurrentHashMap<>();

    /** Watches {@code connection} on its event loop (called there) until {@link #remove}: first its CONNECT timeout. */
    void add(EventExecutor executor, MqttConnection connection, Duration connectTimeout) {
        connection.deadline = executor.ticker().nanoTime() + connectTimeout.toNanos();
        loops.computeIfAbsent(executor, Loop::new).add(connection);
    }

    /** After CONNECT: silence for 1.5 x {@code seconds} closes the connection (D7, [MQTT-3.1.2-24]); 0: never. */
    void keepAlive(EventExecutor executor, MqttConnection connection, int seconds) {
        connection.idleNanos = TimeUnit.MILLISECONDS.toNanos(seconds * 1500L);
        connection.deadline = executor.ticker().nanoTime() + connection.idleNanos;
        connection.readSinceCheck = false;
        if (seconds == 0) {
            remove(executor, connection);
        }
    }

    void remove(EventExecutor executor, MqttConnection connection) {
        Loop loop = loops.get(executor);
        if (loop != null) {
            loop.remove(connection);
        }
    }

    /** The connections of one event loop; touched only on that loop. */
    private static final class Loop {
        private final EventExecutor executor;
        private MqttConnection[] connections = new MqttConnection[64];
        private int size;

        Loop(EventExecutor executor) {
            this.executor = executor;
            executor.scheduleAtFixedRate(this::check, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        }

        void add(MqttConnection c) {
            if (size == connections.length) {
                connections = Arrays.copyOf(connections, size * 2);
            }
            c.deadlineSlot = size;
            connections[size++] = c;
        }

        void remove(MqttConnection c) {
            int i = c.deadlineSlot;
            if (i < 0 || i >= size || connections[i] != c) {
                return;
            }
            MqttConnection last = connections[--size];
            connections[i] = last;
            last.deadlineSlot = i;
            connections[size] = null;
            c.deadlineSlot = -1;
        }

        private void check() {
            long now = executor.ticker().nanoTime();
            // From the end: a connection that closes now may leave its slot to the last one, already checked.
            for (int i = size - 1; i >= 0; i--) {
                if (i < size) {
                    checkOne(connections[i], now);
                }
            }
        }
    }

    /**
     * Before CONNECT the deadline is the CONNECT timeout's. After it, a connection that read a packet since the last
     * check gets a new keep-alive deadline from now; one that did not is closed once the deadline has passed.
     */
    private static void checkOne(MqttConnection c, long now) {
        if (c.idleNanos > 0 && c.readSinceCheck) {
            c.readSinceCheck = false;
            c.deadline = now + c.idleNanos;
        } else if (now - c.deadline >= 0) {
            c.deadlinePassed();
        }
    }
}
