package io.stratus.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Accepts the fixed headers OneNET's device SDKs send: SUBSCRIBE ({@code 80}), UNSUBSCRIBE ({@code A0}) and PUBREL
 * ({@code 60}) with flags {@code 0000}, as OneNET's device protocol document draws them, where MQTT 3.1.1 requires
 * {@code 0010} [MQTT-3.8.1-1] [MQTT-3.10.1-1] [MQTT-3.6.1-1]. It sits in front of the decoder and sets the one bit
 * in place, so the decoder and everything behind it see a standard packet; any other bad flags still reach the
 * decoder unchanged and close the connection.
 *
 * <p>It follows packet boundaries through the stream at the cost of reading each fixed header once: the type byte,
 * then the remaining length (1-4 bytes, possibly split across reads), then it skips that many bytes. After a
 * remaining length the decoder refuses too (a fifth length byte), it stops looking: the decoder closes the
 * connection on the same bytes.
 */
final class OneNetHeaderFlags extends ChannelInboundHandlerAdapter {
    private static final int SUBSCRIBE = 0x80;
    private static final int UNSUBSCRIBE = 0xA0;
    private static final int PUBREL = 0x60;
    /** The flags 3.1.1 requires of those three: QoS 1. */
    private static final int REQUIRED_FLAGS = 0x02;

    /** Body bytes of the current packet still to pass; meaningful when neither a type nor a length is being read. */
    private long bodyLeft;
    private boolean readingLength;
    private int length;
    private int lengthBytes;
    /** The stream is past a header the decoder will refuse; nothing is rewritten any more. */
    private boolean lost;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!lost && msg instanceof ByteBuf buf && !buf.isReadOnly()) {
            fix(buf);
        }
        ctx.fireChannelRead(msg);
    }

    private void fix(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            if (bodyLeft > 0) {
                long skip = Math.min(bodyLeft, end - i);
                bodyLeft -= skip;
                i += (int) skip;
            } else if (readingLength) {
                int b = buf.getUnsignedByte(i++);
                length |= (b & 0x7F) << (7 * lengthBytes);
                lengthBytes++;
                if ((b & 0x80) == 0) {
                    readingLength = false;
                    bodyLeft = length;
                } else if (lengthBytes == 4) {
                    lost = true; // section 2.2.3: at most four bytes
                    return;
                }
            } else {
                int header = buf.getUnsignedByte(i);
                if (header == SUBSCRIBE || header == UNSUBSCRIBE || header == PUBREL) {
                    buf.setByte(i, header | REQUIRED_FLAGS);
                }
                i++;
                readingLength = true;
                length = 0;
                lengthBytes = 0;
            }
        }
    }
}
