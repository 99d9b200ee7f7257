package io.stratus.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SubjectsTest {
    private final Subjects subjects = new Subjects("stratus");

    @Test
    void plain_levels_stay_as_they_are_and_an_empty_level_is_a_lone_percent() {
        assertThat(subjects.topic(Subjects.Kind.QOS0, 42, "/8029377/temp")).isEqualTo("stratus.m.42.%.8029377.temp");
        assertThat(subjects.topic(Subjects.Kind.QOS1, 7, "a/b-c_D9")).isEqualTo("stratus.q.7.a.b-c_D9");
        assertThat(subjects.topic(Subjects.Kind.QOS0, 7, "a//b/")).isEqualTo("stratus.m.7.a.%.b.%");
    }

    @Test
    void nats_wildcards_separators_white_space_and_utf8_are_escaped() {
        assertThat(Subjects.token(".")).isEqualTo("%2E");
        assertThat(Subjects.token("*")).isEqualTo("%2A");
        assertThat(Subjects.token(">")).isEqualTo("%3E");
        assertThat(Subjects.token("$dp")).isEqualTo("%24dp");
        assertThat(Subjects.token("%")).isEqualTo("%25");
        assertThat(Subjects.token("a b")).isEqualTo("a%20b");
        assertThat(Subjects.token("中")).isEqualTo("%E4%B8%AD");
    }

    @Test
    void every_level_comes_back_from_its_token_and_tokens_are_never_empty_wildcards_or_spaced() {
        Random random = new Random(18);
        String alphabet = "ab./*>$% #+\t中é-_9";
        for (int n = 0; n < 5_000; n++) {
            StringBuilder level = new StringBuilder();
            for (int i = random.nextInt(6); i > 0; i--) {
                level.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String l = level.toString().replace("/", ""); // a level holds no separator
            String token = Subjects.token(l);
            assertThat(token).isNotEmpty().isNotIn("*", ">").doesNotContain(".", " ", "\t");
            assertThat(Subjects.level(token)).as("level of %s", token).isEqualTo(l);
        }
    }

    @Test
    void only_tokens_the_encoding_makes_decode() {
        assertThat(Subjects.level("%2e")).as("lower-case hex is never made").isNull();
        assertThat(Subjects.level("%4")).isNull();
        assertThat(Subjects.level("a.b")).isNull();
        assertThat(Subjects.level("")).isNull();
        assertThat(Subjects.level(Subjects.LONG)).isNull();
    }

    @Test
    void a_subject_decodes_to_its_product_and_topic() {
        String topic = "/dev 1/a.b/*/>/$x/中/";
        Subjects.Decoded d = subjects.decode(subjects.topic(Subjects.Kind.QOS1, 5, topic));
        assertThat(d).isEqualTo(new Subjects.Decoded(Subjects.Kind.QOS1, 5, topic));
        assertThat(subjects.decode("other.m.5.a")).isNull();
        assertThat(subjects.decode("stratus.x.5.a")).isNull();
        assertThat(subjects.decode("stratus.m.five.a")).isNull();
        assertThat(subjects.decode("stratus.m.5.a%2")).isNull();
    }

    @Test
    void filters_map_plus_to_star_and_a_trailing_hash_to_the_parent_and_everything_below() {
        assertThat(subjects.filter(Subjects.Kind.QOS0, 3, "a/+/c")).containsExactly("stratus.m.3.a.*.c");
        assertThat(subjects.filter(Subjects.Kind.QOS0, 3, "a/#")).containsExactly("stratus.m.3.a", "stratus.m.3.a.>");
        assertThat(subjects.filter(Subjects.Kind.QOS0, 3, "#")).containsExactly("stratus.m.3.>");
        assertThat(subjects.filter(Subjects.Kind.QOS0, 3, "+/#")).containsExactly("stratus.m.3.*", "stratus.m.3.*.>");
        assertThat(subjects.filter(Subjects.Kind.QOS0, 3, "/+")).containsExactly("stratus.m.3.%.*");
    }

    @Test
    void a_subject_over_the_limit_becomes_the_products_long_subject() {
        String longTopic = "a/" + "中".repeat(400); // 1,200 bytes escaped to 3,600 characters
        assertThat(subjects.topic(Subjects.Kind.QOS0, 9, longTopic)).isEqualTo("stratus.m.9.%long");
        assertThat(subjects.decode("stratus.m.9.%long")).isEqualTo(new Subjects.Decoded(Subjects.Kind.QOS0, 9, null));
        assertThat(subjects.filter(Subjects.Kind.QOS0, 9, longTopic)).isEqualTo(List.of("stratus.m.9.%long"));
        assertThat(subjects.topic(Subjects.Kind.QOS0, 9, "a/" + "b".repeat(900))).startsWith("stratus.m.9.a.bbb");
    }

    @Test
    void a_prefix_must_be_plain_subject_tokens() {
        assertThat(new Subjects("acme.stratus").topic(Subjects.Kind.QOS0, 1, "t")).isEqualTo("acme.stratus.m.1.t");
        for (String bad : List.of("", ".a", "a.", "a..b", "a.*", "a.>", "a b")) {
            assertThatThrownBy(() -> new Subjects(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
