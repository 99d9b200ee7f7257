package io.stratus;

import io.stratus.api.ApiServer;
import io.stratus.broker.Broker;
import io.stratus.command.Commands;
import io.stratus.device.AdminAccount;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.LoginThrottle;
import io.stratus.hook.Hooks;
import io.stratus.hook.NetworkPolicy;
import io.stratus.monitor.Health;
import io.stratus.monitor.Metrics;
import io.stratus.monitor.Worker;
import io.stratus.mqtt.MqttServer;
import io.stratus.store.BatchWriter;
import io.stratus.store.BatchWriters;
import io.stratus.store.Database;
import io.stratus.store.HistoryPartitions;
import io.stratus.store.StoreAvailability;
import io.stratus.tls.TlsFiles;
import io.stratus.telemetry.Telemetry;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The composition root: builds every part of a server, starts it, and closes it in reverse order. */
public final class Platform implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Platform.class);

    private final Config config;
    private final Database database;
    private final HistoryPartitions partitions;
    private final BatchWriter stateWriter;
    private final DeviceRegistry registry;
    private final AdminAccount admin;
    private final Broker broker;
    private final BatchWriters datapointWriters;
    private final Telemetry telemetry;
    private final BatchWriter commandWriter;
    private final Commands commands;
    private final Hooks hooks;
    private final StoreAvailability store;
    private final MqttServer mqtt;
    /** Cluster mode's link to the other nodes (docs/cluster.md); null on a single node. */
    private final ClusterNode cluster;
    /** The certificate files of the TLS ports, watched for renewals; null without TLS. */
    private final TlsFiles tlsFiles;
    private final ApiServer api;
    private final List<Worker> workers = new ArrayList<>();
    private volatile boolean closed;

    /**
     * Builds the server in the order data flows through it. docs/architecture.md walks the same path: a {@code $dp} from
     * socket to SQL, history out, a command round trip.
     */
    private Platform(Config config) {
        long started = System.nanoTime();
        this.config = config;

        // Read before anything opens: an entry that is no CIDR block refuses the start, naming it and the setting.
        NetworkPolicy deniedNetworks = NetworkPolicy.of(config.hooks().denyNetworks());

        // The store and its writers. Each BatchWriter is one thread that commits what is queued in one transaction.
        this.database = Database.open(config.dataDir(), config.storeSync(), config.store().url(), config.store().passwordFile(),
                config.store().datapointWriters());
        this.partitions = HistoryPartitions.start(database); // PostgreSQL: monthly history partitions, made ahead
        this.stateWriter = new BatchWriter(database, "state", 65_536, 1_000); // presence, sessions, retained, user topics
        // Data points: on PostgreSQL store.datapoint-writers side by side, each device's points on one of them.
        this.datapointWriters = new BatchWriters(database, "datapoint", database.datapointWriters(), 65_536, 1_000);
        this.commandWriter = new BatchWriter(database, "command", 16_384, 500);

        // Products, devices and keys: the store's in-memory cache that every login and API call reads.
        this.registry = new DeviceRegistry(database, stateWriter, config.allowAnonymous(), config.devicesMaxPerProduct());
        this.admin = AdminAccount.open(database, config.adminPassword());

        // MQTT routing. A connection hands each PUBLISH to its broker.Client: a system topic goes to the handler
        // registered here, any other topic to the subscribers of the publisher's product.
        this.broker = new Broker(config, database, stateWriter, registry);
        // Cluster mode: QoS 0 messages and registry changes to and from the other nodes over NATS (docs/cluster.md).
        this.cluster = ClusterNode.join(config, database, stateWriter, registry, broker);

        // $dp: decoded on the publisher's event loop (Telemetry.onDp), committed by its device's datapoint writer, forwarded to
        // /{device_id}/{stream} after the commit; the PUBACK waits for the commit.
        this.telemetry = new Telemetry(config, database, broker, datapointWriters);
        broker.registerSystemTopic("$dp", telemetry::onDp);

        // Commands: POST /cmds -> Commands.send -> $creq/{uuid} on the device's connection; $crsp/{uuid} comes back here.
        this.commands = new Commands(database, commandWriter, broker, registry, config.sharedLimits().commandsMaxOpen(),
                config.sharedLimits().commandsMaxOpenPerProduct());
        broker.registerSystemPrefix(Commands.RESPONSE_PREFIX, commands::onResponse);
        if (cluster != null) {
            cluster.relayCommands(commands); // a device connected to another node gets its commands through it
        }

        // Triggers and data push: fed by every commit of points and by presence; one dispatcher, bounded senders.
        this.hooks = Hooks.start(config, deniedNetworks, database, registry, telemetry);
        telemetry.addListener(hooks.pointEvents());
        if (cluster != null) {
            cluster.syncHooks(hooks); // defined on any node; fired where the point is stored
            cluster.syncAdminSessions(admin); // a logout anywhere ends the session everywhere
        }

        // What a change of a device or product sets off, in this order (DeviceListener).
        registry.addListener(broker.deviceEvents()); // connections closed, sessions and caches dropped
        registry.addListener(telemetry.deviceEvents()); // a deleted device's points
        registry.addListener(commands.deviceEvents()); // open commands sent at login, a deleted device's forgotten
        registry.addListener(hooks.deviceEvents()); // live and frozen triggers
        // The rows other parts keep of a product, deleted in the product's own transaction.
        registry.addProductCleanup(broker.productCleanup());
        registry.addProductCleanup(telemetry.productCleanup());

        // The doors: MQTT for devices, HTTP for programs and the console. One failed-login budget for both.
        LoginThrottle throttle = MqttServer.newThrottle(config);
        this.store = new StoreAvailability(stateWriter, datapointWriters, registry::probeStore); // CONNACK 3, readiness
        this.mqtt = new MqttServer(config, registry, broker, throttle, store::problem);
        // TLS: one certificate for the MQTT and HTTP TLS ports, re-read when it is renewed on disk.
        this.tlsFiles = config.tls().enabled() ? new TlsFiles(config.tls().cert(), config.tls().key(), config.tls().clientCa(),
                config.tls().reloadCheck().toMillis()) : null;
        if (tlsFiles != null && (config.tls().mqttPort() >= 0 || config.tls().wssPort() >= 0)) {
            mqtt.enableTls(tlsFiles);
        }
        workers.add(stateWriter.worker());
        workers.add(broker.readerWorker());
        workers.addAll(datapointWriters.workers());
        workers.addAll(commands.workers());
        workers.addAll(hooks.workers());
        Metrics metrics = Instruments.hooks(Instruments.metrics(mqtt, broker, telemetry, stateWriter, throttle, commands, workers),
                hooks);
        Health health = Instruments.health(mqtt, store, workers);
        health = cluster == null ? health : cluster.health(health);
        this.api = new ApiServer(config, registry, admin, telemetry, commands, throttle,
                cluster == null ? metrics : cluster.metrics(metrics),
                health, hooks, broker, mqtt::port, mqtt::tlsPort, tlsFiles,
                mqtt.streams());
        registry.addListener(api.events().deviceEvents()); // GET /events: presence
        if (cluster != null) {
            cluster.presenceElsewhereTo(api.events().deviceEvents()); // and that of the other nodes
            cluster.pointsElsewhereTo(telemetry, api.events().pointEvents()); // their points too, to /events only
        }
        telemetry.addListener(api.events().pointEvents()); // GET /events: stored points
        try {
            mqtt.start();
            api.start();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        if (tlsFiles != null) {
            log.info("TLS ports (-1: off): mqtt={} https={}", mqtt.tlsPort(), api.tlsPort());
        }
        log.info("Stratus ready: mqtt={} http={} ({} ms, data in {})", mqtt.port(), api.port(),
                (System.nanoTime() - started) / 1_000_000, config.dataDir().toAbsolutePath());
    }

    public static Platform start(Config config) {
        return new Platform(config);
    }

    public Config config() {
        return config;
    }

    public int mqttPort() {
        return mqtt.port();
    }

    /** The MQTT over WebSocket ports, plain and with TLS, or -1 when off. */
    public int mqttWebSocketPort() {
        return mqtt.webSocketPort();
    }

    public int mqttSecureWebSocketPort() {
        return mqtt.secureWebSocketPort();
    }

    /** The MQTT TLS port, or -1 without {@code mqtt.tls-port}. */
    public int mqttTlsPort() {
        return mqtt.tlsPort();
    }

    public int httpPort() {
        return api.port();
    }

    /** The HTTPS port, or -1 without {@code http.tls-port}. */
    public int httpTlsPort() {
        return api.tlsPort();
    }

    public DeviceRegistry registry() {
        return registry;
    }

    public Broker broker() {
        return broker;
    }

    public Telemetry telemetry() {
        return telemetry;
    }

    /** The HTTP API (tests enumerate its routes). */
    public ApiServer api() {
        return api;
    }

    /** The store (tests inject faults into it). */
    public Database database() {
        return database;
    }

    public Commands commands() {
        return commands;
    }

    /** The server's long-lived threads (readiness checks them; tests inject failures into them). */
    public List<Worker> workers() {
        return List.copyOf(workers);
    }

    /** Triggers and data push (tests read their delivery counters). */
    public Hooks hooks() {
        return hooks;
    }

    /** Graceful stop: refuse new connections, close clients, flush the writers, close the store. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        quietly(api::close);
        quietly(mqtt::close);
        if (tlsFiles != null) {
            quietly(tlsFiles::close);
        }
        quietly(store::close);
        quietly(telemetry::close);
        quietly(datapointWriters::close);
        quietly(hooks::close);
        quietly(commands::close);
        quietly(commandWriter::close);
        if (cluster != null) {
            quietly(cluster::close);
        }
        quietly(broker::close);
        quietly(stateWriter::close);
        quietly(partitions::close);
        quietly(database::close);
        log.info("Stratus stopped");
    }

    private static void quietly(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            log.warn("error while stopping: {}", e.toString());
        }
    }
}
