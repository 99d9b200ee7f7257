package io.stratus.hook;

import io.stratus.Config;
import io.stratus.device.DeviceListener;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.RegistrySync;
import io.stratus.monitor.Worker;
import io.stratus.store.Database;
import io.stratus.telemetry.Telemetry;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Outbound HTTP to applications: triggers (API §6.4, docs/decisions.md) and data push (Stratus extensions). Points and
 * presence come in through listeners that only enqueue ({@link #pointEvents}, {@link #deviceEvents}, registered by
 * {@code Platform}), one dispatcher thread decides what to send, and one {@link Delivery} sends it.
 */
public final class Hooks implements AutoCloseable {
    /** Kinds of the registry announcements: a trigger by its id, a data push target by its product id. */
    private static final char TRIGGER = 't';
    private static final char PUSH = 'u';

    private final Delivery delivery;
    private final Triggers triggers;
    private final DataPush push;
    private final Dispatcher dispatcher;
    private final TriggerWatch watch;
    private final TriggerPosts posts;

    private Hooks(Config.HookSettings settings, NetworkPolicy networks, Database database, DeviceRegistry registry,
                  Telemetry telemetry) {
        this.delivery = new Delivery(settings, networks);
        this.triggers = new Triggers(database, registry, networks);
        this.push = new DataPush(database, registry, delivery, networks);
        this.posts = new TriggerPosts(telemetry, delivery);
        this.watch = new TriggerWatch(triggers, registry, posts, System.currentTimeMillis());
        PushBatches batches = new PushBatches(push, settings.pushBatchMax(), settings.pushBatchDelay().toMillis());
        this.dispatcher = new Dispatcher(watch, batches, settings.queueCapacity(), settings.frozenCheck().toMillis());
    }

    /** {@code networks} is the policy of {@code hook.deny-networks} ({@link NetworkPolicy#of}). */
    public static Hooks start(Config config, NetworkPolicy networks, Database database, DeviceRegistry registry,
                              Telemetry telemetry) {
        return new Hooks(config.hooks(), networks, database, registry, telemetry);
    }

    /** Cluster mode: points other nodes stored (and fired triggers for), remembered for triggers' state. */
    public Telemetry.Listener pointsElsewhere() {
        return dispatcher::storedElsewhere;
    }

    /** Stored points, for triggers and data push: only enqueued, the dispatcher thread decides. */
    public Telemetry.Listener pointEvents() {
        return dispatcher;
    }

    /** Presence and device changes, for triggers ({@code live}, {@code frozen}) and data push: only enqueued. */
    public DeviceListener deviceEvents() {
        return dispatcher;
    }

    /**
     * Cluster mode: triggers and push targets created, changed or deleted here are announced to the other nodes, and
     * theirs read back from the store, so that whichever node stores a point fires what the cluster defines.
     */
    public void joinCluster(RegistrySync sync, BooleanSupplier reportsUnseenSilence) {
        watch.reportUnseenSilenceWhen(reportsUnseenSilence);
        triggers.announceTo(sync.follow(TRIGGER, triggers::refresh, triggers::reload));
        push.announceTo(sync.follow(PUSH, push::refresh, push::reload));
        triggers.reload(); // what changed elsewhere between loading at start and following
        push.reload();
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

    /** Queues a test post of {@code t} to its URL; false when the delivery queue is full. */
    public boolean testFire(Trigger t) {
        return posts.test(t);
    }

    /** The last outcomes of a trigger's posts (its tests included), newest first. */
    public List<DeliveryLog.Outcome> triggerDeliveries(long triggerId) {
        return delivery.recent().recent(DeliveryLog.trigger(triggerId));
    }

    /** The last outcomes of a product's data push posts, newest first. */
    public List<DeliveryLog.Outcome> pushDeliveries(long productId) {
        return delivery.recent().recent(DeliveryLog.push(productId));
    }

    /** Targets whose last outcomes are kept (at most {@code hook.recent-targets}). */
    public int deliveryLogTargets() {
        return delivery.recent().targets();
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
