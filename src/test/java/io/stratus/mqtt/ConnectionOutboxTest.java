package io.stratus.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCountUtil;
import io.stratus.broker.BrokerStats;
import io.stratus.broker.Message;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ConnectionOutbox} between two of Netty's in-VM channels, on real event loops: messages handed over from
 * another thread while the connection's loop is busy, then written as one burst to a peer that reads all it gets.
 */
class ConnectionOutboxTest {
    private static final int HIGH_WATER_MARK = MqttServer.WRITE_BUFFER.high();
    private static final int PAYLOAD_BYTES = 1024;

    private EventLoopGroup loops;
    private Channel server;
    private Channel client;
    private final CompletableFuture<ChannelHandlerContext> serverSide = new CompletableFuture<>();
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicInteger becameUnwritable = new AtomicInteger();

    @BeforeEach
    void connect() throws Exception {
        loops = new DefaultEventLoopGroup(2);
        LocalAddress address = new LocalAddress("outbox-test-" + System.nanoTime());
        server = new ServerBootstrap().group(loops).channel(LocalServerChannel.class)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, MqttServer.WRITE_BUFFER)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel ch) {
                        ch.pipeline().addLast(new FlushConsolidationHandler(256, true), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void handlerAdded(ChannelHandlerContext ctx) {
                                serverSide.complete(ctx);
                            }

                            @Override
                            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                                if (!ctx.channel().isWritable()) {
                                    becameUnwritable.incrementAndGet();
                                }
                            }
                        });
                    }
                }).bind(address).sync().channel();
        client = new Bootstrap().group(loops).channel(LocalChannel.class).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                received.incrementAndGet();
                ReferenceCountUtil.release(msg);
            }
        }).connect(address).sync().channel();
    }

    @AfterEach
    void close() {
        client.close().awaitUninterruptibly();
        server.close().awaitUninterruptibly();
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Test
    void a_burst_far_over_the_write_buffer_reaches_a_reading_client_without_the_connection_reading_as_full() throws Exception {
        ChannelHandlerContext ctx = serverSide.get(5, TimeUnit.SECONDS);
        BrokerStats stats = new BrokerStats();
        ConnectionOutbox outbox = new ConnectionOutbox(ctx, null, stats, 100_000, 64L * 1024 * 1024);
        int messages = 32 * HIGH_WATER_MARK / PAYLOAD_BYTES; // 32 times the server's high-water mark
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ctx.executor().execute(() -> {
            busy.countDown();
            awaitQuietly(release); // the loop is busy elsewhere: every message below waits in the outbox
        });
        assertThat(busy.await(5, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < messages; i++) {
            assertThat(outbox.isWritable()).as("writable before message %d", i).isTrue();
            outbox.publish(new Message("burst/" + i, new byte[PAYLOAD_BYTES], 0, false), 0, false);
        }
        release.countDown();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (received.get() < messages && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(received.get()).isEqualTo(messages);
        // Written in parts of about 32 KiB, each flushed to the reading peer at once: the pending bytes never reach
        // the high-water mark, so a QoS 0 message handed over meanwhile from another loop would not be dropped.
        assertThat(becameUnwritable.get()).isZero();
        assertThat(outbox.isWritable()).isTrue();
    }

    @Test
    void a_full_outbox_reads_as_not_writable_until_its_loop_has_written_it() throws Exception {
        ChannelHandlerContext ctx = serverSide.get(5, TimeUnit.SECONDS);
        ConnectionOutbox outbox = new ConnectionOutbox(ctx, null, new BrokerStats(), 10, 64L * 1024 * 1024);
        CountDownLatch release = new CountDownLatch(1);
        ctx.executor().execute(() -> awaitQuietly(release));
        for (int i = 0; i < 10; i++) {
            outbox.publish(new Message("full/" + i, new byte[16], 0, false), 0, false);
        }
        assertThat(outbox.isWritable()).isFalse(); // mqtt.max-outgoing-messages reached: QoS 0 would be dropped
        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (received.get() < 10 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(received.get()).isEqualTo(10);
        assertThat(outbox.isWritable()).isTrue();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
