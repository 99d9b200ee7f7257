package io.stratus.cluster;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * This node's one connection to NATS: to any of {@code urls} (the servers of a NATS cluster), named after the node
 * for NATS's monitoring, reconnecting for as long as the node runs.
 */
public final class NatsLink {
    private NatsLink() {
    }

    /**
     * Connects, or fails with what NATS said: a node of a cluster does not start without the bus. {@code reconnected}
     * runs (on a NATS thread) each time the link is back after it was lost: what was broadcast meanwhile was missed.
     */
    public static Connection connect(List<String> urls, String node, Runnable reconnected) {
        Options options = new Options.Builder()
                .servers(urls.toArray(String[]::new))
                .connectionName("stratus " + node)
                .maxReconnects(-1)
                // A silent link (a frozen server, a dead route) is noticed in about 6 s, not jnats's default 4 minutes.
                .pingInterval(Duration.ofSeconds(2))
                .maxPingsOut(3)
                .reportNoResponders() // a request to a node that is gone fails with 503, not as a timeout does
                .connectionListener((connection, event) -> {
                    if (event == ConnectionListener.Events.RECONNECTED) {
                        reconnected.run();
                    }
                })
                .build();
        try {
            return Nats.connect(options);
        } catch (IOException e) {
            throw new IllegalStateException("cannot reach NATS at " + String.join(",", urls) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to NATS", e);
        }
    }
}
