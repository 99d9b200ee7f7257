package io.stratus;

import io.nats.client.Connection;
import io.stratus.broker.Broker;
import io.stratus.broker.ClusterLink;
import io.stratus.broker.Handovers;
import io.stratus.broker.Takeovers;
import io.stratus.command.Commands;
import io.stratus.cluster.NodeRequests;
import io.stratus.store.BatchWriter;
import io.nats.client.JetStreamApiException;
import io.stratus.cluster.Broadcast;
import io.stratus.cluster.LogBus;
import io.stratus.cluster.MessageLog;
import io.stratus.cluster.NatsLink;
import io.stratus.cluster.RouteBus;
import io.stratus.cluster.Subjects;
import io.stratus.device.AdminAccount;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.RegistrySync;
import io.stratus.hook.Hooks;
import io.stratus.telemetry.Telemetry;
import io.stratus.monitor.Health;
import io.stratus.monitor.Metrics;
import io.stratus.store.Database;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.net.UnknownHostException;
import io.stratus.device.Device;
import io.stratus.device.DeviceListener;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster mode's parts of a node (docs/cluster.md): its one NATS link and what travels over it. A single node has none
 * and opens nothing.
 */
final class ClusterNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
    /** The kind of registry announcement that says an admin session ended. */
    private static final char ADMIN_SESSIONS = 'a';

    private final String name;
    private final Connection nats;
    private final RouteBus routes;
    private final RegistrySync registrySync;
    private final Broadcast registryChanges;
    private final Broadcast retainedChanges;
    private final ClusterEvents events;
    private final ClusterLink link;
    private final Takeovers takeovers;
    private final NodeRequests requests;
    private final LogBus logBus;
    private final Handovers handovers;
    private final Runnable reopenLog;
    /** Compares the registry with the store after NATS was away; one at a time, at most one more waiting. */
    private final ThreadPoolExecutor resync = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(1), new ThreadPoolExecutor.DiscardPolicy());
    private static final Duration ACK_WAIT = Duration.ofSeconds(30);
    private static final Duration STREAM_OPEN_WITHIN = Duration.ofSeconds(30);
    private final LongAdder silentLinks = new LongAdder();
    private final long leaseMillis;
    private volatile long lastTick;
    private volatile long disconnectedSince;
    private volatile boolean fenced;
    private final LongAdder fences = new LongAdder();
    private final LongAdder adopted = new LongAdder();
    /** Adoptions of dead nodes' clients, one at a time (each reads the store and drains a consumer). */
    private final ExecutorService adoptions = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(64), new ThreadPoolExecutor.DiscardOldestPolicy());
    /** A node's heartbeat, and the check of the others' leases, every {@value #HEARTBEAT_MILLIS} ms. */
    private static final long HEARTBEAT_MILLIS = 2_000;
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cluster-heartbeat");
        t.setDaemon(true);
        return t;
    });

    private ClusterNode(Config config, Database db, BatchWriter stateWriter, DeviceRegistry registry, Broker broker) {
        ClusterSettings cluster = config.cluster();
        this.name = cluster.node(config.mqttPort());
        Subjects subjects = new Subjects(cluster.subjectPrefix());
        this.nats = NatsLink.connect(cluster.natsUrls(), name, this::reconnected);
        ClusterLink link = broker.cluster();
        this.routes = link.joinRoutes(receiver -> new RouteBus(nats, subjects, name, receiver));
        MessageLog messageLog = openLog(subjects, cluster);
        this.reopenLog = () -> openLog(subjects, cluster);
        this.retainedChanges = new Broadcast(nats, subjects.control("retained"), name, link::retainedChangedElsewhere);
        link.announceRetained(retainedChanges::send);
        this.events = new ClusterEvents(nats, subjects.control("events"), name, cluster.maxPendingEvents());
        this.link = link;
        this.requests = new NodeRequests(nats, subjects, name);
        RegistrySync[] sync = new RegistrySync[1];
        this.registryChanges = new Broadcast(nats, subjects.control("registry"), name, change -> sync[0].received(change));
        this.registrySync = sync[0] = new RegistrySync(db, registry, registryChanges::send, cluster.maxDeviceLookups(),
                requests.incarnation());
        this.leaseMillis = cluster.leaseSeconds() * 1000L;
        this.takeovers = link.claimClientIds(db, stateWriter, requests, cluster.maxPendingClaims());
        takeovers.onMoved(new Takeovers.Moved() {
            @Override
            public void moved(long productId, String clientId, String incarnation, long epoch) {
                long deviceId = Device.idOf(clientId);
                if (deviceId != 0) {
                    registrySync.movedElsewhere(deviceId, incarnation, epoch);
                }
            }

            @Override
            public void ownerGone(String incarnation) {
                adoptions.execute(() -> adopt(incarnation));
            }
        });
        this.handovers = link.handOver(db, requests, name, messageLog::lastSeq, ACK_WAIT.plusSeconds(10), cluster.streamMaxAge());
        // Before this node reads its consumer again: what it holds unread is owed to these sessions.
        int restored = link.restoreOwned(name, requests.incarnation());
        if (restored > 0) {
            log.info("Took back {} client ids of this node's earlier starts, with their persistent sessions", restored);
        }
        int handedOver = handovers.load(name);
        if (handedOver > 0) {
            log.info("{} persistent sessions left this node while it was away; what its consumer holds for them goes to them",
                    handedOver);
        }
        this.logBus = link.joinLog(receiver -> new LogBus(messageLog, subjects, name, receiver, handovers));
        heartbeat.scheduleWithFixedDelay(this::tick, 0, HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Joins the cluster when {@code cluster.nats-url} is set; null on a single node. */
    static ClusterNode join(Config config, Database db, BatchWriter stateWriter, DeviceRegistry registry, Broker broker) {
        return config.cluster().enabled() ? new ClusterNode(config, db, stateWriter, registry, broker) : null;
    }

    String name() {
        return name;
    }

    /** {@code listener} hears of devices coming online or going offline on other nodes (for {@code /events}). */
    void presenceElsewhereTo(DeviceListener listener) {
        registrySync.addRemoteListener(listener);
    }

    /** This node's stored points go to the other nodes' {@code /events}, and theirs to {@code local} (not to triggers). */
    void pointsElsewhereTo(Telemetry telemetry, Telemetry.Listener local) {
        events.connect(telemetry, local);
    }

    /** Triggers and data push set on any node apply on every node, announced like the registry's changes. */
    /** A logout on any node ends that session on every node (each keeps the sessions it has seen in memory). */
    void syncAdminSessions(AdminAccount admin) {
        LongConsumer announce = registrySync.follow(ADMIN_SESSIONS, ended -> admin.forgetEnded(), admin::forgetEnded);
        admin.announceLogoutsTo(() -> announce.accept(0));
    }

    void syncHooks(Hooks hooks) {
        hooks.joinCluster(registrySync, () -> registrySync.firstAlive(name));
        events.alsoTo(hooks.pointsElsewhere()); // what a trigger knows of a device holds when it moves here
    }

    /** Commands to devices connected to other nodes go through those nodes ({@link CommandRelay}). */
    void relayCommands(Commands commands) {
        CommandRelay.start(takeovers, requests, commands);
    }

    /** The stream of QoS 1/2 messages and this node's consumer of it, made or updated to the settings. */
    private MessageLog openLog(Subjects subjects, ClusterSettings cluster) {
        // A message unacknowledged for 30 s comes again; 10,000 read and unacknowledged at most per node.
        MessageLog.Settings settings = new MessageLog.Settings(cluster.streamReplicas(), cluster.streamMaxAge(),
                cluster.streamMaxBytes(), Duration.ofMinutes(2), ACK_WAIT, 10_000);
        // JetStream may be electing a leader (a nats-server of the cluster just died or restarted): try for a while.
        long deadline = System.nanoTime() + STREAM_OPEN_WITHIN.toNanos();
        while (true) {
            try {
                return MessageLog.open(nats, subjects, name, settings);
            } catch (IOException | JetStreamApiException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot open the cluster's message stream on NATS (is JetStream on? -js): "
                            + e.getMessage(), e);
                }
                log.info("The cluster's message stream is not reachable yet ({}); trying again", e.getMessage());
                sleep(1_000);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while opening the cluster's message stream", e);
        }
    }

    /**
     * A link that says it is connected but does not carry a PING to the server and back within 2 s is reconnected:
     * the NATS client has had bugs that left a connection CONNECTED and silent after a failover.
     */
    private void checkLink() {
        if (nats.getStatus() != Connection.Status.CONNECTED) {
            return;
        }
        try {
            nats.flush(Duration.ofSeconds(2));
        } catch (TimeoutException e) {
            silentLinks.increment();
            log.warn("The NATS link says it is connected but carries nothing: reconnecting it");
            try {
                nats.forceReconnect();
            } catch (IOException failed) {
                log.warn("reconnecting to NATS failed: {}", failed.toString());
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Every heartbeat period: the heartbeat and the others' leases ({@link RegistrySync#tick}); and the self-fence: a
     * node that could not take part for half its lease (frozen, or cut off from NATS) may have been taken for dead and
     * its clients adopted, so it closes its connections and lets go of its sessions before two nodes serve one client.
     */
    private void tick() {
        long now = System.currentTimeMillis();
        // Ticks come every HEARTBEAT_MILLIS; a gap of half the lease more than that means this node did not run.
        boolean stalled = lastTick != 0 && now - lastTick > leaseMillis / 2 + HEARTBEAT_MILLIS;
        lastTick = now;
        if (routes.connected()) {
            disconnectedSince = 0;
        } else if (disconnectedSince == 0) {
            disconnectedSince = now;
        }
        boolean cutOff = disconnectedSince != 0 && now - disconnectedSince > leaseMillis / 2;
        if (stalled || cutOff && !fenced) {
            fenced = true;
            fences.increment();
            log.warn("This node was {} for more than half its lease: closing its connections", stalled ? "frozen" : "cut off from NATS");
            link.fence(stalled ? "this node was frozen longer than its lease" : "this node lost the cluster");
        }
        if (!cutOff && fenced) {
            fenced = false;
            adoptions.execute(() -> {
                link.restoreOwned(name, requests.incarnation());
                handovers.load(name);
                logBus.resume(reopenLog); // a survivor may have drained and deleted this node's consumer meanwhile
            });
        }
        registrySync.tick(leaseMillis, dead -> adoptions.execute(() -> adopt(dead)));
        handovers.sweep();
        checkLink();
        String why = routes.connected() && !fenced ? logBus.resumeIfNotReading(reopenLog) : null;
        if (why != null) {
            log.warn("Reading this node's consumer of the message stream again: {}", why);
        }
    }

    /** A node died (or stopped): its client ids and persistent sessions come here, with what its consumer still held. */
    private void adopt(String dead) {
        try {
            int sessions = link.adopt(dead, requests.incarnation());
            adopted.add(sessions);
            String deadName = dead.substring(0, Math.max(0, dead.lastIndexOf('/')));
            // Also when it took no client id: clients of the dead node may have moved elsewhere by themselves already.
            int drained = 0;
            if (!registrySync.aliveByName(deadName)) {
                int owed = handovers.load(deadName);
                drained = logBus.drain(deadName, ACK_WAIT, () -> !registrySync.aliveByName(deadName),
                        () -> handovers.load(deadName)); // its clients still reconnect elsewhere meanwhile
                handovers.drained(deadName, drained >= 0);
                log.info("Adopted {} client ids of {} (gone); read {} messages of its consumer for {} sessions that left it",
                        sessions, dead, drained, owed);
            }
        } catch (Exception e) {
            handovers.drained(dead.substring(0, Math.max(0, dead.lastIndexOf('/'))), false); // their rows stay for the next reader
            log.warn("adopting the clients of {} failed: {}", dead, e.toString());
        }
    }

    private void reconnected() {
        log.info("NATS is back: comparing this node's registry and retained messages with the store");
        resync.execute(() -> {
            logBus.resume(reopenLog);
            registrySync.resyncAll();
            link.resyncRetained();
        });
    }

    /** Not ready while the NATS link is down: a balancer then sends new clients to nodes that reach the others. */
    Health health(Health health) {
        return health.check("cluster", () -> routes.connected() ? null : "no NATS connection (the other nodes are out of reach)");
    }

    /** Cluster mode's figures, added to {@code metrics}. */
    Metrics metrics(Metrics metrics) {
        return Instruments.cluster(metrics, routes)
                .counter("stratus_cluster_registry_changes_sent_total", "Changes of products, devices and keys announced to the other nodes",
                        registrySync::announcedCount)
                .counter("stratus_cluster_registry_changes_applied_total", "Changes announced by other nodes and read back from the store",
                        registrySync::appliedCount)
                .counter("stratus_cluster_registry_changes_dropped_total",
                        "Announcements NATS dropped before this node read them (healed by the next comparison with the store)",
                        registryChanges::droppedCount)
                .counter("stratus_cluster_device_lookups_total", "Devices looked up in the store for a CONNECT (made on another node)",
                        registrySync::lookedUpCount)
                .counter("stratus_cluster_device_lookups_refused_total",
                        "CONNECTs answered 3 because cluster.max-device-lookups look-ups already waited", registrySync::lookupsRefusedCount)
                .gauge("stratus_cluster_devices_online_elsewhere", "Devices online on other nodes, as they announced them",
                        registrySync::onlineElsewhereCount)
                .counter("stratus_cluster_adopted_total", "Client ids this node took over from nodes that died or stopped",
                        adopted::sum)
                .counter("stratus_cluster_wills_adopted_total", "Wills of dead nodes' connections this node published",
                        link::willsPublishedCount)
                .counter("stratus_cluster_nats_silent_links_total",
                        "Times the NATS link said it was connected but carried no PING, and was reconnected", silentLinks::sum)
                .counter("stratus_cluster_fences_total",
                        "Times this node closed every connection after losing the cluster for half its lease", fences::sum)
                .counter("stratus_cluster_log_appended_total", "QoS 1/2 messages of this node's clients stored in the cluster's stream",
                        logBus::appendedCount)
                .counter("stratus_cluster_log_appends_failed_total",
                        "QoS 1/2 messages the stream refused or did not confirm (not acknowledged to their publisher)",
                        logBus::appendsFailedCount)
                .counter("stratus_cluster_log_received_total", "QoS 1/2 messages of other nodes read from the stream",
                        logBus::receivedCount)
                .gauge("stratus_cluster_handovers_open",
                        "Persistent sessions that left a node whose consumer this node reads, still owed what it holds",
                        handovers::openCount)
                .counter("stratus_cluster_handover_messages_total",
                        "Messages a node's consumer owed sessions that had left it, sent to their new node", handovers::forwardedCount)
                .counter("stratus_cluster_handover_messages_given_up_total",
                        "Of those, messages whose session's node could not be reached for 10 s", handovers::givenUpCount)
                .counter("stratus_cluster_log_redelivered_total", "Of those, read again after a failure or a restart",
                        logBus::redeliveredCount)
                .counter("stratus_cluster_client_claims_total", "Client ids claimed in the store by CONNECTs accepted here",
                        takeovers::claimedCount)
                .counter("stratus_cluster_client_claims_refused_total",
                        "CONNECTs answered 3 because cluster.max-pending-claims claims already waited", takeovers::refusedCount)
                .gauge("stratus_cluster_client_claims_queued", "Claims waiting to be written", takeovers::queued)
                .counter("stratus_cluster_takeovers_sent_total", "Claims that asked another node to close its connection of the client id",
                        takeovers::kicksSentCount)
                .counter("stratus_cluster_takeovers_owner_gone_total",
                        "Of those, the other node was gone or did not answer within 1 s", takeovers::ownersGoneCount)
                .counter("stratus_cluster_takeovers_closed_here_total",
                        "Connections this node closed because another node accepted their client id", takeovers::closedHereCount)
                .counter("stratus_cluster_events_sent_total", "Announcements of points stored here, for the other nodes' /events",
                        events::sentCount)
                .counter("stratus_cluster_events_received_total", "Announcements of other nodes' points handed to this node's /events",
                        events::receivedCount)
                .counter("stratus_cluster_events_dropped_total", "Announcements of points lost: not sent (NATS away, a point too "
                        + "large) or dropped by NATS because this node took them too slowly", events::droppedCount);
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        adoptions.shutdownNow();
        registrySync.leaving();
        resync.shutdownNow();
        logBus.close();
        takeovers.close();
        registrySync.close();
        registryChanges.close();
        retainedChanges.close();
        events.close();
        routes.close();
        try {
            nats.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
