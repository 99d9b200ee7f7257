package io.stratus.mqtt;

import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectVariableHeader;
import io.netty.handler.codec.mqtt.MqttIdentifierRejectedException;
import io.netty.handler.codec.mqtt.MqttUnacceptableProtocolVersionException;
import io.stratus.broker.Message;
import io.stratus.broker.Topics;
import io.stratus.device.ConnectCode;
import io.stratus.device.Device;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Login;
import io.stratus.device.LoginThrottle;
import io.stratus.device.Secrets;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Decides whether a decoded CONNECT is accepted, and with which CONNACK code it is refused if not (D5,
 * docs/decisions.md). It writes and logs nothing: {@link MqttConnection} applies the outcome. The checks run in a fixed
 * order, and the order is part of the contract: a client the server cannot serve now gets 3 before its password is
 * looked at, and a blocked client gets 5 before it is. One instance serves every connection of a server; {@link #check}
 * runs on an event loop and answers from memory.
 */
final class ConnectCheck {
    /**
     * Client ids longer than this are refused with CONNACK 2; device ids are far shorter. Netty's decoder applies its
     * own limit only to MQTT 3.1 CONNECTs, so the check for 3.1.1 is here [MQTT-3.1.3-5 allows a server any limit].
     */
    static final int MAX_CLIENT_ID_LENGTH = 256;
    /** What {@link #check} decided. */
    sealed interface Outcome permits Accepted, Refused, Pending {
        /** The client id to log with: the CONNECT's, or the one assigned to an empty id [MQTT-3.1.3-6]. */
        String clientId();
    }

    /**
     * Accepted: {@code will} is null without a will flag; {@code credentialChanges} is
     * {@link DeviceRegistry#credentialChanges} as read before the login was checked, for the re-check after attach.
     */
    record Accepted(String clientId, Login login, boolean cleanSession, int keepAliveSeconds, Message will,
                    long credentialChanges) implements Outcome {
        /** The device logged in as; 0 for an anonymous client. */
        long deviceId() {
            return login.device() == null ? 0 : login.device().id();
        }
    }

    /**
     * Refused with CONNACK {@code code}, or, when {@code code} is null, a CONNECT that breaks the protocol or D5: closed
     * without a CONNACK, as any malformed packet is. {@code routine} refusals are expected in bulk (every device
     * reconnecting while the store is down) and are logged at DEBUG, not INFO.
     */
    record Refused(String clientId, ConnectCode code, String reason, boolean routine) implements Outcome {
        static Refused connAck(String clientId, ConnectCode code, String reason) {
            return new Refused(clientId, code, reason, false);
        }

        static Refused close(String clientId, String reason) {
            return new Refused(clientId, null, reason, false);
        }
    }

    /**
     * Cluster mode: the device is not in this node's cache and is being looked up in the store (it may have been made
     * on another node moments ago). Check the CONNECT again once {@code lookup} completes; a failed look-up means 3.
     */
    record Pending(String clientId, CompletableFuture<Void> lookup) implements Outcome {}

    private final DeviceRegistry registry;
    private final LoginThrottle throttle;
    private final BooleanSupplier serverStopping;
    /** Why the store is known not to take writes, or null; answered from memory (StoreAvailability). */
    private final Supplier<String> storeProblem;

    ConnectCheck(DeviceRegistry registry, LoginThrottle throttle, BooleanSupplier serverStopping,
                 Supplier<String> storeProblem) {
        this.registry = registry;
        this.throttle = throttle;
        this.serverStopping = serverStopping;
        this.storeProblem = storeProblem;
    }

    /**
     * The refusal for a CONNECT the decoder could not decode, or null when the failure is not one a CONNACK answers
     * (then the packet is malformed, and the connection closes without one).
     */
    static Refused refusalOf(Throwable decodeFailure, String clientId) {
        if (decodeFailure instanceof MqttUnacceptableProtocolVersionException) {
            return Refused.connAck(clientId, ConnectCode.UNACCEPTABLE_PROTOCOL_VERSION, "unsupported protocol version");
        }
        if (decodeFailure instanceof MqttIdentifierRejectedException) {
            return Refused.connAck(clientId, ConnectCode.IDENTIFIER_REJECTED, "client id rejected: " + decodeFailure.getMessage());
        }
        return null;
    }

    /**
     * Checks a CONNECT from {@code remote}. Has effects: counts failed and successful logins in the throttle, and assigns
     * an id to a client that sent an empty one. {@code certificateName} is the common name of the client's verified TLS
     * certificate when {@code tls.cert-login} is on, else null: when it is the client id, the certificate stands in for
     * the password. {@code lookedUp} is true for the second check after a {@link Pending} one.
     */
    Outcome check(MqttConnectMessage m, SocketAddress remote, String certificateName, boolean lookedUp) {
        MqttConnectVariableHeader h = m.variableHeader();
        String clientId = m.payload().clientIdentifier();
        if (h.version() != 4) {
            return Refused.connAck(clientId, ConnectCode.UNACCEPTABLE_PROTOCOL_VERSION,
                    "protocol level " + h.version() + " (only MQTT 3.1.1)");
        }
        boolean byCertificate = certificateName != null && h.hasUserName() && certificateName.equals(clientId);
        boolean anonymous = !h.hasUserName() && !h.hasPassword();
        if (anonymous ? registry.defaultProductId() == 0 : !(h.hasUserName() && (h.hasPassword() || byCertificate))) {
            // D5: OneNET requires both the user name and the password flag.
            return Refused.close(clientId, "CONNECT without user name and password");
        }
        if (clientId.length() > MAX_CLIENT_ID_LENGTH) {
            return Refused.connAck(clientId.substring(0, 32) + "...", ConnectCode.IDENTIFIER_REJECTED,
                    "client id longer than " + MAX_CLIENT_ID_LENGTH + " characters");
        }
        if (clientId.isEmpty()) {
            if (!anonymous || !h.isCleanSession()) {
                return Refused.connAck(clientId, ConnectCode.IDENTIFIER_REJECTED, "empty client id"); // [MQTT-3.1.3-8]
            }
            clientId = "auto-" + Secrets.token(9); // [MQTT-3.1.3-6]
        }
        if (serverStopping.getAsBoolean()) {
            return Refused.connAck(clientId, ConnectCode.SERVER_UNAVAILABLE, "server is shutting down"); // D5
        }
        String storeDown = storeProblem.get();
        if (storeDown != null) {
            // D5: storage unavailable -> 3, before the credentials as above: no login work for a client the server
            // cannot serve now. Routine: while the store is down every reconnecting device lands here.
            return new Refused(clientId, ConnectCode.SERVER_UNAVAILABLE, storeDown, true);
        }
        CompletableFuture<Void> lookup = lookedUp || anonymous ? null : registry.lookUpElsewhere(Device.idOf(clientId));
        if (lookup != null) {
            return new Pending(clientId, lookup);
        }
        long credentialChanges = registry.credentialChanges();
        Login login;
        if (anonymous) {
            login = registry.anonymous();
        } else if (byCertificate) {
            login = registry.authenticateByCertificate(clientId, m.payload().userName()); // nothing to guess: no throttle
        } else {
            // Failed logins are rate-limited per client address and per device and address, with exponential
            // back-off; while either is blocked even a right password gets CONNACK 5 (D5), so guessing gains nothing
            // from speed, and failures from elsewhere never lock the real device out.
            long claimed = Device.idOf(clientId); // 0 for no device: any other spelling counts for none
            String ip = ipOf(remote);
            String address = LoginThrottle.address(ip);
            // A client id that names no device (not a number) counts against the address only.
            String[] keys = claimed == 0 ? new String[] {address} : new String[] {address, LoginThrottle.device(claimed, ip)};
            long blockedMillis = throttle.blockedMillis(keys);
            if (blockedMillis > 0) {
                return Refused.connAck(clientId, ConnectCode.NOT_AUTHORIZED,
                        "too many failed logins, blocked for " + blockedMillis + " ms more");
            }
            login = registry.authenticate(clientId, m.payload().userName(),
                    new String(m.payload().passwordInBytes(), StandardCharsets.UTF_8));
            if (login.code() == ConnectCode.BAD_USERNAME_OR_PASSWORD || login.code() == ConnectCode.IDENTIFIER_REJECTED) {
                throttle.failure(keys);
            } else if (login.accepted()) {
                throttle.success(LoginThrottle.device(claimed, ip)); // the address keeps its count: it may guess others
            }
        }
        if (!login.accepted()) {
            return Refused.connAck(clientId, login.code(), "login refused");
        }
        Message will = null;
        if (h.isWillFlag()) {
            // After the login: a right password with a bad will topic is a malformed CONNECT, not a failed login,
            // and still clears the device's count in the throttle.
            String willTopic = m.payload().willTopic();
            String problem = Topics.checkTopicName(willTopic);
            if (problem != null || Topics.isSystem(willTopic)) {
                return Refused.close(clientId, "invalid will topic: " + (problem != null ? problem : "system topic"));
            }
            will = new Message(willTopic, m.payload().willMessageInBytes(), h.willQos(), h.isWillRetain());
        }
        return new Accepted(clientId, login, h.isCleanSession(), h.keepAliveTimeSeconds(), will, credentialChanges);
    }

    private static String ipOf(SocketAddress remote) {
        return remote instanceof InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress() : String.valueOf(remote);
    }
}
