package io.stratus;

import io.stratus.api.ApiServer;
import io.stratus.broker.Broker;
import io.stratus.command.Commands;
import io.stratus.device.AdminAccount;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.LoginThrottle;
import io.stratus.hook.Hooks;
import io.stratus.hook.NetworkPolicy;
import io.stratus.monitor.Worker;
import io.stratus.mqtt.MqttServer;
import io.stratus.store.BatchWriter;
import io.stratus.store.Database;
import io.stratus.store.StoreAvailability;
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
    private final BatchWriter stateWriter;
    private final DeviceRegistry registry;
    private final AdminAccount admin;
    private final Broker broker;
    private final Telemetry telemetry;
    private final Commands commands;
    private final Hooks hooks;
    private final StoreAvailability store;
    private final MqttServer mqtt;
    private final ApiServer api;
    private final List<Worker> workers = new ArrayList<>();
    private volatile boolean closed;

    private Platform(Config config) {
        long started = System.nanoTime();
        this.config = config;
        // Read before anything opens: an entry that is no CIDR block refuses the start, naming it and the setting.
        NetworkPolicy deniedNetworks = NetworkPolicy.of(config.hooks().denyNetworks());
        this.database = Database.openSqlite(config.dataDir(), config.storeSync());
        this.stateWriter = new BatchWriter(database, "state", 65_536, 1_000);
        this.registry = new DeviceRegistry(database, stateWriter, config.allowAnonymous(), config.devicesMaxPerProduct());
        this.admin = AdminAccount.open(database, config.adminPassword());
        this.broker = new Broker(config, database, stateWriter, registry);
        this.telemetry = new Telemetry(config, database, broker, registry);
        this.commands = new Commands(database, broker, registry, config.sharedLimits().commandsMaxOpen(),
                config.sharedLimits().commandsMaxOpenPerProduct());
        this.hooks = Hooks.start(config, deniedNetworks, database, registry, telemetry);
        LoginThrottle throttle = MqttServer.newThrottle(config); // one failed-login budget for MQTT and HTTP
        this.store = new StoreAvailability(stateWriter, telemetry::writerFailure, registry::probeStore);
        this.mqtt = new MqttServer(config, registry, broker, throttle, store::problem);
        workers.add(stateWriter.worker());
        workers.add(broker.readerWorker());
        workers.add(telemetry.writerWorker());
        workers.addAll(commands.workers());
        workers.addAll(hooks.workers());
        this.api = new ApiServer(config, registry, admin, telemetry, commands, throttle,
                Instruments.metrics(mqtt, broker, telemetry, stateWriter, throttle, commands, workers),
                Instruments.health(mqtt, store, workers), hooks, broker, mqtt::port);
        try {
            mqtt.start();
            api.start();
        } catch (RuntimeException e) {
            close();
            throw e;
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

    public int httpPort() {
        return api.port();
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
        quietly(store::close);
        quietly(telemetry::close);
        quietly(hooks::close);
        quietly(commands::close);
        quietly(broker::close);
        quietly(stateWriter::close);
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
