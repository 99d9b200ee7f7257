package io.stratus.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.stratus.broker.Topics;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The data-stream id rule: every id it accepts makes a valid MQTT topic name as {@code /{device_id}/{stream}}. */
class StreamIdsTest {

    static Stream<Arguments> ids() {
        return Stream.of(
                Arguments.of("plain name", "temperature", true),
                Arguments.of("type-7 number", "65535", true),
                Arguments.of("dots, dashes, underscore", "pm2.5_in-door", true),
                Arguments.of("space", "room temp", true),
                Arguments.of("dollar inside", "a$b", true),
                Arguments.of("dollar first (a level, not a topic start)", "$dp", true),
                Arguments.of("Chinese", "温度", true),
                Arguments.of("emoji (a surrogate pair)", "😀", true),
                Arguments.of("128 ASCII", "a".repeat(128), true),
                Arguments.of("128 emoji", "😀".repeat(128), true),
                Arguments.of("129 ASCII", "a".repeat(129), false),
                Arguments.of("129 emoji", "😀".repeat(129), false),
                Arguments.of("60,000 characters", "x".repeat(60_000), false),
                Arguments.of("empty", "", false),
                Arguments.of("multi-level wildcard", "#", false),
                Arguments.of("multi-level wildcard inside", "a#b", false),
                Arguments.of("single-level wildcard", "+", false),
                Arguments.of("single-level wildcard inside", "temp+1", false),
                Arguments.of("level separator", "a/b", false),
                Arguments.of("only a separator", "/", false),
                Arguments.of("NUL", "a\u0000b", false),
                Arguments.of("newline", "a\nb", false),
                Arguments.of("tab", "a\tb", false),
                Arguments.of("DEL", "a\u007Fb", false),
                Arguments.of("C1 control", "a\u0085b", false),
                Arguments.of("lone high surrogate", "a\uD83D", false),
                Arguments.of("lone low surrogate", "\uDE00a", false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void check_accepts_exactly_ids_that_make_one_topic_level(String name, String id, boolean valid) {
        String reason = StreamIds.check(id);

        if (valid) {
            assertThat(reason).as(name).isNull();
            assertThat(Topics.checkTopicName("/18446744073709551615/" + id)).as("forward topic of " + name).isNull();
        } else {
            assertThat(reason).as(name).isNotBlank();
        }
    }

    @Test
    void reasons_name_the_rule_without_repeating_the_id() {
        assertThat(StreamIds.check("a#b")).isEqualTo("wildcard '#' in data stream id");
        assertThat(StreamIds.check("x".repeat(60_000))).isEqualTo("data stream id longer than 128 characters");
        assertThat(StreamIds.check("a\u0000")).isEqualTo("null character in data stream id");
    }
}
