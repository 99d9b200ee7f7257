package io.stratus;

import static io.stratus.SettingValues.list;
import static io.stratus.SettingValues.positive;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Cluster mode ({@code cluster.*}, docs/cluster.md): the NATS servers between the nodes (comma-separated URLs; empty:
 * one node, no NATS), this node's name (default: host name and MQTT port), the prefix of its NATS subjects, and how many
 * store look-ups of devices made on other nodes may wait at once ({@code cluster.max-device-lookups}), and how many
 * claims of client ids by accepted CONNECTs ({@code cluster.max-pending-claims}); CONNACK 3 beyond either. The stream
 * of QoS 1/2 messages: its copies ({@code cluster.stream-replicas}: 1 on one nats-server, 3 on a NATS cluster of 3), how
 * long it keeps a message and how large it may grow (full: QoS 1/2 PUBLISHes are not acknowledged). A node not heard
 * from for {@code cluster.lease-seconds} is taken for dead: its devices go offline on the others. At most
 * {@code cluster.max-pending-events} announcements of other nodes' data points wait for this node's {@code /events}.
 */
public record ClusterSettings(List<String> natsUrls, String nodeName, String subjectPrefix, int maxDeviceLookups,
                              int maxPendingClaims, int streamReplicas, Duration streamMaxAge, long streamMaxBytes,
                              int leaseSeconds, int maxPendingEvents) {
    static final Map<String, String> DEFAULTS = Map.of(
            "cluster.nats-url", "",
            "cluster.node-name", "",
            "cluster.subject-prefix", "stratus",
            "cluster.max-device-lookups", "256",
            "cluster.max-pending-claims", "4096",
            "cluster.stream-replicas", "1",
            "cluster.stream-max-age-seconds", "3600",
            "cluster.stream-max-megabytes", "1024",
            "cluster.lease-seconds", "10",
            "cluster.max-pending-events", "65536");

    public boolean enabled() {
        return !natsUrls.isEmpty();
    }

    /** This node's name: {@code cluster.node-name}, or the host name and the MQTT port. */
    public String node(int mqttPort) {
        if (!nodeName.isEmpty()) {
            return nodeName;
        }
        try {
            return InetAddress.getLocalHost().getHostName() + ":" + mqttPort;
        } catch (UnknownHostException e) {
            return "localhost:" + mqttPort;
        }
    }

    static ClusterSettings of(Map<String, String> v) {
        ClusterSettings c = new ClusterSettings(list(v, "cluster.nats-url"), v.get("cluster.node-name").strip(),
                v.get("cluster.subject-prefix").strip(), positive(v, "cluster.max-device-lookups"),
                positive(v, "cluster.max-pending-claims"), positive(v, "cluster.stream-replicas"),
                Duration.ofSeconds(positive(v, "cluster.stream-max-age-seconds")),
                positive(v, "cluster.stream-max-megabytes") * 1024L * 1024L, positive(v, "cluster.lease-seconds"),
                positive(v, "cluster.max-pending-events"));
        if (c.enabled() && v.get("store.url").isBlank()) {
            throw new IllegalArgumentException("cluster.nats-url needs store.url (PostgreSQL): the nodes share one store");
        }
        return c;
    }
}
