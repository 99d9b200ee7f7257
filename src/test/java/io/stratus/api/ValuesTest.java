package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Stored values go into replies as valid JSON: numbers as stored, everything else parsed (or quoted when not JSON). */
class ValuesTest {

    @ParameterizedTest
    @ValueSource(strings = {"0", "-0", "7", "-12", "20.5", "1.0E23", "1e-7", "3E+2", "12345678901234567890123", "0.000"})
    void json_numbers_are_numbers(String text) {
        assertThat(Values.isNumber(text)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1 ", " 1", "NaN", "Infinity", "0x10", "1.2.3",
            "\"1\"", "true", "null", "{}", "1,2"})
    void other_text_is_not_a_number(String text) {
        assertThat(Values.isNumber(text)).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "20.5|20.5",
            "-3|-3",
            "\"on\"|\"on\"",
            "{\"a\":[1,true,null]}|{\"a\":[1,true,null]}",
            "not json|\"not json\"",
            "01|\"01\""})
    void write_gives_valid_json_for_every_stored_value(String stored, String written) throws IOException {
        StringWriter text = new StringWriter();
        try (JsonGenerator out = JsonBody.MAPPER.createGenerator(text)) {
            out.writeStartArray();
            Values.write(out, stored);
            out.writeEndArray();
        }
        assertThat(text.toString()).isEqualTo("[" + written + "]");
        assertThat(JsonBody.MAPPER.readTree(text.toString()).get(0)).isEqualTo(Values.parse(stored));
    }
}
