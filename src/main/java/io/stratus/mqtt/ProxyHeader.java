package io.stratus.mqtt;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol.AddressFamily;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PROXY protocol header (v1 text and v2 binary: HAProxy's {@code send-proxy} and {@code send-proxy-v2}) that
 * starts every connection to the MQTT listeners with {@code mqtt.proxy-protocol}. Its source address becomes the
 * client's address (logs, the login throttle, the TLS handshake cap per address), and only then does the listener's
 * pipeline (TLS, WebSocket, MQTT) go on. A missing, malformed or late header (not complete within
 * {@code mqtt.connect-timeout-seconds}) closes the connection and is counted. A LOCAL header, the proxy's own health
 * check, keeps the socket's address.
 */
final class ProxyHeader extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHeader.class);
    private final Consumer<Channel> then;
    private final LongAdder failed;
    private ScheduledFuture<?> deadline;
    private boolean refused;

    private ProxyHeader(Consumer<Channel> then, LongAdder failed) {
        this.then = then;
        this.failed = failed;
    }

    /** Reads the header first; {@code then} puts the rest of the listener's pipeline on the connection once it came. */
    static void addTo(Channel ch, long timeoutMillis, LongAdder failed, Consumer<Channel> then) {
        ProxyHeader header = new ProxyHeader(then, failed);
        ch.pipeline().addLast("proxy-protocol", new HAProxyMessageDecoder()).addLast("proxy-header", header);
        header.deadline = ch.eventLoop().schedule(() -> header.refuse(ch, "no PROXY protocol header within "
                + timeoutMillis + " ms"), timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg); // not reached: the decoder passes nothing else on before its header
            return;
        }
        try {
            deadline.cancel(false);
            InetSocketAddress client = sourceOf(header);
            if (client != null) {
                ctx.channel().attr(ClientAddress.TOLD).set(client);
            }
        } finally {
            header.release();
        }
        ctx.pipeline().remove(this);
        then.accept(ctx.channel());
        // The handlers just added missed the connection's start; the decoder hands them what followed the header.
        ctx.pipeline().fireChannelActive();
    }

    private static InetSocketAddress sourceOf(HAProxyMessage header) {
        AddressFamily family = header.proxiedProtocol().addressFamily();
        if (header.command() != HAProxyCommand.PROXY || header.sourceAddress() == null
                || (family != AddressFamily.AF_IPv4 && family != AddressFamily.AF_IPv6)) {
            return null;
        }
        InetAddress address = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress()); // a literal: no lookup
        return address == null ? null : new InetSocketAddress(address, header.sourcePort());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        deadline.cancel(false);
        // The decoder has closed the connection already (as the protocol asks) by the time its error comes here.
        refuse(ctx.channel(), "bad PROXY protocol header: " + cause.getMessage());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        deadline.cancel(false); // gone before its header: nothing to refuse
        ctx.fireChannelInactive();
    }

    private void refuse(Channel ch, String why) {
        if (!refused) {
            refused = true;
            failed.increment();
            log.info("{} closed: {}", ch.remoteAddress(), why);
            ch.close();
        }
    }
}
