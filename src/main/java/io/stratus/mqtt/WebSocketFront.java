package io.stratus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * MQTT over WebSocket (MQTT 3.1.1 section 6): an HTTP upgrade at {@link #PATH} with the subprotocol {@code mqtt}, then
 * binary frames carry the MQTT byte stream to the same pipeline as a TCP connection (decoder, limits, login, product
 * rules). The frames are only a transport: a packet split across frames, and several packets in one frame, reach the
 * MQTT decoder as the bytes they are. Outbound, each write of the MQTT encoder goes out as one binary frame.
 *
 * <p>Bounds: the upgrade request may be at most {@link #MAX_UPGRADE_BYTES}; a frame larger than
 * {@code mqtt.max-packet-bytes} (plus a fixed header) closes the connection with 1009 (message too big); text frames
 * close it with 1003 (MQTT is binary); another path gets HTTP 404.
 */
final class WebSocketFront {
    static final String PATH = "/mqtt";
    /** Browsers send their cookies and a few headers: 8 KiB is plenty, and all an unauthenticated socket may hold. */
    private static final int MAX_UPGRADE_BYTES = 8 * 1024;

    private WebSocketFront() {
    }

    /** Puts the WebSocket handshake and framing in front of a connection's MQTT handlers (after TLS, for wss). */
    static void addTo(Channel ch, int maxFrameBytes, long handshakeTimeoutMillis) {
        WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(PATH)
                .subprotocols("mqtt")
                .handshakeTimeoutMillis(handshakeTimeoutMillis)
                .decoderConfig(WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(maxFrameBytes)
                        .allowExtensions(false).build())
                .build();
        ch.pipeline()
                .addLast("http", new HttpServerCodec(4096, MAX_UPGRADE_BYTES, MAX_UPGRADE_BYTES))
                .addLast("http-upgrade", new HttpObjectAggregator(MAX_UPGRADE_BYTES))
                .addLast("websocket", new WebSocketServerProtocolHandler(ws))
                .addLast("websocket-frames", new Frames());
    }

    /** Binary frames to bytes and bytes to binary frames; anything else ends the connection. */
    private static final class Frames extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
                ByteBuf bytes = ((WebSocketFrame) msg).content();
                ctx.fireChannelRead(bytes); // the frame's buffer, handed on: released by whoever reads it
            } else if (msg instanceof FullHttpRequest request) {
                // Not the WebSocket path (the protocol handler passes those on): nothing else is served here.
                ReferenceCountUtil.release(request);
                DefaultFullHttpResponse notFound = new DefaultFullHttpResponse(request.protocolVersion(),
                        HttpResponseStatus.NOT_FOUND);
                HttpUtil.setContentLength(notFound, 0);
                ctx.writeAndFlush(notFound).addListener(ChannelFutureListener.CLOSE);
            } else if (msg instanceof WebSocketFrame frame) {
                ReferenceCountUtil.release(frame); // a text frame: MQTT over WebSocket is binary only
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.fireChannelRead(msg);
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf bytes ? new BinaryWebSocketFrame(bytes) : msg, promise);
        }
    }
}
