package io.stratus.hook;

import io.stratus.Config;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.monitor.Worker;
import io.stratus.store.Database;
import io.stratus.telemetry.Telemetry;
import java.util.ArrayList;
import java.util.List;

/**
 * Outbound HTTP to applications: triggers (API §6.4, docs/decisions.md) and data push (Stratus extensions). Points and
 * presence come in through listeners that only enqueue ({@link #pointEvents}, {@link #deviceEvents}, registered by
 * {@code Platform}), one dispatcher thread decides what to send, and one {@link Delivery} sends it.
 */
public final class Hooks implements AutoCloseable {
    private final Delivery delivery;
    private final Triggers triggers;
    private final DataPush push;
    private final Dispatcher dispatcher;

    private Hooks(Config.HookSettings settings, NetworkPolicy networks, Database database, DeviceRegistry registry,
                  Telemetry telemetry) {
        this.delivery = new Delivery(settings, networks);
        this.triggers = new Triggers(database, registry, networks);
        this.push = new DataPush(database, registry, delivery, networks);
        TriggerWatch watch = new TriggerWatch(triggers, registry, new TriggerPosts(telemetry, delivery), System.currentTimeMillis());
        PushBatches batches = new PushBatches(push, settings.pushBatchMax(), settings.pushBatchDelay().toMillis());
        this.dispatcher = new Dispatcher(watch, batches, settings.queueCapacity(), settings.frozenCheck().toMillis());
    }

    /** {@code networks} is the policy of {@code hook.deny-networks} ({@link NetworkPolicy#of}). */
    public static Hooks start(Config config, NetworkPolicy networks, Database database, DeviceRegistry registry,
                              Telemetry telemetry) {
        return new Hooks(config.hooks(), networks, database, registry, telemetry);
    }

    /** Stored points, for triggers and data push: only enqueued, the dispatcher thread decides. */
    public Telemetry.Listener pointEvents() {
        return dispatcher;
    }

    /** Presence and device changes, for triggers ({@code live}, {@code frozen}) and data push: only enqueued. */
    public DeviceListener deviceEvents() {
        return dispatcher;
    }

    public Triggers triggers() {
        return triggers;
    }

    public DataPush push() {
        return push;
    }

    /** Counters of outbound posts. */
    public Delivery.Stats deliveryStats() {
        return delivery.stats();
    }

    /** Hook events dropped because the dispatcher fell behind. */
    public long droppedEvents() {
        return dispatcher.dropped();
    }

    /** The dispatcher and sender threads, for readiness and tests. */
    public List<Worker> workers() {
        List<Worker> workers = new ArrayList<>();
        workers.add(dispatcher.worker());
        workers.addAll(delivery.senders());
        return workers;
    }

    /** Hook events waiting for the dispatcher. */
    public int queuedEvents() {
        return dispatcher.queued();
    }

    @Override
    public void close() {
        dispatcher.close();
        delivery.close();
    }
}
