package io.stratus.mqtt;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.ReferenceCountUtil;
import io.stratus.transport.ByteStreams;
import io.stratus.transport.StreamLink;
import io.stratus.transport.StreamPeer;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * MQTT connections from another transport, through Netty's in-VM channels: each {@link #open} connects a client
 * {@link LocalChannel} to a local server channel whose children get the MQTT handlers, as a TCP connection does. The
 * first handler of each child tells the peer how many bytes the MQTT side read, so that the peer can stop reading its
 * client while the connection does not read (its back-pressure); the client channel hands the server's bytes to the
 * peer.
 */
final class LocalStreams implements ByteStreams, AutoCloseable {
    private final LocalAddress address = new LocalAddress(LocalStreams.class);
    private final AtomicLong ids = new AtomicLong();
    /** Connections between {@link #open} and their child's initialisation, by the client channel's local address. */
    private final Map<LocalAddress, Opening> opening = new ConcurrentHashMap<>();
    private EventLoopGroup group;
    private Channel server;

    private record Opening(InetSocketAddress client, StreamPeer peer) {
    }

    /** Listens in the VM; {@code addMqtt} adds the MQTT handlers to each connection. */
    void start(Consumer<Channel> addMqtt) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(0, LocalIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel ch) {
                        Opening o = opening.remove(ch.remoteAddress());
                        if (o == null) {
                            ch.close();
                            return;
                        }
                        ch.attr(ClientAddress.TOLD).set(o.client());
                        ch.pipeline().addLast("stream-consumed", new Consumed(o.peer()));
                        addMqtt.accept(ch);
                    }
                }).bind(address).sync().channel();
    }

    @Override
    public StreamLink open(InetSocketAddress client, StreamPeer peer) {
        if (server == null || !server.isActive()) {
            return null;
        }
        LocalAddress local = new LocalAddress("mqtt-stream-" + ids.incrementAndGet());
        opening.put(local, new Opening(client, peer));
        ChannelFuture connect = new Bootstrap().group(group).channel(LocalChannel.class).localAddress(local)
                .handler(new ToPeer(peer)).connect(address);
        // In the VM a connect is two tasks on the loops; waiting for it keeps the first bytes behind it.
        if (!connect.awaitUninterruptibly(5, TimeUnit.SECONDS) || !connect.isSuccess()) {
            opening.remove(local);
            connect.channel().close();
            return null;
        }
        Channel ch = connect.channel();
        return new StreamLink() {
            @Override
            public void receive(ByteBuffer bytes) {
                ch.writeAndFlush(Unpooled.copiedBuffer(bytes));
            }

            @Override
            public void close() {
                ch.close();
            }
        };
    }

    /** First on a server-side child: counts what the MQTT handlers read. */
    private static final class Consumed extends ChannelInboundHandlerAdapter {
        private final StreamPeer peer;

        Consumed(StreamPeer peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf bytes) {
                peer.consumed(bytes.readableBytes());
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** On the client channel: the server's bytes to the peer, and its close. */
    private static final class ToPeer extends ChannelInboundHandlerAdapter {
        private final StreamPeer peer;

        ToPeer(StreamPeer peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof ByteBuf bytes) {
                    ByteBuffer copy = ByteBuffer.allocate(bytes.readableBytes());
                    bytes.readBytes(copy);
                    peer.send(copy.flip());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            peer.close();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
