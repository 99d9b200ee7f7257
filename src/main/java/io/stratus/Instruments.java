package io.stratus;

import io.stratus.broker.Broker;
import io.stratus.broker.BrokerStats;
import io.stratus.cluster.RouteBus;
import io.stratus.command.Commands;
import io.stratus.hook.Hooks;
import io.stratus.device.LoginThrottle;
import io.stratus.monitor.Health;
import io.stratus.monitor.Metrics;
import io.stratus.monitor.Worker;
import io.stratus.mqtt.MqttServer;
import io.stratus.store.BatchWriter;
import io.stratus.store.StoreAvailability;
import io.stratus.telemetry.Telemetry;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** What {@code /metrics} shows and what {@code /healthz} checks: the parts' own counters, named in one place. */
final class Instruments {
    private static final long PROBE_TIMEOUT_MILLIS = 2_000;

    private Instruments() {
    }

    /** Cluster mode's figures, added to {@code metrics} (docs/cluster.md). */
    static Metrics cluster(Metrics metrics, RouteBus bus) {
        return metrics
                .gauge("stratus_cluster_nats_connected", "1 while this node's NATS connection is up", () -> bus.connected() ? 1 : 0)
                .gauge("stratus_cluster_products_routed", "Products whose QoS 0 messages this node takes from the other nodes",
                        bus::products)
                .counter("stratus_cluster_messages_sent_total", "QoS 0 messages sent to the other nodes", bus::sentCount)
                .counter("stratus_cluster_messages_received_total", "QoS 0 messages from other nodes handed to this node's subscribers",
                        bus::receivedCount)
                .counter("stratus_cluster_messages_dropped_total",
                        "QoS 0 messages NATS dropped on their way to this node because it took them too slowly", bus::droppedCount);
    }

    /** Triggers' and data push's figures, added to {@code metrics}. */
    static Metrics hooks(Metrics metrics, Hooks hooks) {
        return metrics
                .gauge("stratus_hook_events_queued", "Stored points and presence changes waiting for the trigger and push dispatcher",
                        hooks::queuedEvents)
                .counter("stratus_hook_events_dropped_total", "Of those, dropped because hook.queue was full", hooks::droppedEvents)
                .counter("stratus_hook_posts_delivered_total", "Trigger and data push posts answered 2xx",
                        () -> hooks.deliveryStats().delivered())
                .counter("stratus_hook_posts_failed_total", "Posts given up after hook.attempts tries",
                        () -> hooks.deliveryStats().failed())
                .counter("stratus_hook_posts_denied_total", "Posts refused: their URL reaches hook.deny-networks",
                        () -> hooks.deliveryStats().denied())
                .gauge("stratus_hook_recent_targets", "Triggers and push targets whose last posts are kept for the console "
                        + "(hook.recent-targets at most)", hooks::deliveryLogTargets);
    }

    static Metrics metrics(MqttServer mqtt, Broker broker, Telemetry telemetry, BatchWriter stateWriter, LoginThrottle throttle,
                           Commands commands, List<Worker> workers) {
        BrokerStats stats = broker.stats();
        Runtime rt = Runtime.getRuntime();
        return new Metrics()
                .gauge("stratus_mqtt_connections", "Open MQTT connections", mqtt::connectionCount)
                .gauge("stratus_mqtt_sessions", "MQTT sessions (connected and persistent offline)", broker::sessionCount)
                .gauge("stratus_tls_handshakes_in_progress", "TLS handshakes under way on the MQTT TLS port (tls.max-handshakes)",
                        mqtt::tlsHandshakesInProgress)
                .counter("stratus_tls_handshakes_refused_total", "TLS connections closed because tls.max-handshakes were under way",
                        mqtt::tlsHandshakesRefused)
                .counter("stratus_tls_handshakes_refused_per_address_total",
                        "TLS connections closed because their address had tls.max-handshakes-per-address under way",
                        mqtt::tlsHandshakesRefusedFromAddress)
                .counter("stratus_mqtt_proxy_header_failures_total",
                        "MQTT connections closed for a missing, malformed or late PROXY protocol header (mqtt.proxy-protocol)",
                        mqtt::proxyHeaderFailures)
                .counter("stratus_tls_handshakes_failed_total",
                        "TLS handshakes that failed: timeouts, plain MQTT on the TLS port, unknown or expired certificates",
                        mqtt::tlsHandshakesFailed)
                .counter("stratus_mqtt_messages_received_total", "PUBLISH packets received from clients", stats::receivedCount)
                .counter("stratus_mqtt_messages_sent_total", "PUBLISH packets sent to clients", stats::sentCount)
                .counter("stratus_mqtt_messages_dropped_total",
                        "Messages dropped by policy: QoS 0 to a client that is not reading, queue overflow (D18), expiry",
                        stats::droppedCount)
                .counter("stratus_mqtt_slow_consumers_disconnected_total", "Clients disconnected for not reading",
                        stats::slowConsumerCount)
                .counter("stratus_mqtt_publish_denied_total",
                        "PUBLISHes acknowledged and not routed: a device publishing another device's /{device_id}/{stream}",
                        stats::publishDeniedCount)
                .counter("stratus_mqtt_invalid_topic_dropped_total",
                        "Messages dropped before any delivery because their topic is no valid topic name (a data stream id with '#')",
                        stats::invalidTopicCount)
                .counter("stratus_mqtt_retained_refused_total",
                        "Retained PUBLISHes over their product's retained.max-per-product or retained.max-bytes-per-product",
                        stats::retainedRefusedCount)
                .counter("stratus_mqtt_product_queue_full_total",
                        "QoS 1/2 messages dropped from or not queued for a session because its product's queues were full "
                                + "(product.max-queued, product.max-queued-bytes)", stats::productQueueFullCount)
                .counter("stratus_mqtt_topics_refused_total",
                        "Subscriptions refused (SUBACK 0x80) because their product has topics.max-per-product topics",
                        stats::topicsRefusedCount)
                .counter("stratus_mqtt_oversize_before_connect_total",
                        "Connections closed for a packet over mqtt.max-connect-bytes before their CONNECT was accepted",
                        stats::oversizeBeforeConnectCount)
                .gauge("stratus_mqtt_queued_messages", "QoS 1/2 messages queued for sessions behind their in-flight windows",
                        stats::queuedMessageCount)
                .gauge("stratus_mqtt_queued_bytes", "Payload bytes of those messages (heap or store)", stats::queuedByteCount)
                .gauge("stratus_mqtt_queued_heap_bytes",
                        "Payload bytes of messages owed to sessions that the heap holds (the rest is read from the store when due)",
                        stats::queuedHeapByteCount)
                .gauge("stratus_mqtt_retained_messages", "Retained messages of all products", broker::retainedCount)
                .gauge("stratus_mqtt_retained_bytes", "Payload bytes of the retained messages (in the store)", broker::retainedBytes)
                .gauge("stratus_mqtt_retained_heap_bytes", "Payload bytes of retained messages the heap holds (small ones only)",
                        broker::retainedHeapBytes)
                .gauge("stratus_broker_reader_queue_depth", "Reads of payloads from the store waiting for the broker's reader",
                        broker::readerQueueDepth)
                .counter("stratus_datapoints_stored_total", "Data points committed to the store", telemetry::storedPointCount)
                .counter("stratus_history_queries_refused_total",
                        "History queries refused: reply over history.max-reply-bytes, or no query slot within 5 s",
                        telemetry::historyRefusedCount)
                .gauge("stratus_datapoint_writer_queue_depth", "Writes waiting for the datapoint writer", telemetry::writerQueueDepth)
                .gauge("stratus_state_writer_queue_depth", "Writes waiting for the state writer (sessions, retained, presence)",
                        stateWriter::queueDepth)
                .counter("stratus_auth_failures_total", "Failed logins (MQTT CONNECT, api-key, admin password)",
                        throttle::failureCount)
                .counter("stratus_auth_blocked_total", "Logins refused during a failed-login back-off", throttle::blockedCount)
                .gauge("stratus_commands_open", "Commands neither answered, expired nor failed", commands::openCount)
                .counter("stratus_commands_refused_total",
                        "POST /cmds refused with errno 13: commands.max-open-per-product or commands.max-open reached",
                        commands::refusedCount)
                .counter("stratus_commands_expired_total", "Commands this node ended at the end of their window (status 5)",
                        commands::expiredCount)
                .counter("stratus_commands_deliveries_dropped_total",
                        "Logins whose open commands were not sent then: the delivery queue (commands.max-open devices) was full", commands::deliveriesDroppedCount)
                .counter("stratus_worker_failures_total",
                        "Failures (any Throwable) that server threads survived: writers, hooks, command timer and delivery",
                        () -> workers.stream().mapToLong(Worker::failures).sum())
                .gauge("stratus_workers_unhealthy", "Server threads that died or keep failing (readiness fails meanwhile)",
                        () -> workers.stream().filter(w -> w.problem() != null).count())
                .gauge("jvm_heap_used_bytes", "Heap in use", () -> rt.totalMemory() - rt.freeMemory())
                .gauge("jvm_heap_max_bytes", "Maximum heap", rt::maxMemory)
                .gauge("process_open_fds", "Open file descriptors", Instruments::openFds)
                .gauge("process_uptime_seconds", "Seconds since the JVM started",
                        () -> ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0);
    }

    static Health health(MqttServer mqtt, StoreAvailability store, List<Worker> workers) {
        return new Health()
                .check("mqtt", () -> mqtt.isListening() ? null : "MQTT port not listening")
                // A dead writer, hook or command thread serves nothing while the rest looks fine.
                .check("workers", () -> {
                    String problems = workers.stream().map(Worker::problem).filter(Objects::nonNull)
                            .collect(Collectors.joining("; "));
                    return problems.isEmpty() ? null : problems;
                })
                // A real write through the state writer: fails while the store refuses writes (full disk, locked
                // database). A nearly full disk may still take that small write and refuse data points, so a recent
                // failed datapoint commit (none succeeded since, under 30 s old) also means not ready. The same record
                // makes MQTT refuse CONNECTs with CONNACK 3 (D5, docs/decisions.md).
                .check("store", () -> {
                    String problem = probe(store.probe());
                    return problem != null ? problem : store.problem();
                });
    }

    private static String probe(CompletableFuture<Void> commit) {
        try {
            commit.get(PROBE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return "store not writable: " + e.getCause().getMessage();
        } catch (java.util.concurrent.TimeoutException e) {
            return "store write probe timed out after " + PROBE_TIMEOUT_MILLIS + " ms";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static double openFds() {
        String[] fds = new File("/proc/self/fd").list();
        if (fds == null) {
            throw new IllegalStateException("no /proc");
        }
        return fds.length;
    }
}
