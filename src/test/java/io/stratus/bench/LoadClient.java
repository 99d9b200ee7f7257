package io.stratus.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The load tool's client side: a few event loops shared by every connection, epoll where available; over TLS
 * ({@link BenchTls}) when made with it.
 */
final class LoadClient implements AutoCloseable {
    private final EventLoopGroup group;
    private final boolean epoll = Epoll.isAvailable();
    private final InetSocketAddress server;
    private final BenchTls tls;

    LoadClient(InetSocketAddress server, int threads) {
        this(server, threads, null);
    }

    /** A client whose connections go over TLS when {@code tls} is not null. */
    LoadClient(InetSocketAddress server, int threads, BenchTls tls) {
        this.server = server;
        this.tls = tls;
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(threads, io);
    }

    /** Connects from 127.0.0.1 and completes after CONNACK 0. */
    CompletableFuture<LoadConnection> connect(LoadConnection.Login login, int keepAliveSeconds, LoadConnection.Handler handler) {
        return connect(login, keepAliveSeconds, handler, null);
    }

    /** Connects from {@code local} (any port) and completes after CONNACK 0. */
    CompletableFuture<LoadConnection> connect(LoadConnection.Login login, int keepAliveSeconds, LoadConnection.Handler handler,
                                              InetAddress local) {
        return connect(login, keepAliveSeconds, handler, local, null);
    }

    /**
     * Connects on {@code loop} (a loop of this client's group, or the group): called from that loop, as the
     * next connection of a chain, it registers and connects without a hand-over between threads.
     */
    CompletableFuture<LoadConnection> connect(LoadConnection.Login login, int keepAliveSeconds, LoadConnection.Handler handler,
                                              InetAddress local, EventLoopGroup loop) {
        return connect(login, true, keepAliveSeconds, handler, local, loop);
    }

    /** As above, with the CONNECT's clean-session flag: false asks the server to keep (and resume) the session. */
    CompletableFuture<LoadConnection> connect(LoadConnection.Login login, boolean cleanSession, int keepAliveSeconds,
                                              LoadConnection.Handler handler, InetAddress local, EventLoopGroup loop) {
        LoadConnection c = new LoadConnection(login, cleanSession, keepAliveSeconds, handler);
        Bootstrap b = new Bootstrap()
                .group(loop == null ? group : loop)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                .handler(tls == null ? c : new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // CONNECT, written when the channel is active, waits in the SslHandler for the handshake.
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()), c);
                    }
                });
        if (epoll && local != null) {
            // The port is picked at connect() from the 4-tuple, not at bind(): many more sockets per address.
            b.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
        }
        ChannelFuture f = local == null ? b.connect(server) : b.connect(server, new InetSocketAddress(local, 0));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                c.connected.completeExceptionally(done.cause());
            }
        });
        return c.connected;
    }

    /** Source addresses 127.0.0.1 .. 127.0.0.n, to spread many sockets over several addresses. */
    static InetAddress[] loopbackAddresses(int n) {
        InetAddress[] out = new InetAddress[n];
        for (int i = 0; i < n; i++) {
            try {
                out[i] = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (i + 1)});
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /**
     * Runs {@code step} for 0 .. n-1, {@code concurrency} chains at a time, until {@code deadlineNanos}: a chain takes
     * its next step on the thread that completed its previous one, which for a step that ends with a packet read is
     * that connection's event loop, so a step that connects on {@link #currentLoop()} needs no hand-over between
     * threads. Returns how many steps failed or had not finished by the deadline.
     */
    static int inChains(int n, int concurrency, long deadlineNanos, IntFunction<CompletableFuture<?>> step) {
        if (n == 0) {
            return 0;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        CompletableFuture<Void> all = new CompletableFuture<>();
        Runnable[] chain = new Runnable[1];
        chain[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= n || System.nanoTime() > deadlineNanos) {
                return;
            }
            step.apply(i).whenComplete((v, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                }
                if (finished.incrementAndGet() == n) {
                    all.complete(null);
                }
                if (e == null) {
                    chain[0].run();
                } else {
                    CompletableFuture.runAsync(chain[0]); // a failure may come inline: no recursion
                }
            });
        };
        for (int k = 0; k < Math.min(concurrency, n); k++) {
            chain[0].run();
        }
        try {
            all.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            // counted below: finished < n
        }
        return failed.get() + Math.max(0, n - finished.get());
    }

    /** The event loop running this code, or null (the whole group) on another thread. */
    static EventLoopGroup currentLoop() {
        EventExecutor e = ThreadExecutorMap.currentExecutor();
        return e instanceof EventLoop loop ? loop : null;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
