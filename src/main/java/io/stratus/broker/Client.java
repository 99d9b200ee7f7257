package io.stratus.broker;

import io.stratus.device.Credential;
import io.stratus.device.DeviceRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client logged in over one connection, as the broker sees it: who publishes, its session, its will, the credential
 * it logged in with and its presence. The connection (mqtt/) keeps the wire; what a PUBLISH means (a system topic, a
 * user topic, another device's forward topic), when a device counts as online and when its will goes out are decided
 * here. Used on the connection's event loop.
 */
public final class Client {
    private static final Logger log = LoggerFactory.getLogger(Client.class);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final Broker broker;
    private final DeviceRegistry registry;
    private final Publisher publisher;
    private final Session session;
    private final boolean sessionPresent;
    private final long ticket;
    private final long epoch;
    private final Credential credential;
    private final Object remote;
    private Message will;
    private long onlineToken;
    /** A denied PUBLISH was logged for this connection (the next ones are only counted). */
    private boolean deniedLogged;

    Client(Broker broker, DeviceRegistry registry, Publisher publisher, Broker.Connected connected, Message will,
           Credential credential, Object remote) {
        this.broker = broker;
        this.registry = registry;
        this.publisher = publisher;
        this.session = connected.session();
        this.sessionPresent = connected.sessionPresent();
        this.ticket = connected.ticket();
        this.epoch = connected.epoch();
        this.will = will;
        this.credential = credential;
        this.remote = remote;
    }

    /** Session present, as in CONNACK. */
    public boolean sessionPresent() {
        return sessionPresent;
    }

    /** The client's session: acknowledgements of messages sent to it go there directly. */
    public Session session() {
        return session;
    }

    /** What the client logged in with (a kind and a digest, never the secret). */
    public Credential credential() {
        return credential;
    }

    /**
     * Binds the session to the connection (what it is owed starts to flow) and marks the device online. False when the
     * login was revoked between the CONNECT check and now, where the revocation could not find this connection
     * ({@link DeviceRegistry#credentialChanges}), or when another connection of the client id logged in since: the
     * connection must close as if refused, so without the will.
     *
     * @param credentialChanges the registry's count of credential changes when the CONNECT was checked
     */
    public boolean attach(Outbox outbox, long credentialChanges) {
        if (!session.attach(outbox, ticket)) {
            will = null; // taken over meanwhile: the newer connection has the client id
            return false;
        }
        if (registry.credentialChanges() != credentialChanges && !registry.stillValid(publisher.deviceId(), credential)) {
            will = null;
            return false;
        }
        if (publisher.deviceId() != 0) {
            // After attach, so that whoever reacts to "online" (pending commands) can already send.
            onlineToken = registry.markOnline(publisher.deviceId(), epoch);
        }
        return true;
    }

    /**
     * A PUBLISH from the client: to a system topic its handler ({@code $dp}, {@code $crsp/}), to a user topic the
     * subscribers of the product. The future completes when the client may be acknowledged (see {@link
     * Broker#publish}) or fails with the reason to close its connection.
     *
     * @throws PublishRefused for a {@code $} topic without a handler (D9, docs/decisions.md)
     */
    public CompletableFuture<Void> publish(String topic, byte[] payload, int qos, boolean retain) {
        if (Topics.isSystem(topic)) {
            SystemTopicHandler handler = broker.systemHandler(topic)
                    .orElseThrow(() -> new PublishRefused("publishing to system topic " + topic + " is not allowed"));
            return handler.handle(publisher, topic, payload, qos);
        }
        if (forwardOfAnotherDevice(topic)) {
            // /{device_id}/{stream} carries that device's stored points (D4); another device's PUBLISH there would be
            // indistinguishable from them. 3.1.1 cannot refuse a PUBLISH: acknowledged, not routed [MQTT-3.3.5-2].
            broker.stats().publishDenied();
            if (!deniedLogged) {
                deniedLogged = true;
                log.info("[{}] {} publish to {} acknowledged and dropped: it is another device's forward topic (logged once "
                        + "per connection)", publisher.clientId(), remote, topic);
            }
            return DONE;
        }
        return broker.publish(publisher.productId(), new Message(topic, payload, qos, retain));
    }

    /** Grants or refuses each filter of a SUBSCRIBE: SUBACK codes 0-2 or {@link Broker#SUBACK_FAILURE}. */
    public List<Integer> subscribe(List<Broker.SubscriptionRequest> requests) {
        return broker.subscribe(session, requests);
    }

    /** After the SUBACK: the retained messages of each granted filter [MQTT-3.3.1-6]. */
    public void deliverRetained(List<Broker.SubscriptionRequest> requests, List<Integer> codes) {
        for (int i = 0; i < codes.size(); i++) {
            if (codes.get(i) != Broker.SUBACK_FAILURE) {
                broker.deliverRetained(session, requests.get(i).filter(), codes.get(i));
            }
        }
    }

    public void unsubscribe(List<String> filters) {
        broker.unsubscribe(session, filters);
    }

    /** The will is not to be published: a clean DISCONNECT [MQTT-3.14.4-3], or its device or product was deleted. */
    public void discardWill() {
        will = null;
    }

    /**
     * The connection ended: the will is published unless it was discarded or the server is stopping [MQTT-3.1.2-8],
     * the session is unbound (a clean one ends) and the device goes offline.
     */
    public void ended(Outbox outbox, boolean serverStopping) {
        if (will != null && !serverStopping) {
            broker.publish(publisher.productId(), will);
        }
        broker.disconnect(session, outbox);
        if (publisher.deviceId() != 0) {
            registry.markOffline(publisher.deviceId(), onlineToken);
        }
    }

    /** Whether {@code topic} is the forward topic of a device of this product other than the publisher. */
    private boolean forwardOfAnotherDevice(String topic) {
        long named = Topics.forwardDevice(topic);
        return named != 0 && named != publisher.deviceId()
                && registry.device(named).filter(d -> d.productId() == publisher.productId()).isPresent();
    }
}
