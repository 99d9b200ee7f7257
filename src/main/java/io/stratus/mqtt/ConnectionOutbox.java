package io.stratus.mqtt;

import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.PlatformDependent;
import io.stratus.broker.BrokerStats;
import io.stratus.broker.Message;
import io.stratus.broker.Outbox;
import io.stratus.device.Credential;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * The packets the broker sends to one client, from any thread (the broker's {@link Outbox}); closing and the login's
 * credential are its connection's.
 *
 * <p>PUBLISHes are queued here. Netty makes every write from outside the channel's event loop a task of its own,
 * with its own wake-up and flush; with many publishers on other loops (fan-in) that was a large share of a
 * delivery's cost. Here writes from other threads queue up and one task writes the whole burst and flushes once.
 * A write on the loop first writes what is queued, so the wire order is the order in which the session handed
 * the messages over (the session calls under its lock), which keeps each publisher's order [MQTT-4.6.0-5].
 */
final class ConnectionOutbox implements Outbox {
    /** Small chunks: a queue holds a burst at most, and many connections never get one. */
    private static final int CHUNK = 32;
    /**
     * A burst is handed to the socket in parts of about this many payload bytes or {@link #FLUSH_MESSAGES} messages:
     * written unflushed, a whole burst counts against the channel's write buffer, which then reads as full, and QoS 0
     * messages for a client that reads as fast as they come were dropped (thousands per second on a freshly started
     * server, whose loops drain in large bursts while the JIT warms up).
     */
    private static final long FLUSH_BYTES = 32 * 1024;
    private static final int FLUSH_MESSAGES = 256;

    private final ChannelHandlerContext ctx;
    /** Where a flush goes straight to the socket (past the flush consolidation, which would defer it to a later task). */
    private final ChannelHandlerContext flushFrom;
    private final MqttConnection connection;
    private final BrokerStats stats;
    /**
     * Queued beyond this many messages ({@code mqtt.max-outgoing-messages}) or payload bytes
     * ({@code mqtt.max-outgoing-bytes}), the client counts as not writable: QoS 0 is dropped, as for a full socket
     * buffer. The bytes matter too: Netty's writability only changes when the loop writes, so without them a thread
     * handing over large messages faster than the loop drains (the reader of large retained messages) could queue
     * thousands.
     */
    private final int maxQueued;
    private final long maxQueuedBytes;
    /** Made on the first write from another thread: an idle connection carries no queue (memory per connection). */
    private volatile Queue<Object> queue;
    // Counters updated in place rather than Atomic* objects: 56 bytes less for each of many idle connections.
    private static final AtomicIntegerFieldUpdater<ConnectionOutbox> QUEUED =
            AtomicIntegerFieldUpdater.newUpdater(ConnectionOutbox.class, "queued");
    private static final AtomicLongFieldUpdater<ConnectionOutbox> QUEUED_BYTES =
            AtomicLongFieldUpdater.newUpdater(ConnectionOutbox.class, "queuedBytes");
    private static final AtomicIntegerFieldUpdater<ConnectionOutbox> SCHEDULED =
            AtomicIntegerFieldUpdater.newUpdater(ConnectionOutbox.class, "scheduled");
    private volatile int queued;
    private volatile long queuedBytes;
    private volatile int scheduled; // 1 while a drain is queued on the loop
    private final Runnable drain = this::drain;
    private ScheduledFuture<?> slowConsumerCheck; // on the event loop only

    ConnectionOutbox(ChannelHandlerContext ctx, MqttConnection connection, BrokerStats stats, int maxQueued, long maxQueuedBytes) {
        this.ctx = ctx;
        ChannelHandlerContext consolidation = ctx.pipeline().context(FlushConsolidationHandler.class);
        this.flushFrom = consolidation != null ? consolidation : ctx;
        this.connection = connection;
        this.stats = stats;
        this.maxQueued = maxQueued;
        this.maxQueuedBytes = maxQueuedBytes;
    }

    @Override
    public void publish(Message message, int packetId, boolean dup) {
        stats.sent();
        write(Packets.publish(message, packetId, dup));
    }

    @Override
    public CompletableFuture<Void> sendDirect(Message message) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        stats.sent();
        ctx.writeAndFlush(Packets.publishDirect(message)).addListener(f -> {
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
        ctx.writeAndFlush(Packets.ack(MqttMessageType.PUBREL, packetId), ctx.voidPromise());
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable() && !isFull();
    }

    @Override
    public void close(String reason) {
        close(reason, true);
    }

    @Override
    public void close(String reason, boolean publishWill) {
        ctx.executor().execute(() -> connection.closeForBroker(reason, publishWill));
    }

    @Override
    public Credential credential() {
        return connection.credential();
    }

    /**
     * A client whose send buffer stays full for {@code millis} ({@code mqtt.slow-consumer-seconds}) is disconnected:
     * QoS 0 to it is dropped meanwhile (Session), but a client that never reads must not hold a connection and its
     * buffers forever. Called on the event loop when the channel's writability changes.
     */
    void writabilityChanged(long millis) {
        if (!ctx.channel().isWritable() && slowConsumerCheck == null) {
            slowConsumerCheck = ctx.executor().schedule(() -> {
                slowConsumerCheck = null;
                if (!ctx.channel().isWritable()) {
                    connection.closeSlowConsumer(millis);
                }
            }, millis, TimeUnit.MILLISECONDS);
        } else if (ctx.channel().isWritable() && slowConsumerCheck != null) {
            cancelSlowConsumerCheck();
        }
    }

    void cancelSlowConsumerCheck() {
        if (slowConsumerCheck != null) {
            slowConsumerCheck.cancel(false);
            slowConsumerCheck = null;
        }
    }

    /** Writes and flushes {@code message} (any thread); the flush is shared with the rest of a burst. */
    void write(Object message) {
        if (ctx.executor().inEventLoop()) {
            writeQueued();
            ctx.writeAndFlush(message, ctx.voidPromise());
            return;
        }
        QUEUED_BYTES.addAndGet(this, bytesOf(message));
        queue().offer(message);
        QUEUED.incrementAndGet(this);
        if (SCHEDULED.compareAndSet(this, 0, 1)) {
            try {
                ctx.executor().execute(drain);
            } catch (RejectedExecutionException loopStopped) {
                discard(); // the server is stopping and the channel closed with its loop
            }
        }
    }

    private boolean isFull() {
        return queued >= maxQueued || queuedBytes >= maxQueuedBytes;
    }

    private static long bytesOf(Object message) {
        return message instanceof ByteBufHolder h ? h.content().readableBytes() : 0;
    }

    private void drain() {
        scheduled = 0; // before polling: a message queued from now on schedules another drain
        if (writeQueued() > 0) {
            ctx.flush();
        }
    }

    private Queue<Object> queue() {
        Queue<Object> q = queue;
        if (q == null) {
            synchronized (this) {
                q = queue;
                if (q == null) {
                    q = PlatformDependent.newMpscQueue(CHUNK, 1 << 30);
                    queue = q;
                }
            }
        }
        return q;
    }

    private int writeQueued() {
        Queue<Object> q = queue;
        if (q == null) {
            return 0;
        }
        int n = 0;
        int unflushed = 0;
        long unflushedBytes = 0;
        Object m;
        while ((m = q.poll()) != null) {
            long bytes = bytesOf(m);
            QUEUED.decrementAndGet(this);
            QUEUED_BYTES.addAndGet(this, -bytes);
            ctx.write(m, ctx.voidPromise());
            n++;
            unflushed++;
            unflushedBytes += bytes;
            if (unflushedBytes >= FLUSH_BYTES || unflushed == FLUSH_MESSAGES) {
                flushFrom.flush();
                unflushed = 0;
                unflushedBytes = 0;
            }
        }
        return n;
    }

    private void discard() {
        Queue<Object> q = queue();
        Object m;
        while ((m = q.poll()) != null) {
            QUEUED.decrementAndGet(this);
            QUEUED_BYTES.addAndGet(this, -bytesOf(m));
            ReferenceCountUtil.release(m);
        }
    }
}
