package io.stratus.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.e2e.TestPlatform;
import java.io.IOException;
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
 * description left behind by a removed route, fails here. So does an operation whose {@code x-stratus-status-codes}
 * (which HTTP statuses its errno answers come with) is not what the server does.
 */
class OpenApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");
    /** Javalin's path parameters: {@code {name}}, and {@code <name>} for one that may hold slashes. */
    private static final Pattern JAVALIN_PARAM = Pattern.compile("[{<]([^}>]+)[}>]");
    private static final Pattern OPENAPI_PARAM = Pattern.compile("\\{([^}]+)}");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** The statuses a {@code rest} operation sends that an {@code onenet} one sends only with api.status-codes=rest. */
    private static final Set<String> REST_STATUSES = Set.of("401", "403", "429", "503");

    @RegisterExtension
    static final TestPlatform platform = TestPlatform.perClass();
    static HttpResponse<String> served;
    static JsonNode doc;

    @BeforeAll
    static void start() throws Exception {
        int port = platform.platform().api().port();
        // No credential: the description is open to anyone.
        served = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/openapi.json")).build(),
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
    void every_operation_says_which_statuses_its_errors_come_with() {
        List<String> problems = new ArrayList<>();
        forEachOperation((path, method, operation) -> {
            String style = operation.path("x-stratus-status-codes").asText();
            if (!style.equals("onenet") && !style.equals("rest")) {
                problems.add(method + " " + path + ": x-stratus-status-codes is \"" + style + "\", not onenet or rest");
                return;
            }
            for (Map.Entry<String, JsonNode> response : operation.path("responses").properties()) {
                String ref = response.getValue().path("$ref").asText();
                if (REST_STATUSES.contains(response.getKey()) && ref.endsWith("IfRest") != style.equals("onenet")) {
                    problems.add(method + " " + path + ": a " + style + " operation answers " + response.getKey() + " with " + ref);
                }
            }
        });

        assertThat(problems).isEmpty();
    }

    @Test
    void each_operation_refuses_a_caller_with_the_status_its_x_stratus_status_codes_says() throws Exception {
        // The server runs with the default api.status-codes=onenet: errno 2 and 3 come with HTTP 200 on onenet
        // operations, 401 and 403 on rest ones. Open operations are called with their own wrong credential.
        Map<String, WrongCredential> wrongCredentials = Map.of(
                "POST /auth/login", new WrongCredential("", "{\"username\":\"admin\",\"password\":\"wrong\"}"),
                "POST /register_de", new WrongCredential("?register_code=wrong", "{\"sn\":\"probe\"}"));
        List<String> problems = new ArrayList<>();
        int[] probed = {0};
        forEachOperation((path, method, operation) -> {
            boolean onenet = operation.path("x-stratus-status-codes").asText().equals("onenet");
            String target = OPENAPI_PARAM.matcher(path).replaceAll("1");
            String body = null;
            int expected = onenet ? 200 : 401;
            if (operation.path("security").isEmpty()) {
                WrongCredential wrong = wrongCredentials.get(method + " " + path);
                if (wrong == null) {
                    return;
                }
                target += wrong.query();
                body = wrong.body();
                expected = onenet ? 200 : 403;
            }
            HttpResponse<String> r = send(method, target, body);
            probed[0]++;
            if (r.statusCode() != expected) {
                problems.add(method + " " + path + " (" + (onenet ? "onenet" : "rest") + "): HTTP " + r.statusCode() + ", expected "
                        + expected + ": " + r.body());
            }
        });

        assertThat(problems).isEmpty();
        assertThat(probed[0]).isGreaterThan(50);
    }

    @Test
    void every_reference_resolves() {
        List<String> dangling = new ArrayList<>();
        collectRefs(doc, dangling);

        assertThat(dangling).as("$ref targets missing from the document").isEmpty();
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** How an open operation is called with a credential of its own that is wrong. */
    private record WrongCredential(String query, String body) {
    }

    /** A request without a credential header. */
    private static HttpResponse<String> send(String method, String target, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + platform.platform().api().port() + target))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

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
