package io.stratus.mqtt;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.broker.Message;
import io.stratus.broker.Outbox;
import io.stratus.broker.Publisher;
import io.stratus.broker.Session;
import io.stratus.broker.SystemTopicHandler;
import io.stratus.broker.Topics;
import io.stratus.device.ConnectCode;
import io.stratus.device.Credential;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.Login;
import io.stratus.device.LoginThrottle;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: AWAITING_CONNECT -> CONNECTED -> CLOSED, one switch over packet types, one small
 * method per packet. Payloads are copied to {@code byte[]} here, at the edge; nothing past this class sees
 * a ByteBuf. Inbound handling runs on the channel's event loop and never blocks.
 */
final class MqttConnection extends ChannelInboundHandlerAdapter implements Outbox {
    private enum State { AWAITING_CONNECT, CONNECTED, CLOSED }

    private static final Logger log = LoggerFactory.getLogger(MqttConnection.class);
    /** Unacknowledged incoming PUBLISHes beyond which the connection stops reading (back-pressure). */
    private static final int MAX_PENDING_ACKS = 1024;

    private final Config config;
    private final DeviceRegistry registry;
    private final Broker broker;
    private final BooleanSupplier serverStopping;
    private final ConnectCheck connectCheck;
    private final AckQueue acks = new AckQueue();
    private ChannelHandlerContext ctx;
    private DeliveryQueue deliveries;
    private State state = State.AWAITING_CONNECT;
    private ScheduledFuture<?> connectTimeout;
    private String clientId = "-";
    private Publisher publisher;
    private Session session;
    private Message will;
    /** What the client logged in with, so that the broker can end the connection when it stops working. */
    private volatile Credential credential;
    private long onlineToken;
    private volatile boolean closeLogged;
    /** A denied PUBLISH was logged on this connection (the next ones are only counted). */
    private boolean deniedLogged;
    private ScheduledFuture<?> slowConsumerCheck;

    MqttConnection(Config config, DeviceRegistry registry, Broker broker, BooleanSupplier serverStopping) {
        this(config, registry, broker, serverStopping, MqttServer.newThrottle(config));
    }

    MqttConnection(Config config, DeviceRegistry registry, Broker broker, BooleanSupplier serverStopping,
                   LoginThrottle throttle) {
        this(config, registry, broker, serverStopping, () -> null, throttle);
    }

    MqttConnection(Config config, DeviceRegistry registry, Broker broker, BooleanSupplier serverStopping,
                   Supplier<String> storeProblem, LoginThrottle throttle) {
        this(config, registry, broker, serverStopping, new ConnectCheck(registry, throttle, serverStopping, storeProblem));
    }

    /** {@code connectCheck} is the server's one CONNECT policy, shared by all its connections. */
    MqttConnection(Config config, DeviceRegistry registry, Broker broker, BooleanSupplier serverStopping,
                   ConnectCheck connectCheck) {
        this.config = config;
        this.registry = registry;
        this.broker = broker;
        this.serverStopping = serverStopping;
        this.connectCheck = connectCheck;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.deliveries = new DeliveryQueue(ctx);
        long timeout = config.connectTimeout().toMillis();
        connectTimeout = ctx.executor().schedule(() -> {
            if (state == State.AWAITING_CONNECT) {
                closeFor("no CONNECT within " + timeout + " ms");
            }
        }, timeout, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (state == State.CLOSED || !(msg instanceof MqttMessage m)) {
                return;
            }
            if (m.fixedHeader() != null && state == State.AWAITING_CONNECT
                    && m.fixedHeader().remainingLength() > MqttServer.maxConnectBytes(config)) {
                // Checked before the decoder's result: the decoder skipped the packet's bytes without holding them.
                broker.stats().oversizeBeforeConnect();
                closeFor("packet of " + m.fixedHeader().remainingLength() + " bytes before CONNECT is over "
                        + "mqtt.max-connect-bytes (" + MqttServer.maxConnectBytes(config) + ")");
                return;
            }
            if (m.fixedHeader() != null && m.fixedHeader().remainingLength() > config.maxPacketBytes()) {
                // D14, checked before the decoder's result: Netty's own limit also counts the fixed header.
                closeFor("packet of " + m.fixedHeader().remainingLength() + " bytes is over mqtt.max-packet-bytes ("
                        + config.maxPacketBytes() + ")");
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
                if (m.fixedHeader().messageType() != MqttMessageType.CONNECT) {
                    // [MQTT-3.1.0-1], D20: nothing of a client is processed before its CONNECT.
                    closeFor("first packet must be CONNECT, got " + m.fixedHeader().messageType());
                    return;
                }
                onConnect((MqttConnectMessage) m);
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
            case PUBACK -> session.onPuback(packetId(m));
            case PUBREC -> onPubrec(packetId(m));
            case PUBREL -> onPubrel(packetId(m));
            case PUBCOMP -> session.onPubcomp(packetId(m));
            case SUBSCRIBE -> onSubscribe((MqttSubscribeMessage) m);
            case UNSUBSCRIBE -> onUnsubscribe((MqttUnsubscribeMessage) m);
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

    private void onConnect(MqttConnectMessage m) {
        connectTimeout.cancel(false);
        connectTimeout = null; // a cancelled task kept per connection is memory for nothing
        clientId = m.payload().clientIdentifier(); // named in the log line should the check throw
        ConnectCheck.Outcome outcome = connectCheck.check(m, ctx.channel().remoteAddress());
        clientId = outcome.clientId(); // an empty one may have been replaced [MQTT-3.1.3-6]
        if (!(outcome instanceof ConnectCheck.Accepted accepted)) {
            refuse((ConnectCheck.Refused) outcome);
            return;
        }
        Login login = accepted.login();
        will = accepted.will();
        long deviceId = accepted.deviceId();
        publisher = new Publisher(login.productId(), deviceId, clientId);
        Broker.Connected connected = broker.connect(login.productId(), deviceId, clientId, accepted.cleanSession());
        session = connected.session();
        state = State.CONNECTED;
        ctx.write(MqttMessageBuilders.connAck().returnCode(MqttConnectReturnCode.CONNECTION_ACCEPTED)
                .sessionPresent(connected.sessionPresent()).build());
        if (accepted.keepAliveSeconds() > 0) {
            // D7: closed after 1.5 x keep-alive of silence [MQTT-3.1.2-24].
            long idleMillis = accepted.keepAliveSeconds() * 1500L;
            ctx.pipeline().addBefore(ctx.name(), "keepalive", new IdleStateHandler(idleMillis, 0, 0, TimeUnit.MILLISECONDS));
        }
        credential = login.credential();
        session.attach(this);
        if (registry.credentialChanges() != accepted.credentialChanges() && !registry.stillValid(deviceId, credential)) {
            // Revoked between the login check and attach, where the revocation could not find this connection
            // (DeviceRegistry#credentialChanges): as if refused, so without the will.
            will = null;
            closeFor("login revoked while connecting");
            return;
        }
        if (deviceId != 0) {
            // After attach, so that whoever reacts to "online" (pending commands) can already send.
            onlineToken = registry.markOnline(deviceId);
        }
        ctx.flush();
        log.debug("[{}] connected from {} (product {}, clean {})", clientId, remote(), login.productId(),
                accepted.cleanSession());
        ChannelHandlerContext decoder = ctx.pipeline().context(MqttDecoder.class);
        if (decoder != null) {
            // Logged in: packets up to mqtt.max-packet-bytes from now on. Last, once CONNACK is written: the bytes the
            // old decoder holds (packets pipelined behind the CONNECT) go to the new one now, and this handler reads them.
            ctx.pipeline().replace(decoder.name(), decoder.name(), MqttServer.newDecoder(config));
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
        // [MQTT-3.1.2-2] a 3.1.1 CONNACK whatever level the client asked for: after an MQTT 5 CONNECT the
        // encoder would write an MQTT 5 CONNACK, which a 3.1.1 return code does not fit.
        ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {0x20, 0x02, 0x00, (byte) code.code}))
                .addListener(f -> ctx.close());
    }

    // ---- PUBLISH from the client --------------------------------------------------------------------

    /** Whether {@code topic} is the forward topic of a device of this product other than the publisher. */
    private boolean forwardOfAnotherDevice(String topic) {
        long named = Topics.forwardDevice(topic);
        return named != 0 && named != publisher.deviceId()
                && registry.device(named).filter(d -> d.productId() == publisher.productId()).isPresent();
    }

    private void onPublish(MqttPublishMessage m) {
        broker.stats().received();
        String topic = m.variableHeader().topicName();
        int qos = m.fixedHeader().qosLevel().value();
        int packetId = m.variableHeader().packetId();
        String problem = Topics.checkTopicName(topic);
        if (problem != null) {
            closeFor("invalid topic name: " + problem);
            return;
        }
        byte[] payload = ByteBufUtil.getBytes(m.content());
        if (qos == 2 && !session.beginIncomingQos2(packetId)) {
            // A resent QoS 2 PUBLISH that was already routed: acknowledge again, route nothing [MQTT-4.3.3-2].
            ctx.writeAndFlush(ack(MqttMessageType.PUBREC, packetId));
            return;
        }
        CompletableFuture<Void> handled;
        if (Topics.isSystem(topic)) {
            Optional<SystemTopicHandler> handler = broker.systemHandler(topic);
            if (handler.isEmpty()) {
                closeFor("publishing to system topic " + topic + " is not allowed"); // D9
                return;
            }
            handled = handler.get().handle(publisher, topic, payload, qos);
        } else if (forwardOfAnotherDevice(topic)) {
            // /{device_id}/{stream} carries that device's stored points (D4); another device's PUBLISH there would be
            // indistinguishable from them. 3.1.1 cannot refuse a PUBLISH: acknowledged, not routed [MQTT-3.3.5-2].
            broker.stats().publishDenied();
            if (!deniedLogged) {
                deniedLogged = true;
                log.info("[{}] {} publish to {} acknowledged and dropped: it is another device's forward topic (logged once "
                        + "per connection)", clientId, remote(), topic);
            }
            handled = CompletableFuture.completedFuture(null);
        } else {
            handled = broker.publish(publisher.productId(), new Message(topic, payload, qos, m.fixedHeader().isRetain()));
        }
        if (qos == 0 && handled.isDone() && !handled.isCompletedExceptionally()) {
            return; // routed, and QoS 0 has no acknowledgement to queue (the common case under load)
        }
        Runnable sendAck = switch (qos) {
            case 1 -> () -> ctx.write(ack(MqttMessageType.PUBACK, packetId));
            case 2 -> () -> ctx.write(ack(MqttMessageType.PUBREC, packetId));
            default -> () -> { };
        };
        acks.add(handled, sendAck, e -> {
            if (qos == 2) {
                session.endIncomingQos2(packetId);
            }
            closeFor("publish to " + topic + " failed: " + e.getMessage());
        }, payload.length);
        if (handled.isDone()) {
            acks.release();
            ctx.flush();
        } else {
            handled.whenComplete((v, e) -> ctx.executor().execute(this::releaseAcks));
            if (acks.size() >= MAX_PENDING_ACKS || acks.bytes() >= config.tenantLimits().maxPendingPublishBytes()) {
                // Payloads waiting for the store are heap: a publisher of large messages waits, as one of many does.
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
        if (acks.size() < MAX_PENDING_ACKS / 2 && acks.bytes() < config.tenantLimits().maxPendingPublishBytes() / 2
                && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void onPubrec(int packetId) {
        session.onPubrec(packetId);
        ctx.writeAndFlush(ack(MqttMessageType.PUBREL, packetId));
    }

    private void onPubrel(int packetId) {
        session.endIncomingQos2(packetId);
        ctx.writeAndFlush(ack(MqttMessageType.PUBCOMP, packetId));
    }

    // ---- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------------------------------

    private void onSubscribe(MqttSubscribeMessage m) {
        List<MqttTopicSubscription> subs = m.payload().topicSubscriptions();
        if (subs.isEmpty()) {
            closeFor("SUBSCRIBE without topic filters"); // [MQTT-3.8.3-3]
            return;
        }
        List<Broker.SubscriptionRequest> requests = new ArrayList<>(subs.size());
        for (MqttTopicSubscription s : subs) {
            requests.add(new Broker.SubscriptionRequest(s.topicFilter(), s.qualityOfService().value()));
        }
        List<Integer> codes = broker.subscribe(session, requests);
        MqttMessageBuilders.SubAckBuilder subAck = MqttMessageBuilders.subAck().packetId(m.variableHeader().messageId());
        for (int code : codes) {
            subAck.addGrantedQos(MqttQoS.valueOf(code));
        }
        ctx.write(subAck.build());
        for (int i = 0; i < codes.size(); i++) {
            if (codes.get(i) != Broker.SUBACK_FAILURE) {
                broker.deliverRetained(session, requests.get(i).filter(), codes.get(i));
            }
        }
        ctx.flush();
    }

    private void onUnsubscribe(MqttUnsubscribeMessage m) {
        List<String> filters = m.payload().topics();
        if (filters.isEmpty()) {
            closeFor("UNSUBSCRIBE without topic filters"); // [MQTT-3.10.3-2]
            return;
        }
        broker.unsubscribe(session, filters);
        ctx.writeAndFlush(MqttMessageBuilders.unsubAck().packetId(m.variableHeader().messageId()).build());
    }

    private void onDisconnect() {
        will = null; // [MQTT-3.14.4-3] a clean DISCONNECT discards the will
        closeLogged = true;
        log.debug("[{}] disconnected", clientId);
        ctx.close();
    }

    // ---- connection end ----------------------------------------------------------------------------

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            closeFor("keep-alive timeout");
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    /**
     * A client whose send buffer stays full for {@code mqtt.slow-consumer-seconds} is disconnected: QoS 0 to it is
     * dropped meanwhile (Session), but a client that never reads must not hold a connection and its buffers forever.
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable() && slowConsumerCheck == null && state == State.CONNECTED) {
            long millis = config.protection().slowConsumerTimeout().toMillis();
            slowConsumerCheck = ctx.executor().schedule(() -> {
                slowConsumerCheck = null;
                if (!ctx.channel().isWritable() && state == State.CONNECTED) {
                    broker.stats().slowConsumerDisconnected();
                    closeFor("slow consumer: send buffer full for " + millis + " ms");
                }
            }, millis, TimeUnit.MILLISECONDS);
        } else if (ctx.channel().isWritable() && slowConsumerCheck != null) {
            slowConsumerCheck.cancel(false);
            slowConsumerCheck = null;
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State before = state;
        state = State.CLOSED;
        acks.clear();
        if (connectTimeout != null) {
            connectTimeout.cancel(false);
        }
        if (slowConsumerCheck != null) {
            slowConsumerCheck.cancel(false);
        }
        if (before == State.CONNECTED) {
            if (will != null && !serverStopping.getAsBoolean()) {
                // [MQTT-3.1.2-8] the will is published when the connection ends without DISCONNECT.
                broker.publish(publisher.productId(), will);
            }
            broker.disconnect(session, this);
            if (publisher.deviceId() != 0) {
                registry.markOffline(publisher.deviceId(), onlineToken);
            }
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
        } else {
            closeFor("internal error: " + cause);
        }
    }

    /** Closes the connection with one log line naming the client, its address and the reason. */
    private void closeFor(String reason) {
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
        return String.valueOf(ctx.channel().remoteAddress());
    }

    // ---- Outbox: packets to the client, from any thread ------------------------------------------------

    @Override
    public void publish(Message message, int packetId, boolean dup) {
        MqttFixedHeader header = new MqttFixedHeader(MqttMessageType.PUBLISH, dup,
                MqttQoS.valueOf(message.qos()), message.retain(), 0);
        broker.stats().sent();
        deliveries.write(new MqttPublishMessage(header, new MqttPublishVariableHeader(message.topic(), packetId),
                Unpooled.wrappedBuffer(message.payload())));
    }

    @Override
    public CompletableFuture<Void> sendDirect(Message message) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        broker.stats().sent();
        MqttFixedHeader header = new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_MOST_ONCE, false, 0);
        ctx.writeAndFlush(new MqttPublishMessage(header, new MqttPublishVariableHeader(message.topic(), 0),
                Unpooled.wrappedBuffer(message.payload()))).addListener(f -> {
                    if (f.isSuccess()) {
                        written.complete(null);
                    } else {
                        written.completeExceptionally(f.cause());
                    }
                });
        return written;
    }

    @Override
    public void pubrel(int packetId) {
        ctx.writeAndFlush(ack(MqttMessageType.PUBREL, packetId), ctx.voidPromise());
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable() && !deliveries.isFull();
    }

    @Override
    public void close(String reason) {
        close(reason, true);
    }

    @Override
    public void close(String reason, boolean publishWill) {
        ctx.executor().execute(() -> {
            if (!publishWill) {
                will = null;
            }
            if (!closeLogged) {
                closeLogged = true;
                log.info("[{}] {} closed: {}", clientId, remote(), reason);
            }
            ctx.close();
        });
    }

    @Override
    public Credential credential() {
        return credential;
    }

    private static MqttMessage ack(MqttMessageType type, int packetId) {
        MqttQoS qos = type == MqttMessageType.PUBREL ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE;
        return new MqttMessage(new MqttFixedHeader(type, false, qos, false, 0), MqttMessageIdVariableHeader.from(packetId));
    }

    private static int packetId(MqttMessage m) {
        return ((MqttMessageIdVariableHeader) m.variableHeader()).messageId();
    }
}
