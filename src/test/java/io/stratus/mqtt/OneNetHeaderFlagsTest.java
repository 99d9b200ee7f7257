package io.stratus.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The stream as the decoder sees it behind {@link OneNetHeaderFlags}: only the type byte of a SUBSCRIBE, UNSUBSCRIBE
 * or PUBREL with flags 0000 changes, wherever the reads split the stream, and never a byte inside a packet.
 */
class OneNetHeaderFlagsTest {
    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    record Case(String name, String sent, String decoded) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        String longPayload = " 60".repeat(200); // PUBREL's type byte inside a body that needs two length bytes
        return Stream.of(
                // OneNET's C SDK: SUBSCRIBE 80, UNSUBSCRIBE A0 (OneNET device protocol document, 2.3 and 2.6)
                new Case("SUBSCRIBE 0000", "80 08 00 01 00 03 61 2F 62 00", "82 08 00 01 00 03 61 2F 62 00"),
                new Case("UNSUBSCRIBE 0000", "A0 07 00 02 00 03 61 2F 62", "A2 07 00 02 00 03 61 2F 62"),
                new Case("PUBREL 0000", "60 02 00 01", "62 02 00 01"),
                // standard packets pass untouched
                new Case("SUBSCRIBE 0010", "82 08 00 01 00 03 61 2F 62 00", "82 08 00 01 00 03 61 2F 62 00"),
                new Case("PUBREL 0010", "62 02 00 01", "62 02 00 01"),
                // other bad flags are left for the decoder to refuse [MQTT-2.2.2-2]
                new Case("SUBSCRIBE 0001", "81 08 00 01 00 03 61 2F 62 00", "81 08 00 01 00 03 61 2F 62 00"),
                new Case("SUBSCRIBE 0100", "84 08 00 01 00 03 61 2F 62 00", "84 08 00 01 00 03 61 2F 62 00"),
                new Case("PUBREL 0100", "64 02 00 01", "64 02 00 01"),
                // bytes that look like those types inside bodies are payload, not headers
                new Case("PUBLISH carrying 80 A0 60, then PUBREL 0000",
                        "30 06 00 01 61 80 A0 60 60 02 00 01", "30 06 00 01 61 80 A0 60 62 02 00 01"),
                new Case("two-byte remaining length",
                        "30 CB 01 00 01 61" + longPayload + " 80 08 00 01 00 03 61 2F 62 00",
                        "30 CB 01 00 01 61" + longPayload + " 82 08 00 01 00 03 61 2F 62 00"),
                new Case("empty bodies (PINGREQ, DISCONNECT) between", "C0 00 60 02 00 07 C0 00 A0 07 00 02 00 03 61 2F 62",
                        "C0 00 62 02 00 07 C0 00 A2 07 00 02 00 03 61 2F 62"),
                // section 2.2.3: after a fifth length byte the stream is the decoder's to refuse, unchanged
                new Case("remaining length of five bytes", "30 FF FF FF FF 7F 60 02 00 01", "30 FF FF FF FF 7F 60 02 00 01"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void only_onenet_header_flags_are_set_wherever_reads_split(Case c) {
        byte[] sent = HEX.parseHex(c.sent());
        for (int split = 0; split <= sent.length; split++) {
            assertThat(decoded(sent, split, split == 0 ? 1 : sent.length)).as("split at %d", split).isEqualTo(c.decoded());
        }
    }

    /** Feeds {@code sent} in a first read of {@code first} bytes, then reads of {@code rest} bytes. */
    private static String decoded(byte[] sent, int first, int rest) {
        EmbeddedChannel channel = new EmbeddedChannel(new OneNetHeaderFlags());
        int at = 0;
        int size = first == 0 ? rest : first;
        while (at < sent.length) {
            int n = Math.min(size, sent.length - at);
            channel.writeInbound(Unpooled.copiedBuffer(sent, at, n));
            at += n;
            size = rest;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuf b; (b = channel.readInbound()) != null; ) {
            out.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }
        channel.finishAndReleaseAll();
        return HEX.formatHex(out.toByteArray()).toUpperCase();
    }
}
