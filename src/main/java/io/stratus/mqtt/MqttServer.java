package io.stratus.mqtt;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.stratus.Config;
import io.stratus.broker.Broker;
import io.stratus.device.DeviceRegistry;
import io.stratus.device.LoginThrottle;
import io.stratus.tls.TlsFiles;
import io.stratus.transport.ByteStreams;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The MQTT 3.1.1 listener: Netty bootstrap (epoll where available) and the per-connection pipeline. */
public final class MqttServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MqttServer.class);
    /** A fixed header is at most 5 bytes: a type byte and up to 4 of remaining length. */
    private static final int MAX_FIXED_HEADER_BYTES = 5;
    /** The largest remaining length four bytes can encode (MQTT 3.1.1 section 2.2.3). */
    private static final int MAX_REMAINING_LENGTH = 268_435_455;
    /** The most one read takes from a connection at a time (see the bootstrap); 16 KiB is about 130 small PUBLISHes. */
    private static final int READ_BYTES = 16 * 1024;
    /**
     * A connection's write buffer: over the high mark it reads as full (QoS 0 to it is dropped, commands fail), and
     * the slow-consumer timer starts.
     */
    static final WriteBufferWaterMark WRITE_BUFFER = new WriteBufferWaterMark(32 * 1024, 128 * 1024);

    private final Config config;
    private final DeviceRegistry registry;
    private final Broker broker;
    /** One CONNECT policy for all connections: it keeps no per-connection state. */
    private final ConnectCheck connectCheck;
    private final ConnectionDeadlines deadlines = new ConnectionDeadlines();
    private final LongAdder proxyHeaderFailures = new LongAdder();
    private final ChannelGroup clients = new DefaultChannelGroup("mqtt-clients", GlobalEventExecutor.INSTANCE);
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private Channel serverChannel;
    /** The TLS port's listener and what goes in front of its connections; null without {@code mqtt.tls-port}. */
    private Channel tlsServerChannel;
    private TlsFront tls;
    /** The WebSocket listeners, plain and with TLS; null without {@code mqtt.ws-port}, {@code mqtt.wss-port}. */
    private Channel wsServerChannel;
    private Channel wssServerChannel;
    /** MQTT over WebSocket on the HTTP port: the API's Jetty hands the connections in through these. */
    private final LocalStreams streams = new LocalStreams();
    private volatile boolean stopping;
    /** Handed to every connection: one object, not one per connection. */
    private final BooleanSupplier stoppingFlag = () -> stopping;

    public MqttServer(Config config, DeviceRegistry registry, Broker broker) {
        this(config, registry, broker, newThrottle(config));
    }

    /** {@code throttle} rate-limits failed logins; share it with the HTTP API so one address has one budget. */
    public MqttServer(Config config, DeviceRegistry registry, Broker broker, LoginThrottle throttle) {
        this(config, registry, broker, throttle, () -> null);
    }

    /**
     * {@code storeProblem} says why the store is known not to take writes, or null; it is asked on every CONNECT, on
     * an event loop, so it must answer from memory (StoreAvailability#problem). While it names a problem, CONNECTs
     * get CONNACK 3 (D5, docs/decisions.md).
     */
    public MqttServer(Config config, DeviceRegistry registry, Broker broker, LoginThrottle throttle,
                      Supplier<String> storeProblem) {
        this.config = config;
        this.registry = registry;
        this.broker = broker;
        this.connectCheck = new ConnectCheck(registry, throttle, () -> stopping, storeProblem);
    }

    /** A login throttle with the {@code auth.*} settings. */
    public static LoginThrottle newThrottle(Config config) {
        Config.Protection p = config.protection();
        return new LoginThrottle(p.authMaxFailures(), p.authMaxFailuresPerAddress(), p.authBackoffBase().toMillis(),
                p.authBackoffMax().toMillis());
    }

    /**
     * Also serves MQTT over TLS on {@code mqtt.tls-port} and over WebSocket with TLS on {@code mqtt.wss-port}, with the
     * certificate {@code files} holds; call before start.
     */
    public void enableTls(TlsFiles files) {
        this.tls = new TlsFront(config.tls(), files);
    }

    public void start() {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        bossGroup = new MultiThreadIoEventLoopGroup(1, io);
        workerGroup = new MultiThreadIoEventLoopGroup(0, io);
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // Fair turns: one read of at most READ_BYTES per connection per pass of its event loop, not Netty's 16
                // reads of up to 64 KiB. A flooding publisher then delays the other connections of its loop by one
                // short read (about 100 µs of decoding), not by a megabyte. At twice the peak rate (OverloadIT) this took
                // a well-behaved subscriber's latency from p50 5-7 ms / p99 32-56 ms to 0.7 ms / 12 ms, and
                // bench/compare.sh's throughput figures did not move.
                .childOption(ChannelOption.RCVBUF_ALLOCATOR,
                        new AdaptiveRecvByteBufAllocator(64, 1024, READ_BYTES).maxMessagesPerRead(1))
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WRITE_BUFFER)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accept(ch, plain -> true);
                    }
                });
        try {
            serverChannel = bootstrap.bind(config.bind(), config.mqttPort()).sync().channel();
            streams.start(this::addMqtt);
            // The same bootstrap and MQTT pipeline, with TLS, WebSocket or both in front.
            if (tls != null && config.tls().mqttPort() >= 0) {
                tlsServerChannel = bind(bootstrap, config.tls().mqttPort(), ch -> tls.addTo(ch));
            }
            if (config.tls().wsPort() >= 0) {
                wsServerChannel = bind(bootstrap, config.tls().wsPort(), ch -> {
                    addWebSocket(ch);
                    return true;
                });
            }
            if (tls != null && config.tls().wssPort() >= 0) {
                wssServerChannel = bind(bootstrap, config.tls().wssPort(), ch -> {
                    if (!tls.addTo(ch)) {
                        return false;
                    }
                    addWebSocket(ch);
                    return true;
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding the MQTT port", e);
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot listen for MQTT on " + config.bind() + ":" + config.mqttPort() + ": " + e.getMessage(), e);
        }
        log.debug("MQTT listening on {} ({})", serverChannel.localAddress(), epoll ? "epoll" : "nio");
    }

    /** A listener on {@code port} whose connections get {@code front} (false: closed) and then the MQTT handlers. */
    private Channel bind(ServerBootstrap base, int port, Predicate<Channel> front) throws InterruptedException {
        return base.clone().childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                accept(ch, front);
            }
        }).bind(config.bind(), port).sync().channel();
    }

    /** A new connection gets {@code front} (false: closed) and the MQTT handlers; behind the PROXY header if configured. */
    private void accept(Channel ch, Predicate<Channel> front) {
        if (config.proxyProtocol()) {
            ProxyHeader.addTo(ch, config.connectTimeout().toMillis(), proxyHeaderFailures, told -> open(told, front));
        } else {
            open(ch, front);
        }
    }

    private void open(Channel ch, Predicate<Channel> front) {
        if (front.test(ch)) {
            addMqtt(ch);
        }
    }

    private void addWebSocket(Channel ch) {
        WebSocketFront.addTo(ch, Math.min(config.maxPacketBytes(), MAX_REMAINING_LENGTH) + MAX_FIXED_HEADER_BYTES,
                config.connectTimeout().toMillis());
    }

    /** The MQTT part of a connection's pipeline, behind TLS or WebSocket when it came in on such a port. */
    private void addMqtt(Channel ch) {
        clients.add(ch);
        // Many small writes per read become one syscall (and one TLS record).
        ch.pipeline().addLast("flush", new FlushConsolidationHandler(256, true));
        if (config.onenetHeaderFlags()) {
            ch.pipeline().addLast("onenet-header-flags", new OneNetHeaderFlags());
        }
        ch.pipeline()
                .addLast("decoder", newConnectDecoder(config))
                .addLast("encoder", MqttEncoder.INSTANCE)
                .addLast("connection", new MqttConnection(config, broker, stoppingFlag, connectCheck, deadlines));
    }

    /**
     * The decoder of a logged-in connection. Netty counts the fixed header in its size limit, D14 limits only the
     * remaining length: the decoder lets the fixed header's bytes more through and MqttConnection enforces the exact
     * limit.
     */
    static MqttDecoder newDecoder(Config config) {
        return new MqttDecoder(Math.min(config.maxPacketBytes(), MAX_REMAINING_LENGTH) + MAX_FIXED_HEADER_BYTES,
                ConnectCheck.MAX_CLIENT_ID_LENGTH);
    }

    /**
     * The decoder of a connection until its CONNECT is accepted: packets up to {@link #maxConnectBytes}. A decoder
     * buffers a whole packet before handing it on, so with the full limit every unauthenticated socket could make the
     * server hold mqtt.max-packet-bytes; MqttConnection swaps in {@link #newDecoder} after CONNACK 0.
     */
    static MqttDecoder newConnectDecoder(Config config) {
        return new MqttDecoder(maxConnectBytes(config) + MAX_FIXED_HEADER_BYTES, ConnectCheck.MAX_CLIENT_ID_LENGTH);
    }

    /**
     * The pipeline of a connection whose CONNECT was accepted and answered: a decoder for packets up to
     * mqtt.max-packet-bytes. Called by the connection's handler once CONNACK is written: the bytes the old decoder holds
     * (packets pipelined behind the CONNECT) go to the new one now, and that handler reads them.
     */
    static void loggedIn(ChannelHandlerContext connection, Config config) {
        ChannelHandlerContext decoder = connection.pipeline().context(MqttDecoder.class);
        if (decoder != null) {
            connection.pipeline().replace(decoder.name(), decoder.name(), newDecoder(config));
        }
    }

    /** The largest remaining length read before a CONNECT is accepted ({@code mqtt.max-connect-bytes}). */
    static int maxConnectBytes(Config config) {
        return Math.min(config.tenantLimits().maxConnectBytes(), Math.min(config.maxPacketBytes(), MAX_REMAINING_LENGTH));
    }

    /** Where another transport opens MQTT connections (the HTTP port's {@code /mqtt}); open once started. */
    public ByteStreams streams() {
        return streams;
    }

    public int port() {
        return serverChannel == null ? -1 : ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The MQTT TLS port, or -1 when there is none. */
    public int tlsPort() {
        return portOf(tlsServerChannel);
    }

    /** The MQTT over WebSocket port, or -1 when there is none. */
    public int webSocketPort() {
        return portOf(wsServerChannel);
    }

    /** The MQTT over WebSocket with TLS port, or -1 when there is none. */
    public int secureWebSocketPort() {
        return portOf(wssServerChannel);
    }

    private static int portOf(Channel listener) {
        return listener == null ? -1 : ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** TLS handshakes in progress now (0 without TLS). */
    public int tlsHandshakesInProgress() {
        return tls == null ? 0 : tls.handshaking();
    }

    /** TLS connections closed because {@code tls.max-handshakes} were in progress. */
    public long tlsHandshakesRefused() {
        return tls == null ? 0 : tls.refused();
    }

    /** TLS connections closed because their address had {@code tls.max-handshakes-per-address} in progress. */
    public long tlsHandshakesRefusedFromAddress() {
        return tls == null ? 0 : tls.refusedFromAddress();
    }

    /** Connections closed for a missing, malformed or late PROXY protocol header ({@code mqtt.proxy-protocol}). */
    public long proxyHeaderFailures() {
        return proxyHeaderFailures.sum();
    }

    /** TLS handshakes that failed or timed out. */
    public long tlsHandshakesFailed() {
        return tls == null ? 0 : tls.failed();
    }

    public int connectionCount() {
        return clients.size();
    }

    /** Whether the listening socket is open (readiness). */
    public boolean isListening() {
        return serverChannel != null && serverChannel.isActive() && !stopping;
    }

    /** Stops accepting, closes every client connection (no wills: the clients did nothing wrong), ends the loops. */
    @Override
    public void close() {
        stopping = true;
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        for (Channel listener : new Channel[] {tlsServerChannel, wsServerChannel, wssServerChannel}) {
            if (listener != null) {
                listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        streams.close();
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
