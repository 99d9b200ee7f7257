package io.stratus.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.fuzz.Mutator;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of {@link DpDecoder}: whatever the bytes, decode returns points or throws
 * {@link DpFormatException}, nothing else (no runtime exception, no error, no hang). Seeds: the repository's `$dp`
 * vectors and one valid payload per type. {@code -Dfuzz.inputs=1000000} for the long form, {@code -Dfuzz.seed} to replay.
 */
class DpDecoderFuzzTest {
    @Test
    void any_bytes_decode_to_points_or_a_dp_format_exception() throws Exception {
        int inputs = Mutator.inputs(50_000);
        long seed = Mutator.seed();
        Mutator mutator = new Mutator(seed, corpus());
        DpDecoder decoder = DpDecoder.defaults();
        DpDecoder oneStream = new DpDecoder(DpDecoder.DEFAULT_STRING_ZONE, DpDecoder.DEFAULT_BINARY_ZONE, DpDecoder.Type7Mode.ONE_STREAM);
        long accepted = 0;
        long rejected = 0;
        long started = System.nanoTime();
        for (int i = 0; i < inputs; i++) {
            byte[] input = mutator.next();
            try {
                List<Datapoint> points = (i % 2 == 0 ? decoder : oneStream).decode(input);
                assertThat(points.size()).isLessThanOrEqualTo(DpDecoder.MAX_POINTS);
                accepted++;
            } catch (DpFormatException expected) {
                rejected++;
            } catch (Throwable t) {
                throw new AssertionError("input " + i + " (seed " + seed + "): " + HexFormat.of().formatHex(input), t);
            }
        }
        System.out.printf("DpDecoder fuzz: %d inputs (seed %d), %d decoded, %d rejected with DpFormatException, %d ms%n",
                inputs, seed, accepted, rejected, (System.nanoTime() - started) / 1_000_000);
        assertThat(accepted).as("some mutants still decode: the fuzzer reaches past the header checks").isPositive();
    }

    static List<byte[]> corpus() throws Exception {
        List<byte[]> corpus = new ArrayList<>();
        try (InputStream in = DpDecoderFuzzTest.class.getResourceAsStream("/vectors/dp-vectors.json")) {
            for (JsonNode v : new ObjectMapper().readTree(in).get("vectors")) {
                corpus.add(HexFormat.of().parseHex(v.get("hex").asText()));
            }
        }
        corpus.add(DpDecoderTest.json(1, "{\"datastreams\":[{\"id\":\"t\",\"datapoints\":[{\"at\":\"2024-01-02 03:04:05.678\",\"value\":1},"
                + "{\"value\":{\"a\":[1,2.5e3,\"x\"]}}]}]}"));
        corpus.add(DpDecoderTest.json(3, "{\"t\":22.5,\"s\":\"text\",\"o\":{\"k\":true}}"));
        corpus.add(DpDecoderTest.json(4, "{\"t\":{\"2024-01-02 03:04:05\":1},\"u\":7}"));
        corpus.add(DpDecoderTest.string(5, ",;t,1;u,abc"));
        corpus.add(DpDecoderTest.type2("{\"ds_id\":\"bin\",\"desc\":\"d\"}", "blob".getBytes(StandardCharsets.UTF_8)));
        return corpus;
    }
}
