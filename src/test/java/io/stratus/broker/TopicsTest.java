package io.stratus.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class TopicsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # topic name   | valid
            a              | true
            a/b/c          | true
            /              | true
            /a             | true
            a/             | true
            a//b           | true
            //             | true
            $dp            | true
            $SYS/x         | true
            /9278/9527     | true
            温度/室内       | true
            '😀/x'         | true
            'a b'          | true
            ''             | false
            +              | false
            '#'            | false
            a/+            | false
            a/#            | false
            a+             | false
            a#b            | false
            $SYS/#         | false
            """)
    void checkTopicName_accepts_valid_names_and_rejects_wildcards_MQTT_3_3_2_2(String topic, boolean valid) {
        String reason = Topics.checkTopicName(topic);

        if (valid) {
            assertThat(reason).as(topic).isNull();
        } else {
            assertThat(reason).as(topic).isNotBlank();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # filter       | valid
            a              | true
            a/b/c          | true
            /              | true
            a//b           | true
            +              | true
            '#'            | true
            +/+            | true
            /+             | true
            +/             | true
            /#             | true
            a/#            | true
            a/+/c          | true
            +/#            | true
            a/+/#          | true
            $dp            | true
            $SYS/#         | true
            温度/+          | true
            ''             | false
            a/#/b          | false
            '#/a'          | false
            '##'           | false
            a#             | false
            a/b#           | false
            a/#b           | false
            a/b+           | false
            a/+b           | false
            a/++           | false
            a+/b           | false
            ++             | false
            +#             | false
            '#+'           | false
            """)
    void checkFilter_places_wildcards_per_MQTT_4_7_1_2_and_MQTT_4_7_1_3(String filter, boolean valid) {
        String reason = Topics.checkFilter(filter);

        if (valid) {
            assertThat(reason).as(filter).isNull();
        } else {
            assertThat(reason).as(filter).isNotBlank();
        }
    }

    static Stream<Arguments> bad_characters() {
        return Stream.of(
                Arguments.of("null character MQTT_1_5_3_2", "\u0000"),
                Arguments.of("null character inside", "a/b\u0000c"),
                Arguments.of("lone high surrogate", "a/\uD83D"),
                Arguments.of("lone low surrogate", "\uDE00/a"),
                Arguments.of("reversed surrogate pair", "\uDE00\uD83D"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bad_characters")
    void names_and_filters_with_bad_characters_are_rejected(String why, String text) {
        assertThat(Topics.checkTopicName(text)).isNotBlank();
        assertThat(Topics.checkFilter(text)).isNotBlank();
    }

    static Stream<Arguments> lengths() {
        return Stream.of(
                Arguments.of("1024 ASCII", "a".repeat(1024), true),
                Arguments.of("1025 ASCII", "a".repeat(1025), false),
                Arguments.of("512 two-byte", "é".repeat(512), true),
                Arguments.of("512 two-byte + 1", "é".repeat(512) + "a", false),
                Arguments.of("341 three-byte + 1", "温".repeat(341) + "a", true), // 1023 + 1
                Arguments.of("341 three-byte + 2", "温".repeat(341) + "aa", false),
                Arguments.of("342 three-byte", "温".repeat(342), false), // 1026
                Arguments.of("256 four-byte", "😀".repeat(256), true),
                Arguments.of("255 four-byte + 4", "😀".repeat(255) + "a/b/", true),
                Arguments.of("255 four-byte + 5", "😀".repeat(255) + "a/b/c", false),
                Arguments.of("1024 slashes", "/".repeat(1024), true),
                Arguments.of("1025 slashes", "/".repeat(1025), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lengths")
    void names_and_filters_are_at_most_1024_utf8_bytes_D26(String why, String text, boolean valid) {
        assertThat(text.getBytes(StandardCharsets.UTF_8).length > Topics.MAX_TOPIC_BYTES).isEqualTo(!valid);

        if (valid) {
            assertThat(Topics.checkTopicName(text)).isNull();
            assertThat(Topics.checkFilter(text)).isNull();
        } else {
            assertThat(Topics.checkTopicName(text)).contains("1024");
            assertThat(Topics.checkFilter(text)).contains("1024");
        }
    }

    @Test
    void replacement_character_is_a_valid_character_MQTT_1_5_3_1() {
        // Only malformed UTF-8 is refused, and the decoder does that; U+FFFD itself is a legal character.
        assertThat(Topics.checkTopicName("a/\uFFFD")).isNull();
        assertThat(Topics.checkFilter("\uFFFD/+")).isNull();
    }

    @Test
    void a_filter_of_1024_bytes_may_end_with_a_wildcard() {
        assertThat(Topics.checkFilter("a".repeat(1022) + "/#")).isNull();
        assertThat(Topics.checkFilter("a".repeat(1023) + "/#")).isNotNull();
        assertThat(Topics.checkFilter("a".repeat(1022) + "/+")).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # topic or filter | system
            $dp               | true
            $SYS/#            | true
            $crsp/1           | true
            $                 | true
            dp                | false
            a/$dp             | false
            /$dp              | false
            +                 | false
            '#'               | false
            ''                | false
            """)
    void isSystem_is_a_leading_dollar(String topic, boolean system) {
        assertThat(Topics.isSystem(topic)).isEqualTo(system);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # filter       | exact
            a              | true
            a/b/c          | true
            /              | true
            $dp            | true
            /9278/9527     | true
            +              | false
            '#'            | false
            a/+/c          | false
            a/#            | false
            $SYS/#         | false
            """)
    void isExact_means_no_wildcard(String filter, boolean exact) {
        assertThat(Topics.isExact(filter)).isEqualTo(exact);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /500000001/temp       | 500000001
            /500000001/t e m p    | 500000001
            /1/x                  | 1
            /0500000001/temp      | 0
            /500000001/a/b        | 0
            /500000001/           | 0
            /500000001            | 0
            500000001/temp        | 0
            //temp                | 0
            /5000x0001/temp       | 0
            /12345678901234567890/temp | 0
            /$dp/x                | 0
            """)
    void forwardDevice_names_the_device_of_a_forward_topic_D4(String topic, long device) {
        assertThat(Topics.forwardDevice(topic)).isEqualTo(device);
    }
}
