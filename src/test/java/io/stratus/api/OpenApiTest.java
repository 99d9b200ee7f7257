package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.e2e.TestPlatform;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code GET /openapi.json} (issue 4 item 6): the hand-written OpenAPI document describes exactly the routes
 * {@link ApiServer#endpoints()} lists, so a route added to {@code ApiServer.routes()} without a description, or a
 * description left behind by a removed route, fails here.
 */
class OpenApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");
    /** Javalin's path parameters: {@code {name}}, and {@code <name>} for one that may hold slashes. */
    private static final Pattern JAVALIN_PARAM = Pattern.compile("[{<]([^}>]+)[}>]");
    private static final Pattern OPENAPI_PARAM = Pattern.compile("\\{([^}]+)}");

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static HttpResponse<String> served;
    static JsonNode doc;

    @BeforeAll
    static void start() throws Exception {
        int port = platform.platform().api().port();
        // No credential: the description is open to anyone.
        served = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/openapi.json")).build(),
                HttpResponse.BodyHandlers.ofString());
        doc = JSON.readTree(served.body());
    }

    @Test
    void is_served_without_credentials_as_an_openapi_3_document() {
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(served.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        assertThat(doc.path("openapi").asText()).matches("3\\.[01]\\.\\d+");
        assertThat(doc.path("info").path("title").asText()).isNotBlank();
        assertThat(doc.path("info").path("version").asText()).isNotBlank();
        assertThat(doc.path("servers").path(0).path("url").asText()).isEqualTo("/");
        assertThat(doc.path("paths").size()).isGreaterThan(20);
    }

    @Test
    void declares_the_api_key_header_the_bearer_token_and_the_errno_envelope() {
        JsonNode schemes = doc.path("components").path("securitySchemes");
        assertThat(schemes.path("apiKey").path("type").asText()).isEqualTo("apiKey");
        assertThat(schemes.path("apiKey").path("in").asText()).isEqualTo("header");
        assertThat(schemes.path("apiKey").path("name").asText()).isEqualTo(Access.API_KEY);
        assertThat(schemes.path("bearer").path("type").asText()).isEqualTo("http");
        assertThat(schemes.path("bearer").path("scheme").asText()).isEqualTo("bearer");
        JsonNode envelope = doc.path("components").path("schemas").path("Envelope");
        assertThat(names(envelope.path("properties"))).containsExactly("errno", "error", "data");
        assertThat(envelope.path("required").toString()).isEqualTo("[\"errno\",\"error\"]");
    }

    @Test
    void every_registered_route_is_described() {
        Set<String> missing = new TreeSet<>(registered());
        missing.removeAll(described());

        assertThat(missing).as("routes in ApiServer.routes() without a description in openapi.json").isEmpty();
    }

    @Test
    void every_described_operation_is_a_registered_route() {
        Set<String> stale = new TreeSet<>(described());
        stale.removeAll(registered());

        assertThat(stale).as("operations in openapi.json that ApiServer does not serve").isEmpty();
    }

    @Test
    void every_path_parameter_is_declared_and_every_declared_one_is_in_the_path() {
        List<String> problems = new ArrayList<>();
        forEachOperation((path, method, operation) -> {
            Set<String> inTemplate = new TreeSet<>();
            Matcher m = OPENAPI_PARAM.matcher(path);
            while (m.find()) {
                inTemplate.add(m.group(1));
            }
            Set<String> declared = new TreeSet<>();
            List<JsonNode> parameters = new ArrayList<>();
            doc.path("paths").path(path).path("parameters").forEach(parameters::add);
            operation.path("parameters").forEach(parameters::add);
            for (JsonNode p : parameters) {
                JsonNode resolved = resolve(p);
                if (resolved.path("in").asText().equals("path")) {
                    declared.add(resolved.path("name").asText());
                    if (!resolved.path("required").asBoolean()) {
                        problems.add(method + " " + path + ": path parameter " + resolved.path("name").asText() + " not required");
                    }
                }
                if (!resolved.has("schema")) {
                    problems.add(method + " " + path + ": parameter " + resolved.path("name").asText() + " has no schema");
                }
            }
            if (!declared.equals(inTemplate)) {
                problems.add(method + " " + path + ": path has " + inTemplate + ", declared " + declared);
            }
        });

        assertThat(problems).isEmpty();
    }

    @Test
    void every_operation_has_a_unique_operation_id_and_a_200_response() {
        List<String> problems = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        forEachOperation((path, method, operation) -> {
            String id = operation.path("operationId").asText();
            if (id.isEmpty()) {
                problems.add(method + " " + path + ": no operationId");
            } else if (!ids.add(id)) {
                problems.add(method + " " + path + ": operationId " + id + " used twice");
            }
            // The one exception: GET / only redirects to the console.
            String success = method.equals("GET") && path.equals("/") ? "302" : "200";
            if (!operation.path("responses").has(success)) {
                problems.add(method + " " + path + ": no " + success + " response");
            }
        });

        assertThat(problems).isEmpty();
        assertThat(ids).hasSameSizeAs(described());
    }

    @Test
    void every_reference_resolves() {
        List<String> dangling = new ArrayList<>();
        collectRefs(doc, dangling);

        assertThat(dangling).as("$ref targets missing from the document").isEmpty();
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** "METHOD /path" of every route Javalin serves, with its path parameters written the OpenAPI way. */
    private static Set<String> registered() {
        Set<String> out = new TreeSet<>();
        for (String endpoint : platform.platform().api().endpoints()) {
            int space = endpoint.indexOf(' ');
            out.add(endpoint.substring(0, space) + " " + JAVALIN_PARAM.matcher(endpoint.substring(space + 1)).replaceAll("{$1}"));
        }
        return out;
    }

    /** "METHOD /path" of every operation the document describes. */
    private static Set<String> described() {
        Set<String> out = new TreeSet<>();
        forEachOperation((path, method, operation) -> out.add(method + " " + path));
        return out;
    }

    @FunctionalInterface
    private interface OperationVisitor {
        void visit(String path, String method, JsonNode operation);
    }

    private static void forEachOperation(OperationVisitor visitor) {
        for (Map.Entry<String, JsonNode> path : doc.path("paths").properties()) {
            for (Map.Entry<String, JsonNode> entry : path.getValue().properties()) {
                if (HTTP_METHODS.contains(entry.getKey())) {
                    visitor.visit(path.getKey(), entry.getKey().toUpperCase(Locale.ROOT), entry.getValue());
                }
            }
        }
    }

    /** A node, or the node its local {@code $ref} ("#/a/b") names. */
    private static JsonNode resolve(JsonNode node) {
        String ref = node.path("$ref").asText(null);
        return ref == null ? node : doc.at(ref.substring(1));
    }

    private static void collectRefs(JsonNode node, List<String> dangling) {
        if (node.isObject()) {
            String ref = node.path("$ref").asText(null);
            if (ref != null && (!ref.startsWith("#/") || doc.at(ref.substring(1)).isMissingNode())) {
                dangling.add(ref);
            }
        }
        node.forEach(child -> collectRefs(child, dangling));
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
