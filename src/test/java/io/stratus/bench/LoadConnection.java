package io.stratus.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One MQTT 3.1.1 client connection of the load tool. Packets are encoded by hand into one buffer each and
 * inbound frames are parsed in place, so the client spends as little of the shared cores as it can: the
 * same code drives every broker, and what it costs is not the broker's.
 */
final class LoadConnection extends ByteToMessageDecoder {
    /** What a connection reports; called on its event loop. */
    interface Handler {
        /** A PUBLISH arrived; {@code payload} is valid only during the call. A QoS 1 PUBACK is already queued. */
        default void published(LoadConnection c, ByteBuf payload, int qos) {
        }

        /** A PUBACK for one of our QoS 1 PUBLISHes. */
        default void acked(LoadConnection c, int packetId) {
        }

        /** The connection can take writes again after {@link #isWritable()} was false. */
        default void writable(LoadConnection c) {
        }

        /** The channel closed: a drop, a refused CONNECT or our own disconnect. */
        default void closed(LoadConnection c) {
        }
    }

    /** Who connects: null user name and password connect anonymously. */
    record Login(String clientId, String userName, String password) {
        static Login anonymous(String clientId) {
            return new Login(clientId, null, null);
        }
    }

    private final Login login;
    private final boolean cleanSession;
    private final int keepAliveSeconds;
    private final Handler handler;
    final CompletableFuture<LoadConnection> connected = new CompletableFuture<>();
    private CompletableFuture<Void> subscribed;
    private Channel channel;
    private ScheduledFuture<?> pinger;
    private boolean ackPending;
    private volatile boolean sessionPresent;

    /** With {@code cleanSession} false the server keeps the session (subscriptions, queued QoS 1) across connections. */
    LoadConnection(Login login, boolean cleanSession, int keepAliveSeconds, Handler handler) {
        this.login = login;
        this.cleanSession = cleanSession;
        this.keepAliveSeconds = keepAliveSeconds;
        this.handler = handler;
    }

    EventLoop loop() {
        return channel.eventLoop();
    }

    boolean isWritable() {
        return channel.isWritable();
    }

    boolean isOpen() {
        return channel.isActive();
    }

    String clientId() {
        return login.clientId();
    }

    /** The session-present bit of the CONNACK; valid once {@link #connected} completed. */
    boolean sessionPresent() {
        return sessionPresent;
    }

    // ---- outbound -------------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        channel = ctx.channel();
        // A CONNECT its caller gave up on (orTimeout) must not linger and log in later, unseen.
        connected.whenComplete((c, e) -> {
            if (e != null) {
                channel.close();
            }
        });
        byte[] id = utf8(login.clientId());
        byte[] user = login.userName() == null ? null : utf8(login.userName());
        byte[] pass = login.password() == null ? null : utf8(login.password());
        int remaining = 10 + 2 + id.length + (user == null ? 0 : 2 + user.length) + (pass == null ? 0 : 2 + pass.length);
        ByteBuf b = ctx.alloc().ioBuffer(5 + remaining);
        b.writeByte(0x10);
        writeLength(b, remaining);
        b.writeShort(4).writeBytes(new byte[] {'M', 'Q', 'T', 'T'}).writeByte(4);
        b.writeByte((cleanSession ? 0x02 : 0) | (user == null ? 0 : 0x80) | (pass == null ? 0 : 0x40));
        b.writeShort(keepAliveSeconds);
        b.writeShort(id.length).writeBytes(id);
        if (user != null) {
            b.writeShort(user.length).writeBytes(user);
        }
        if (pass != null) {
            b.writeShort(pass.length).writeBytes(pass);
        }
        ctx.writeAndFlush(b);
        if (keepAliveSeconds > 0) {
            long every = keepAliveSeconds * 1000L / 2;
            // Cancelled when the channel closes: a load that reconnects would otherwise pile up pingers of dead channels.
            pinger = ctx.executor().scheduleAtFixedRate(() -> {
                if (channel.isActive()) {
                    channel.writeAndFlush(channel.alloc().ioBuffer(2).writeByte(0xC0).writeByte(0), channel.voidPromise());
                }
            }, every, every, TimeUnit.MILLISECONDS);
        }
        super.channelActive(ctx);
    }

    /** Subscribes to one filter; one SUBSCRIBE at a time per connection. */
    CompletableFuture<Void> subscribe(String filter, int qos) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable send = () -> {
            subscribed = done;
            byte[] f = utf8(filter);
            int remaining = 2 + 2 + f.length + 1;
            ByteBuf b = channel.alloc().ioBuffer(5 + remaining);
            b.writeByte(0x82);
            writeLength(b, remaining);
            b.writeShort(1).writeShort(f.length).writeBytes(f).writeByte(qos);
            channel.writeAndFlush(b);
        };
        if (channel.eventLoop().inEventLoop()) {
            send.run();
        } else {
            channel.eventLoop().execute(send);
        }
        return done;
    }

    /**
     * Queues (without flushing) a PUBLISH whose payload starts with the send time, the source and a sequence
     * number and is zero-filled up to {@code size} bytes (at least 16). Call on the connection's loop.
     */
    void publishStamped(byte[] topic, int qos, int packetId, int source, int seq, int size) {
        int remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + size;
        ByteBuf b = channel.alloc().ioBuffer(5 + remaining);
        header(b, topic, qos, packetId, remaining);
        b.writeLong(System.nanoTime()).writeInt(source).writeInt(seq).writeZero(size - 16);
        channel.write(b, channel.voidPromise());
    }

    /** Queues (without flushing) a PUBLISH of {@code payload}. Call on the connection's loop. */
    void publish(byte[] topic, int qos, int packetId, byte[] payload) {
        int remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + payload.length;
        ByteBuf b = channel.alloc().ioBuffer(5 + remaining);
        header(b, topic, qos, packetId, remaining);
        b.writeBytes(payload);
        channel.write(b, channel.voidPromise());
    }

    void flush() {
        channel.flush();
    }

    /** Disconnects all of {@code connections} and waits up to {@code seconds} for them to close; best effort. */
    static void disconnectAll(Iterable<LoadConnection> connections, int seconds) {
        List<CompletableFuture<Void>> closed = new ArrayList<>();
        for (LoadConnection c : connections) {
            closed.add(c.disconnect());
        }
        try {
            CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new)).get(seconds, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing is best effort; the client's event loops end with the client
        }
    }

    /** Sends DISCONNECT and closes; the returned future completes when the channel is closed. */
    CompletableFuture<Void> disconnect() {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        if (channel == null) {
            closed.complete(null);
            return closed;
        }
        channel.closeFuture().addListener(f -> closed.complete(null));
        if (channel.isActive()) {
            channel.writeAndFlush(channel.alloc().ioBuffer(2).writeByte(0xE0).writeByte(0))
                    .addListener(f -> channel.close());
        } else {
            channel.close();
        }
        return closed;
    }

    private static void header(ByteBuf b, byte[] topic, int qos, int packetId, int remaining) {
        b.writeByte(0x30 | qos << 1);
        writeLength(b, remaining);
        b.writeShort(topic.length).writeBytes(topic);
        if (qos > 0) {
            b.writeShort(packetId);
        }
    }

    private static void writeLength(ByteBuf b, int length) {
        do {
            int digit = length & 0x7F;
            length >>>= 7;
            b.writeByte(length > 0 ? digit | 0x80 : digit);
        } while (length > 0);
    }

    // ---- inbound --------------------------------------------------------------------------------

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 2) {
            int start = in.readerIndex();
            int type = in.getUnsignedByte(start);
            int length = 0;
            int shift = 0;
            int pos = start + 1;
            while (true) {
                if (pos >= in.writerIndex()) {
                    return; // length not complete yet
                }
                int digit = in.getUnsignedByte(pos++);
                length |= (digit & 0x7F) << shift;
                if ((digit & 0x80) == 0) {
                    break;
                }
                shift += 7;
            }
            int end = pos + length;
            if (end > in.writerIndex()) {
                return;
            }
            frame(ctx, type, in, pos, end);
            in.readerIndex(end);
        }
    }

    private void frame(ChannelHandlerContext ctx, int type, ByteBuf in, int pos, int end) {
        switch (type >> 4) {
            case 2 -> { // CONNACK
                int code = in.getUnsignedByte(pos + 1);
                sessionPresent = (in.getUnsignedByte(pos) & 1) != 0;
                if (code == 0) {
                    connected.complete(this);
                } else {
                    connected.completeExceptionally(new IllegalStateException("CONNACK " + code + " for " + login.clientId()));
                    ctx.close();
                }
            }
            case 3 -> { // PUBLISH
                int qos = (type >> 1) & 3;
                int topicLength = in.getUnsignedShort(pos);
                int payloadStart = pos + 2 + topicLength + (qos > 0 ? 2 : 0);
                if (qos == 1) {
                    int id = in.getUnsignedShort(pos + 2 + topicLength);
                    ctx.write(ctx.alloc().ioBuffer(4).writeByte(0x40).writeByte(2).writeShort(id), ctx.voidPromise());
                    ackPending = true;
                }
                handler.published(this, in.slice(payloadStart, end - payloadStart), qos);
            }
            case 4 -> handler.acked(this, in.getUnsignedShort(pos)); // PUBACK
            case 9 -> { // SUBACK
                CompletableFuture<Void> s = subscribed;
                subscribed = null;
                if (s != null) {
                    int granted = in.getUnsignedByte(pos + 2);
                    if (granted == 0x80) {
                        s.completeExceptionally(new IllegalStateException("subscription refused for " + login.clientId()));
                    } else {
                        s.complete(null);
                    }
                }
            }
            default -> {
                // PINGRESP and anything else: nothing to do
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (ackPending) {
            ackPending = false;
            ctx.flush();
        }
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable()) {
            handler.writable(this);
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (pinger != null) {
            pinger.cancel(false);
        }
        connected.completeExceptionally(new IllegalStateException("connection closed before CONNACK: " + login.clientId()));
        CompletableFuture<Void> s = subscribed;
        if (s != null) {
            s.completeExceptionally(new IllegalStateException("connection closed before SUBACK: " + login.clientId()));
        }
        handler.closed(this);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connected.completeExceptionally(cause);
        ctx.close();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
