package io.stratus.mqtt;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.util.ReferenceCountUtil;
import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.broker.Client;
import io.stratus.broker.PublishRefused;
import io.stratus.broker.Topics;
import io.stratus.device.ConnectCode;
import io.stratus.device.Credential;
import io.stratus.device.Login;
import java.io.IOException;
import javax.net.ssl.SSLException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: AWAITING_CONNECT -> CONNECTED -> CLOSED, one switch over packet types, one small
 * method per packet. Payloads are copied to {@code byte[]} here, at the edge; nothing past this class sees
 * a ByteBuf. Inbound handling runs on the channel's event loop and never blocks.
 */
final class MqttConnection extends ChannelInboundHandlerAdapter {
    private enum State { AWAITING_CONNECT, CONNECTED, CLOSED }

    private static final Logger log = LoggerFactory.getLogger(MqttConnection.class);
    /** Unacknowledged incoming PUBLISHes beyond which the connection stops reading (back-pressure). */
    private static final int MAX_PENDING_ACKS = 1024;

    private final Config config;
    private final Broker broker;
    private final BooleanSupplier serverStopping;
    private final ConnectCheck connectCheck;
    private final ConnectionDeadlines deadlines;
    private final AckQueue acks = new AckQueue();
    private ChannelHandlerContext ctx;
    private ConnectionOutbox outbox;
    private State state = State.AWAITING_CONNECT;
    // Kept for ConnectionDeadlines, on the loop: the slot there (-1: none), when the CONNECT timeout ends (before CONNECT)
    // or keep-alive's (after), 1.5 x the keep-alive in ns (D7; 0: none), and whether a packet came since the last check.
    int deadlineSlot = -1;
    long deadline;
    long idleNanos;
    boolean readSinceCheck;
    private String clientId = "-";
    /** The broker's side of the logged-in client; set once its CONNECT is accepted, read by the broker's threads. */
    private volatile Client client;
    private volatile boolean closeLogged;

    /** {@code connectCheck} and {@code deadlines} are the server's, shared by all its connections. */
    MqttConnection(Config config, Broker broker, BooleanSupplier serverStopping, ConnectCheck connectCheck,
                   ConnectionDeadlines deadlines) {
        this.config = config;
        this.broker = broker;
        this.serverStopping = serverStopping;
        this.connectCheck = connectCheck;
        this.deadlines = deadlines;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.outbox = new ConnectionOutbox(ctx, this, broker.stats(), config.tenantLimits().maxOutgoingMessages(),
                config.tenantLimits().maxOutgoingBytes());
        deadlines.add(ctx.executor(), this, config.connectTimeout());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        readSinceCheck = true;
        try {
            if (state == State.CLOSED || !(msg instanceof MqttMessage m)) {
                return;
            }
            boolean beforeConnect = state == State.AWAITING_CONNECT;
            String tooLong = m.fixedHeader() == null ? null : PacketRules.checkLength(m.fixedHeader(), beforeConnect,
                    MqttServer.maxConnectBytes(config), config.maxPacketBytes());
            if (tooLong != null) {
                if (beforeConnect && m.fixedHeader().remainingLength() > MqttServer.maxConnectBytes(config)) {
                    broker.stats().oversizeBeforeConnect();
                }
                closeFor(tooLong);
                return;
            }
            if (m.decoderResult().isFailure()) {
                onMalformed(m.decoderResult().cause());
                return;
            }
            String flagProblem = PacketRules.checkFlags(m.fixedHeader());
            if (flagProblem != null) {
                closeFor(flagProblem);
                return;
            }
            if (state == State.AWAITING_CONNECT) {
                if (m.fixedHeader().messageType() == MqttMessageType.CONNECT) {
                    onConnect((MqttConnectMessage) m, false);
                } else { // [MQTT-3.1.0-1], D20 (docs/decisions.md): nothing of a client is processed before its CONNECT.
                    closeFor("first packet must be CONNECT, got " + m.fixedHeader().messageType());
                }
                return;
            }
            dispatch(m);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void dispatch(MqttMessage m) {
        switch (m.fixedHeader().messageType()) {
            case PUBLISH -> onPublish((MqttPublishMessage) m);
            case PUBACK -> client.session().onPuback(Packets.packetId(m));
            case PUBREC -> qos2Step(client.session()::onPubrec, MqttMessageType.PUBREL, Packets.packetId(m));
            case PUBREL -> qos2Step(client.session()::endIncomingQos2, MqttMessageType.PUBCOMP, Packets.packetId(m));
            case PUBCOMP -> client.session().onPubcomp(Packets.packetId(m));
            case SUBSCRIBE -> closeFor(Subscriptions.subscribe(ctx, client, (MqttSubscribeMessage) m));
            case UNSUBSCRIBE -> closeFor(Subscriptions.unsubscribe(ctx, client, (MqttUnsubscribeMessage) m));
            case PINGREQ -> ctx.writeAndFlush(MqttMessage.PINGRESP);
            case DISCONNECT -> onDisconnect();
            case CONNECT -> closeFor("second CONNECT"); // [MQTT-3.1.0-2]
            default -> closeFor("unexpected " + m.fixedHeader().messageType() + " from a client");
        }
    }

    // ---- CONNECT ----------------------------------------------------------------------------------

    private void onMalformed(Throwable cause) {
        ConnectCheck.Refused refused = state == State.AWAITING_CONNECT ? ConnectCheck.refusalOf(cause, clientId) : null;
        if (refused != null) {
            refuse(refused);
        } else {
            closeFor("malformed packet: " + cause.getMessage());
        }
    }

    private void onConnect(MqttConnectMessage m, boolean lookedUp) {
        clientId = m.payload().clientIdentifier(); // named in the log line should the check throw
        ConnectCheck.Outcome outcome = connectCheck.check(m, ClientAddress.of(ctx.channel()),
                config.tls().certLogin() ? TlsFront.certificateName(ctx) : null, lookedUp);
        clientId = outcome.clientId(); // an empty one may have been replaced [MQTT-3.1.3-6]
        if (outcome instanceof ConnectCheck.Pending pending) {
            after(pending.lookup(), "device look-up", v -> onConnect(m, true));
            return;
        }
        if (!(outcome instanceof ConnectCheck.Accepted accepted)) {
            refuse((ConnectCheck.Refused) outcome);
            return;
        }
        CompletableFuture<Long> claim = broker.claim(accepted.login().productId(), clientId, accepted.cleanSession(),
                accepted.will());
        if (claim == null) {
            accept(accepted, 0);
        } else { // cluster mode: the CONNACK waits until an older connection of this client id on another node is closed
            after(claim, "client id claim", epoch -> accept(accepted, epoch));
        }
    }

    /** Cluster mode: the CONNECT waits for {@code step} off the loop, reading nothing more; a failed step is CONNACK 3. */
    private <T> void after(CompletableFuture<T> step, String what, Consumer<T> then) {
        ctx.channel().config().setAutoRead(false);
        step.whenComplete((value, failed) -> ctx.executor().execute(() -> {
            if (state == State.AWAITING_CONNECT && ctx.channel().isActive()) { // else the CONNECT timeout ended it
                ctx.channel().config().setAutoRead(true);
                if (failed != null) {
                    refuse(new ConnectCheck.Refused(clientId, ConnectCode.SERVER_UNAVAILABLE, what + ": " + failed, true));
                } else {
                    then.accept(value);
                }
            }
        }));
    }

    private void accept(ConnectCheck.Accepted accepted, long epoch) {
        Login login = accepted.login();
        client = broker.login(login.productId(), accepted.deviceId(), clientId, accepted.cleanSession(), accepted.will(),
                login.credential(), ClientAddress.of(ctx.channel()), epoch);
        if (client == null) {
            closeFor("a newer connection of this client id was accepted meanwhile");
            return;
        }
        state = State.CONNECTED;
        ctx.write(MqttMessageBuilders.connAck().returnCode(MqttConnectReturnCode.CONNECTION_ACCEPTED)
                .sessionPresent(client.sessionPresent()).build());
        if (!client.attach(outbox, accepted.credentialChanges())) {
            closeFor("login revoked or taken over while connecting");
            return;
        }
        ctx.flush();
        if (log.isDebugEnabled()) {
            log.debug("[{}] connected from {} (product {}, clean {})", clientId, remote(), login.productId(),
                    accepted.cleanSession());
        }
        deadlines.keepAlive(ctx.executor(), this, accepted.keepAliveSeconds());
        MqttServer.loggedIn(ctx, config); // last, once CONNACK is written
    }

    /** Its deadline passed ({@link ConnectionDeadlines}): the CONNECT timeout before CONNECT (D20), keep-alive after (D7). */
    void deadlinePassed() {
        if (state == State.AWAITING_CONNECT) {
            closeFor("no CONNECT within " + config.connectTimeout().toMillis() + " ms");
        } else if (state == State.CONNECTED) {
            closeFor("keep-alive timeout");
        }
    }

    /** A refused CONNECT: CONNACK with the refusal's code, then close; or, without a code, close without a CONNACK. */
    private void refuse(ConnectCheck.Refused refused) {
        ConnectCode code = refused.code();
        if (code == null) {
            closeFor(refused.reason());
            return;
        }
        if (refused.routine()) {
            log.debug("[{}] {} refused with CONNACK {}: {}", clientId, remote(), code.code, refused.reason());
        } else {
            log.info("[{}] {} refused with CONNACK {}: {}", clientId, remote(), code.code, refused.reason());
        }
        state = State.CLOSED;
        ctx.channel().config().setAutoRead(false); // D20: after a refused CONNECT nothing more is read
        closeLogged = true;
        ctx.writeAndFlush(Packets.connAckRefusal(code.code)).addListener(f -> ctx.close());
    }

    // ---- PUBLISH from the client --------------------------------------------------------------------

    private void onPublish(MqttPublishMessage m) {
        broker.stats().received();
        String topic = m.variableHeader().topicName();
        int qos = m.fixedHeader().qosLevel().value();
        int packetId = m.variableHeader().packetId();
        String problem = Topics.checkTopicName(topic);
        if (problem != null) {
            closeFor("invalid topic name: " + problem); // before the payload is copied or a QoS 2 id recorded
            return;
        }
        byte[] payload = ByteBufUtil.getBytes(m.content());
        if (qos == 2 && !client.session().beginIncomingQos2(packetId)) {
            // A resent QoS 2 PUBLISH that was already routed: acknowledge again, route nothing [MQTT-4.3.3-2].
            ctx.writeAndFlush(Packets.ack(MqttMessageType.PUBREC, packetId));
            return;
        }
        CompletableFuture<Void> handled;
        try {
            handled = client.publish(topic, payload, qos, m.fixedHeader().isRetain());
        } catch (PublishRefused e) {
            closeFor(e.getMessage());
            return;
        }
        if (handled.isDone() && !handled.isCompletedExceptionally() && acks.size() == 0) {
            if (qos > 0) { // routed, and no earlier acknowledgement waits: this one goes now (the common case)
                ctx.writeAndFlush(Packets.publishAck(qos, packetId), ctx.voidPromise());
            }
            return;
        }
        Runnable sendAck = qos == 0 ? () -> { } : () -> ctx.write(Packets.publishAck(qos, packetId), ctx.voidPromise());
        acks.add(handled, sendAck, e -> {
            if (qos == 2) {
                client.session().endIncomingQos2(packetId);
            }
            closeFor("publish to " + topic + " failed: " + e.getMessage());
        }, payload.length);
        if (handled.isDone()) {
            acks.release();
            ctx.flush();
        } else {
            handled.whenComplete((v, e) -> ctx.executor().execute(this::releaseAcks));
            if (acks.full(MAX_PENDING_ACKS, config.tenantLimits().maxPendingPublishBytes())) {
                ctx.channel().config().setAutoRead(false);
            }
        }
    }

    private void releaseAcks() {
        if (state != State.CONNECTED) {
            return;
        }
        acks.release();
        ctx.flush();
        if (acks.drained(MAX_PENDING_ACKS, config.tenantLimits().maxPendingPublishBytes())
                && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** A step of QoS 2 from the client (PUBREC of ours, PUBREL of its): recorded, then answered with {@code reply}. */
    private void qos2Step(IntConsumer record, MqttMessageType reply, int packetId) {
        record.accept(packetId);
        ctx.writeAndFlush(Packets.ack(reply, packetId));
    }

    private void onDisconnect() {
        client.discardWill(); // [MQTT-3.14.4-3]
        closeLogged = true;
        log.debug("[{}] disconnected", clientId);
        ctx.close();
    }

    // ---- connection end ----------------------------------------------------------------------------

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (state == State.CONNECTED) {
            outbox.writabilityChanged(config.protection().slowConsumerTimeout().toMillis());
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** The send buffer stayed full for {@code millis} (see {@link ConnectionOutbox#writabilityChanged}). */
    void closeSlowConsumer(long millis) {
        if (state == State.CONNECTED) {
            broker.stats().slowConsumerDisconnected();
            closeFor("slow consumer: send buffer full for " + millis + " ms");
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State before = state;
        state = State.CLOSED;
        acks.clear();
        deadlines.remove(ctx.executor(), this);
        outbox.cancelSlowConsumerCheck();
        if (before == State.CONNECTED) {
            client.ended(outbox, serverStopping.getAsBoolean());
            if (!closeLogged) {
                log.info("[{}] {} connection lost", clientId, remote());
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("[{}] {} I/O error: {}", clientId, remote(), cause.getMessage());
            ctx.close();
        } else if (cause.getCause() instanceof SSLException tls) {
            // A client that does not trust the server, an unknown or expired client certificate, plain MQTT on the TLS
            // port: the client's doing, counted in stratus_tls_handshakes_failed_total.
            closeLogged = true;
            log.info("[{}] {} TLS failed: {}", clientId, remote(), tls.getMessage());
            ctx.close();
        } else {
            closeFor("internal error: " + cause);
        }
    }

    /** Closes the connection with one log line naming the client, its address and the reason; null: stays open. */
    private void closeFor(String reason) {
        if (reason == null) {
            return;
        }
        if (!closeLogged) {
            closeLogged = true;
            log.warn("[{}] {} closed: {}", clientId, remote(), reason);
        }
        if (state == State.AWAITING_CONNECT) {
            state = State.CLOSED;
        }
        ctx.channel().config().setAutoRead(false);
        ctx.close();
    }

    private String remote() {
        return String.valueOf(ClientAddress.of(ctx.channel()));
    }

    /** The broker ends the connection (takeover, a revoked login, a deleted device); on the event loop. */
    void closeForBroker(String reason, boolean publishWill) {
        if (!publishWill) {
            client.discardWill();
        }
        if (!closeLogged) {
            closeLogged = true;
            log.info("[{}] {} closed: {}", clientId, remote(), reason);
        }
        ctx.close();
    }

    /** What the client logged in with; null before. */
    Credential credential() {
        Client c = client;
        return c == null ? null : c.credential();
    }
}
